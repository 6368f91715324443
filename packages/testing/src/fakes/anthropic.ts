/**
 * A local Anthropic Messages API (`POST /v1/messages`, streaming) so the real `@anthropic-ai/sdk` runs against it
 * (baseURL = `url`, without /v1). It accepts `x-api-key` or `Authorization: Bearer`, keeps every request (headers
 * and body), and answers each request with the next scripted reply (a queue) or, when the queue is empty, with the
 * `respond` function of the request (default: a short text).
 *
 * A streamed reply is a list of steps written as SSE in the protocol's order: `message_start` (with
 * `usage.input_tokens`) → per block `content_block_start` / `content_block_delta`… / `content_block_stop` (text
 * blocks as `text_delta`s, tool_use blocks as `input_json_delta` fragments of the JSON input) → `message_delta`
 * (`stop_reason`: `tool_use` when a tool block was sent, else `end_turn`; `usage.output_tokens`) → `message_stop`.
 * Steps can also hold the stream (`wait`: a promise the test resolves), send a `ping`, send an `error` event
 * (`overloaded_error`…) and end, or `stall` (send nothing more, keep the connection open). A reply can instead be an
 * HTTP error (`{ status: 429 | 529 | 500, type, message }`), as the real API answers refusals and overload.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AnthropicStep =
  /** A text block; an array is sent as one delta per element. */
  | { text: string | string[] }
  /** A tool_use block; the input JSON is sent in `chunks` fragments (default 3). */
  | { toolUse: { id?: string; name: string; input: unknown; chunks?: number } }
  /** Hold the stream until the promise settles (the test decides the pace: no timers). */
  | { wait: Promise<unknown> | (() => Promise<unknown>) }
  | { ping: true }
  /** An `event: error` and the end of the stream. */
  | { error: { type: string; message: string } }
  /** Send nothing more; keep the connection open until the client goes or the server closes. */
  | { stall: true };

export interface AnthropicStreamReply {
  steps: AnthropicStep[];
  /** Default: the request's characters / 4. */
  inputTokens?: number;
  /** Default: the sent text's characters / 4 (at least 1). */
  outputTokens?: number;
  stopReason?: string;
}

export interface AnthropicErrorReply {
  status: number;
  type: string;
  message: string;
  /** `retry-after` seconds. */
  retryAfter?: number;
}

export type AnthropicReply = AnthropicStreamReply | AnthropicErrorReply;

export interface CapturedAnthropicRequest {
  headers: IncomingMessage['headers'];
  body: AnthropicRequestBody;
}

export interface AnthropicRequestBody {
  model?: string;
  max_tokens?: number;
  system?: unknown;
  messages?: { role: string; content: unknown }[];
  tools?: { name: string; description?: string; input_schema: unknown }[];
  stream?: boolean;
  [key: string]: unknown;
}

export interface FakeAnthropicOptions {
  apiKey?: string;
  /** The answer when no scripted reply is queued. */
  respond?: (body: AnthropicRequestBody, index: number) => AnthropicReply;
  /** Called as each SSE event is written (benchmarks time the first token here). */
  onEvent?: (type: string, data: Record<string, unknown>) => void;
}

export interface FakeAnthropic {
  /** The SDK's baseURL (no /v1). */
  url: string;
  apiKey: string;
  requests: CapturedAnthropicRequest[];
  /** Queue replies for the next requests, in order. */
  enqueue(...replies: AnthropicReply[]): void;
  /** Replies still queued. */
  readonly queued: number;
  configure(options: Partial<FakeAnthropicOptions>): void;
  close(): Promise<void>;
}

/** A text answer in deltas of about `size` characters. */
export function textReply(text: string, size = 8): AnthropicStreamReply {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return { steps: [{ text: parts.length ? parts : [''] }] };
}

/** A tool call, optionally after some text. */
export function toolUseReply(
  name: string,
  input: unknown,
  opts: { id?: string; text?: string } = {},
): AnthropicStreamReply {
  return {
    steps: [
      ...(opts.text ? [{ text: opts.text }] : []),
      { toolUse: { name, input, ...(opts.id ? { id: opts.id } : {}) } },
    ],
  };
}

function isErrorReply(reply: AnthropicReply): reply is AnthropicErrorReply {
  return 'status' in reply;
}

