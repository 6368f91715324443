/**
 * A local stand-in for JSON webhook receivers (Slack incoming webhooks, PagerDuty Events API v2) and for simple
 * GET endpoints (an OpenAI- or Anthropic-style `GET /v1/models`): records every request and answers what the test
 * configured. Real clients (fetch, the provider SDKs) talk to it over HTTP on 127.0.0.1.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON when it is JSON, else the raw text. */
  body: unknown;
}

export interface FakeResponse {
  status?: number;
  body?: unknown;
}

export interface FakeWebhookServer {
  url: string;
  requests: CapturedRequest[];
  /** Sets the answer for `METHOD /path` (default: 200 `ok` for POST, 404 otherwise). */
  respond(method: string, path: string, response: FakeResponse): void;
  /** Resolves when at least `count` requests arrived. */
  waitFor(count: number): Promise<CapturedRequest[]>;
  close(): Promise<void>;
}

export async function startFakeWebhookServer(): Promise<FakeWebhookServer> {
  const requests: CapturedRequest[] = [];
  const responses = new Map<string, FakeResponse>();
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      const path = new URL(req.url ?? '/', 'http://fake').pathname;
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.count) w.resolve();
        else waiters.push(w);
      }
      const configured = responses.get(`${req.method} ${path}`);
      const response = configured ?? (req.method === 'POST' ? { status: 200, body: 'ok' } : { status: 404 });
      const payload =
        response.body === undefined
          ? ''
          : typeof response.body === 'string'
            ? response.body
            : JSON.stringify(response.body);
      res.writeHead(response.status ?? 200, {
        'content-type': typeof response.body === 'string' ? 'text/plain' : 'application/json',
      });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(method, path, response) {
      responses.set(`${method.toUpperCase()} ${path}`, response);
    },
    waitFor(count) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve) => waiters.push({ count, resolve: () => resolve(requests) }));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
