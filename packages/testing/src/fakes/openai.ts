/**
 * A local OpenAI server for Chat Completions (`POST /v1/chat/completions`), streaming and not, so the real `openai`
 * SDK runs against it (baseURL = `<url>/v1`). The answer is `reply` (a string or a function of the request body);
 * usage is counted from the text (about 4 characters a token) unless `usage` is given. A streamed answer is
 * `chat.completion.chunk` events, a last chunk with `finish_reason: "stop"`, a usage chunk when the request set
 * `stream_options.include_usage`, then `data: [DONE]`. `failNext` answers the next n requests with an HTTP error.
 * `requests` keeps every request body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeOpenAIOptions {
  apiKey?: string;
  reply?: string | ((body: ChatRequestBody) => string);
  usage?: { prompt_tokens: number; completion_tokens: number };
  /** The model echoed back (default: the requested one, dated like the real API). */
  model?: string;
  /** The next n requests answer with this HTTP status (default 500). */
  failNext?: number;
  failStatus?: number;
  /** Characters per streamed chunk. */
  chunkChars?: number;
}

export interface ChatRequestBody {
  model?: string;
  messages?: { role: string; content: unknown }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  [key: string]: unknown;
}

export interface FakeOpenAI {
  /** The SDK's baseURL (ends in /v1). */
  baseURL: string;
  apiKey: string;
  requests: ChatRequestBody[];
  configure(options: Partial<FakeOpenAIOptions>): void;
  close(): Promise<void>;
}

const DEFAULT_REPLY = JSON.stringify({
  title: 'Neon Harbor',
  lyrics: '[Verse]\nLights on the water, we drift into night\n\n[Chorus]\nNeon harbor, hold me tight',
});

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

async function readJson(req: IncomingMessage): Promise<ChatRequestBody> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequestBody;
  } catch {
    return {};
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeOpenAI(initial: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let opts: FakeOpenAIOptions = { ...initial };
  const apiKey = initial.apiKey ?? 'sk-fake-openai';
  const requests: ChatRequestBody[] = [];
  let failNext = initial.failNext ?? 0;
  let counter = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendJson(res, 401, {
        error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' },
      });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return sendJson(res, 404, {
        error: { message: `Unknown route ${req.method} ${path}`, type: 'invalid_request_error' },
      });
    }
    const body = await readJson(req);
    requests.push(body);
    if (failNext > 0) {
      failNext--;
      const status = opts.failStatus ?? 500;
      return sendJson(res, status, { error: { message: 'injected failure', type: 'server_error' } });
    }
    if (!body.model || !Array.isArray(body.messages) || body.messages.length === 0) {
      return sendJson(res, 400, {
        error: { message: 'model and messages are required', type: 'invalid_request_error' },
      });
    }
    const content = typeof opts.reply === 'function' ? opts.reply(body) : (opts.reply ?? DEFAULT_REPLY);
    const prompt = body.messages.map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)));
    const usage = opts.usage ?? { prompt_tokens: tokens(prompt.join('\n')), completion_tokens: tokens(content) };
    const model = opts.model ?? `${body.model}-2024-07-18`;
    const id = `chatcmpl-fake${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const fullUsage = { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens };

    if (!body.stream) {
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [
          { index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null },
        ],
        usage: fullUsage,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunk = (delta: object, finish: string | null, extra: object = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`;
    res.write(chunk({ role: 'assistant', content: '' }, null));
    const size = Math.max(1, opts.chunkChars ?? 16);
    for (let i = 0; i < content.length; i += size) res.write(chunk({ content: content.slice(i, i + size) }, null));
    res.write(chunk({}, 'stop'));
    if (body.stream_options?.include_usage) {
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: fullUsage })}\n\n`,
      );
    }
    res.end('data: [DONE]\n\n');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(err), type: 'server_error' } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseURL: `${url}/v1`,
    apiKey,
    requests,
    configure(next) {
      opts = { ...opts, ...next };
      if (next.failNext !== undefined) failNext = next.failNext;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
