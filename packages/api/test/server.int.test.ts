/**
 * The api host against real Postgres, Redis and an S3-protocol server: status endpoints in the seed's shapes,
 * CORS and security headers, body limit, request timer, tRPC over HTTP (batched) and WebSocket, the ping/pong
 * socket and metrics.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { apiEnvSchema, parseEnv } from '@dawg/shared';
import { createTestDatabase, startS3Server, testEnv, type S3ServerHandle, type TestDatabase } from '@dawg/testing';
import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import type { AppRouter } from '../src/index';
import { buildServer, type ApiServer } from '../src/server';
import { toolRegistrySize } from '../src/services/tools';

const ALLOWED_ORIGIN = 'http://localhost:5173';
const REQUEST_TIMEOUT_MS = 400;

let s3: S3ServerHandle;
let database: TestDatabase;
let server: ApiServer;
let base: string;
let wsBase: string;

beforeAll(async () => {
  [s3, database] = await Promise.all([startS3Server(), createTestDatabase()]);
  const env = parseEnv(
    apiEnvSchema,
    testEnv(
      { databaseUrl: database.url, s3 },
      {
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        BODY_LIMIT_BYTES: '4096',
        CORS_ORIGINS: ALLOWED_ORIGIN,
        // Rate limits have their own tests (rate-limit.int.test.ts); this file sends far more than 100 requests.
        WHITELISTED_IPS: '127.0.0.1',
      },
    ),
  );
  server = await buildServer({
    env,
    logger: false,
    extraRoutes: (app) => {
      app.get('/test/slow', async () => {
        await sleep(REQUEST_TIMEOUT_MS * 3);
        return { finished: true };
      });
      app.get('/test/slow-exempt', { config: { timeout: false } }, async () => {
        await sleep(REQUEST_TIMEOUT_MS * 2);
        return { finished: true };
      });
      app.post('/test/echo', (request) => z.object({ name: z.string().min(1) }).parse(request.body));
    },
  });
  base = await server.listen();
  wsBase = base.replace(/^http/, 'ws');
});

afterAll(async () => {
  await server?.close();
  await Promise.all([s3?.stop(), database?.drop()]);
});

function openSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));
}

async function scrape(): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

describe('status endpoints', () => {
  it('GET / names the service and version', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ service: 'dawg-ai-api', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it('GET /health has the seed shape with every connection really checked', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(
      ['connections', 'service', 'services', 'status', 'timestamp', 'uptime', 'version'].sort(),
    );
    expect(body).toEqual({
      status: 'healthy',
      service: 'unified-backend',
      services: { main: true, 'ai-brain': true, voice: true },
      connections: { database: true, redis: true, s3: true },
      timestamp: expect.any(String),
      version: expect.any(String),
      uptime: expect.any(Number),
    });
    expect(Date.now() - Date.parse(body.timestamp as string)).toBeLessThan(10_000);
  });

  it('answers the component health checks', async () => {
    expect(await (await fetch(`${base}/api/ai-brain/health`)).json()).toEqual({
      status: 'healthy',
      service: 'ai-brain',
      anthropic_configured: false,
    });
    expect(await (await fetch(`${base}/api/voice/health`)).json()).toEqual({
      status: 'healthy',
      service: 'realtime-voice',
      openai_configured: false,
      functions_cached: toolRegistrySize(),
    });
  });

  it('echoes a caller request id and generates one otherwise', async () => {
    const given = await fetch(`${base}/`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.123');
    const generated = await fetch(`${base}/`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('hardening', () => {
  it('gives an allowed origin the seed CORS preflight answer', async () => {
    const res = await fetch(`${base}/trpc/health.get`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, PATCH, DELETE, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'Content-Type, Authorization, x-api-key, x-request-id',
    );
    expect(res.headers.get('access-control-max-age')).toBe('86400');

    const simple = await fetch(`${base}/`, { headers: { origin: ALLOWED_ORIGIN } });
    expect(simple.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(simple.headers.get('access-control-expose-headers')).toBe(
      'X-RateLimit-Limit, X-RateLimit-Remaining, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, ' +
        'x-request-id',
    );
  });

  it('gives a foreign origin no CORS headers and no 500', async () => {
    const preflight = await fetch(`${base}/trpc/health.get`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBeLessThan(500);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    const get = await fetch(`${base}/`, { headers: { origin: 'https://evil.example' } });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends the seed security headers', async () => {
    const res = await fetch(`${base}/`);
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains; preload');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self' 'unsafe-inline' https://js.stripe.com");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain('frame-src https://js.stripe.com');
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('refuses a body over BODY_LIMIT_BYTES with 413 JSON', async () => {
    const res = await fetch(`${base}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(8_000) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'Payload too large' });

    const small = await fetch(`${base}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ok' }),
    });
    expect(await small.json()).toEqual({ name: 'ok' });
  });

  it('answers bad input with 400 and field details', async () => {
    const res = await fetch(`${base}/test/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'Validation failed',
      details: [{ path: ['name'], message: expect.any(String) }],
    });
  });

  it('times a slow request out with 408, unless the route is exempt', async () => {
    const started = Date.now();
    const res = await fetch(`${base}/test/slow`);
    expect(res.status).toBe(408);
    expect(await res.json()).toEqual({ error: 'Request timeout' });
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS * 3);

    const exempt = await fetch(`${base}/test/slow-exempt`);
    expect(exempt.status).toBe(200);
    expect(await exempt.json()).toEqual({ finished: true });
  });

  it('refuses tRPC POSTs that are not application/json (CSRF)', async () => {
    for (const [contentType, body] of [
      ['text/plain', '{"0":{}}'],
      ['application/x-www-form-urlencoded', 'a=1'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'],
    ] as const) {
      const res = await fetch(`${base}/trpc/system.version`, {
        method: 'POST',
        headers: { 'content-type': contentType, origin: 'https://evil.example' },
        body,
      });
      expect(res.status, contentType).toBe(415);
      const json = (await res.json()) as { error: { data: { code: string } } };
      expect(json.error.data.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });
});

describe('tRPC', () => {
  it('batches HTTP queries into one request and streams health.live over the WebSocket', async () => {
    const urls: string[] = [];
    const wsClient = createWSClient({
      url: `${wsBase}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    const client = createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: wsLink({ client: wsClient }),
          false: httpBatchLink({
            url: `${base}/trpc`,
            fetch: (url, init) => {
              urls.push(String(url));
              return fetch(url, init);
            },
          }),
        }),
      ],
    });
    try {
      const [health, version] = await Promise.all([client.health.get.query(), client.system.version.query()]);
      expect(health.status).toBe('healthy');
      expect(health.connections).toEqual({ database: true, redis: true, s3: true });
      expect(version).toEqual({ service: 'dawg-ai-api', version: expect.any(String) });
      expect(urls).toHaveLength(1);
      expect(new URL(urls[0]!).pathname).toBe('/trpc/health.get,system.version');

      const received: { status: string; timestamp: string }[] = [];
      const started = Date.now();
      await new Promise<void>((resolve, reject) => {
        const sub = client.health.live.subscribe(undefined, {
          onData: (report) => {
            received.push(report);
            if (received.length === 2) {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: reject,
        });
      });
      expect(received.map((r) => r.status)).toEqual(['healthy', 'healthy']);
      expect(received[0]!.timestamp).not.toBe(received[1]!.timestamp);
      // One report at once, the next about a second later.
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(await scrape()).toMatch(/^active_websocket_connections 1$/m);
    } finally {
      await wsClient.close();
    }
    await expect.poll(scrape).toMatch(/^active_websocket_connections 0$/m);
  });

  it('routes long batched GET URLs and bounds the batch size', async () => {
    const batch = (n: number) => `${base}/trpc/${Array(n).fill('system.version').join(',')}?batch=1&input={}`;
    const res = await fetch(batch(40));
    expect(res.status).toBe(200);
    expect(((await res.json()) as unknown[]).length).toBe(40);
    expect((await fetch(batch(51))).status).toBe(400);
  });

  it('answers HEAD on a tRPC path with 405, not a 500', async () => {
    const res = await fetch(`${base}/trpc/system.version`, { method: 'HEAD' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, POST');
  });

  it('answers an unknown procedure with 404 in the tRPC envelope', async () => {
    const res = await fetch(`${base}/trpc/nope.nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code).toBe('NOT_FOUND');
  });
});

describe('main WebSocket', () => {
  it('answers ping with pong on /', async () => {
    const ws = await openSocket(`${wsBase}/`);
    try {
      ws.send(JSON.stringify({ type: 'ping' }));
      expect(await nextMessage(ws)).toBe('{"type":"pong"}');
      ws.send('not json');
      expect(JSON.parse(await nextMessage(ws))).toMatchObject({ type: 'error' });
    } finally {
      ws.close();
    }
  });

  it('closes a socket that sends more than 1 MB in one message', async () => {
    const ws = await openSocket(`${wsBase}/`);
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(Buffer.alloc(1024 * 1024 + 1, 97));
    expect(await closed).toBe(1009);
  });

  it('refuses foreign browser origins and unknown paths', async () => {
    await expect(openSocket(`${wsBase}/`, { origin: 'https://evil.example' })).rejects.toThrow('403');
    await expect(openSocket(`${wsBase}/nowhere`)).rejects.toThrow('404');
    const ok = await openSocket(`${wsBase}/`, { origin: ALLOWED_ORIGIN });
    ok.close();
  });
});

describe('metrics', () => {
  it('exposes the seed metrics with bounded route labels', async () => {
    await fetch(`${base}/health`);
    await fetch(`${base}/no/such/${Date.now()}`);
    await fetch(`${base}/trpc/system.version`);
    const text = await scrape();
    for (const name of [
      'http_request_duration_ms',
      'http_requests_total',
      'active_websocket_connections',
      'generation_jobs_total',
    ]) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(
      /http_request_duration_ms_bucket\{le="5000",method="GET",route="\/health",status_code="200"\} \d+/,
    );
    expect(text).toMatch(/http_requests_total\{method="GET",route="not_found",status_code="404"\} \d+/);
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/trpc\/system.version",status_code="200"\} \d+/);
    expect(text).toMatch(/route="\/trpc\/batch"/);
    expect(text).not.toContain('/no/such/');
  });

  it('is switched off by ENABLE_METRICS=false', async () => {
    const env = parseEnv(apiEnvSchema, testEnv({ databaseUrl: database.url, s3 }, { ENABLE_METRICS: 'false' }));
    const other = await buildServer({ env, logger: false });
    try {
      const url = await other.listen();
      expect((await fetch(`${url}/metrics`)).status).toBe(404);
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
