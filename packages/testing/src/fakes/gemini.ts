/**
 * A local Gemini API (`POST /{v1,v1beta}/models/{model}:streamGenerateContent?alt=sse`) so the real `@google/genai` SDK
 * runs against it (`httpOptions.baseUrl` = `url`). It checks the `x-goog-api-key` header, keeps every request, and
 * answers each with the next scripted reply (a queue) or, when the queue is empty, `respond` (default: a short text).
 *
 * A streamed reply is written as SSE frames whose data is a `GenerateContentResponse`: text parts
 * (`candidates[0].content.parts[].text`, role `model`), a function call part (`functionCall: { name, args }`), and a
 * last frame with `finishReason: "STOP"` and `usageMetadata` (`promptTokenCount`, `candidatesTokenCount`,
 * `totalTokenCount`). There is no end marker: the stream ending is the end of the answer. An error reply is an HTTP
 * status with Google's error body (`{ error: { code, message, status } }`), e.g. 503 UNAVAILABLE or 429
 * RESOURCE_EXHAUSTED.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GeminiStreamReply {
  /** Text parts, one frame each. */
  text?: string[];
  /** A function call sent after the text. */
  functionCall?: { name: string; args: Record<string, unknown> };
  promptTokens?: number;
  outputTokens?: number;
}

export interface GeminiErrorReply {
  status: number;
  /** Google's status name, e.g. UNAVAILABLE, RESOURCE_EXHAUSTED. */
  statusName: string;
  message: string;
}

export type GeminiReply = GeminiStreamReply | GeminiErrorReply;

export interface GeminiRequestBody {
  contents?: { role?: string; parts?: Record<string, unknown>[] }[];
  systemInstruction?: unknown;
  tools?: { functionDeclarations?: { name: string; description?: string; parameters?: unknown }[] }[];
  generationConfig?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface CapturedGeminiRequest {
  /** `v1` (the SDK's default) or `v1beta`. */
  apiVersion: string;
  model: string;
  headers: IncomingMessage['headers'];
  body: GeminiRequestBody;
}

export interface FakeGemini {
  /** The SDK's `httpOptions.baseUrl`. */
  url: string;
  apiKey: string;
  requests: CapturedGeminiRequest[];
  enqueue(...replies: GeminiReply[]): void;
  /** Every later request (queue empty) answers this, e.g. a 503 to take the service down. */
  respondWith(reply: GeminiReply | null): void;
  close(): Promise<void>;
}

function isError(reply: GeminiReply): reply is GeminiErrorReply {
  return 'status' in reply;
}

export async function startFakeGemini(options: { apiKey?: string } = {}): Promise<FakeGemini> {
  const apiKey = options.apiKey ?? 'gemini-test-key';
  const queue: GeminiReply[] = [];
  const requests: CapturedGeminiRequest[] = [];
  let fallback: GeminiReply | null = null;

  function refuse(res: ServerResponse, status: number, statusName: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ error: { code: status, message, status: statusName } }));
  }

  function frame(res: ServerResponse, data: Record<string, unknown>): void {
    res.write(`data: ${JSON.stringify(data)}\r\n\r\n`);
  }

  function stream(res: ServerResponse, model: string, body: GeminiRequestBody, reply: GeminiStreamReply): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const promptTokens = reply.promptTokens ?? Math.max(1, Math.ceil(JSON.stringify(body.contents ?? []).length / 4));
    let sent = 0;
    const texts = reply.text ?? (reply.functionCall ? [] : ['Hello from the Gemini fake.']);
    for (const text of texts) {
      sent += text.length;
      frame(res, {
        candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0 }],
        modelVersion: model,
      });
    }
    if (reply.functionCall) sent += JSON.stringify(reply.functionCall.args).length;
    const outputTokens = reply.outputTokens ?? Math.max(1, Math.ceil(sent / 4));
    frame(res, {
      candidates: [
        {
          content: {
            parts: reply.functionCall ? [{ functionCall: reply.functionCall }] : [{ text: '' }],
            role: 'model',
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: promptTokens,
        candidatesTokenCount: outputTokens,
        totalTokenCount: promptTokens + outputTokens,
      },
      modelVersion: model,
    });
    res.end();
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const match = /^\/(v1|v1beta)\/models\/([^/:]+):streamGenerateContent$/.exec(url.pathname);
      if (req.method !== 'POST' || !match) {
        return refuse(res, 404, 'NOT_FOUND', `No route ${req.method} ${url.pathname}`);
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body: GeminiRequestBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as GeminiRequestBody;
      } catch {
        return refuse(res, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      }
      const model = decodeURIComponent(match[2]!);
      requests.push({ apiVersion: match[1]!, model, headers: req.headers, body });
      if (req.headers['x-goog-api-key'] !== apiKey) {
        return refuse(res, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.');
      }
      if (url.searchParams.get('alt') !== 'sse') {
        return refuse(res, 400, 'INVALID_ARGUMENT', 'This fake only streams server-sent events (alt=sse)');
      }
      const reply = queue.shift() ?? fallback ?? { text: ['Hello from the Gemini fake.'] };
      if (isError(reply)) return refuse(res, reply.status, reply.statusName, reply.message);
      stream(res, model, body, reply);
    })().catch((err: unknown) => {
      if (!res.headersSent) refuse(res, 500, 'INTERNAL', String(err));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    enqueue(...replies) {
      queue.push(...replies);
    },
    respondWith(reply) {
      fallback = reply;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