async function readJson(req: IncomingMessage): Promise<AnthropicRequestBody> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as AnthropicRequestBody;
  } catch {
    return {};
  }
}

function split(text: string, parts: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / Math.max(1, parts)));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

let idSeq = 0;

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  let opts: FakeAnthropicOptions = { ...options };
  const apiKey = options.apiKey ?? 'sk-ant-test-key';
  const queue: AnthropicReply[] = [];
  const requests: CapturedAnthropicRequest[] = [];
  const open = new Set<ServerResponse>();

  function write(res: ServerResponse, type: string, data: Record<string, unknown>): void {
    if (res.writableEnded || res.destroyed) return;
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    opts.onEvent?.(type, data);
  }

  function refuse(res: ServerResponse, status: number, type: string, message: string, retryAfter?: number): void {
    res.writeHead(status, {
      'content-type': 'application/json',
      'request-id': `req_fake_${++idSeq}`,
      ...(retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {}),
    });
    res.end(JSON.stringify({ type: 'error', error: { type, message } }));
  }

  async function stream(res: ServerResponse, body: AnthropicRequestBody, reply: AnthropicStreamReply): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'request-id': `req_fake_${++idSeq}`,
    });
    res.flushHeaders();
    const inputTokens = reply.inputTokens ?? Math.max(1, Math.ceil(JSON.stringify(body.messages ?? []).length / 4));
    write(res, 'message_start', {
      message: {
        id: `msg_fake_${++idSeq}`,
        type: 'message',
        role: 'assistant',
        model: body.model ?? 'claude-sonnet-4-5',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: 1 },
      },
    });
    let index = 0;
    let sentChars = 0;
    let usedTool = false;
    for (const step of reply.steps) {
      if (res.destroyed) return;
      if ('wait' in step) {
        await (typeof step.wait === 'function' ? step.wait() : step.wait);
      } else if ('ping' in step) {
        write(res, 'ping', {});
      } else if ('stall' in step) {
        return;
      } else if ('error' in step) {
        write(res, 'error', { error: step.error });
        res.end();
        return;
      } else if ('text' in step) {
        write(res, 'content_block_start', { index, content_block: { type: 'text', text: '' } });
        for (const piece of Array.isArray(step.text) ? step.text : [step.text]) {
          sentChars += piece.length;
          write(res, 'content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
        }
        write(res, 'content_block_stop', { index });
        index++;
      } else {
        usedTool = true;
        const id = step.toolUse.id ?? `toolu_fake_${++idSeq}`;
        write(res, 'content_block_start', {
          index,
          content_block: { type: 'tool_use', id, name: step.toolUse.name, input: {} },
        });
        const json = JSON.stringify(step.toolUse.input ?? {});
        sentChars += json.length;
        for (const fragment of split(json, step.toolUse.chunks ?? 3)) {
          write(res, 'content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: fragment } });
        }
        write(res, 'content_block_stop', { index });
        index++;
      }
    }
    write(res, 'message_delta', {
      delta: { stop_reason: reply.stopReason ?? (usedTool ? 'tool_use' : 'end_turn'), stop_sequence: null },
      usage: { output_tokens: reply.outputTokens ?? Math.max(1, Math.ceil(sentChars / 4)) },
    });
    write(res, 'message_stop', {});
    res.end();
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      open.add(res);
      res.once('close', () => open.delete(res));
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
        return refuse(res, 404, 'not_found_error', `No route ${req.method} ${url.pathname}`);
      }
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const key = (req.headers['x-api-key'] as string | undefined) ?? bearer;
      const body = await readJson(req);
      requests.push({ headers: req.headers, body });
      if (key !== apiKey) return refuse(res, 401, 'authentication_error', 'invalid x-api-key');
      const reply = queue.shift() ?? opts.respond?.(body, requests.length - 1) ?? textReply('Hello from the fake.');
      if (isErrorReply(reply)) return refuse(res, reply.status, reply.type, reply.message, reply.retryAfter);
      if (!body.stream) return refuse(res, 400, 'invalid_request_error', 'This fake only streams (stream: true)');
      await stream(res, body, reply);
    })().catch((err: unknown) => {
      if (!res.headersSent) refuse(res, 500, 'api_error', String(err));
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
    get queued() {
      return queue.length;
    },
    configure(next) {
      opts = { ...opts, ...next };
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
