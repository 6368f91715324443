/**
 * Rate limits against real Redis: the seed's post-deploy check (110 requests, the last 10 answered 429), the higher
 * budget of signed-in users, the auth limit (the 6th failed login from one IP is refused, successful logins are not
 * counted, REST and tRPC share the counter), the generation limit (failed requests are not counted), the headers,
 * WebSocket calls and upgrades, WHITELISTED_IPS, exempt routes and TRUST_PROXY. Each test speaks from its own
 * client IP (X-Forwarded-For, believed because TRUST_PROXY is on), so their counters never meet.
 */
import { AppError } from '@dawg/shared';
import { createTestDatabase, defaultRedisUrl, startFaultProxy, type TestDatabase } from '@dawg/testing';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import type { AppRouter } from '../src/index';
import { defineRestRoute } from '../src/rest/define';
import { consumeGenerationLimit, describeWindow, refundGenerationLimit } from '../src/perimeter/rate-limit';
import { bearer, freshEmail, GOOD_PASSWORD, rest, startApi, trpcMutation, type TestApi } from './helpers/api';

let database: TestDatabase;
let api: TestApi;
let ipCounter = 0;

/** A fresh client address for one test. */
function clientIp(): Record<string, string> {
  ipCounter += 1;
  return { 'x-forwarded-for': `203.0.113.${ipCounter}` };
}

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApi({
    database,
    label: 'rate-limit',
    overrides: { TRUST_PROXY: 'true', WHITELISTED_IPS: '198.51.100.7' },
    extraRoutes: (app) => {
      defineRestRoute(
        app,
        {
          method: 'POST',
          url: '/test/generate',
          auth: 'user',
          body: z.object({ fail: z.boolean() }),
          summary: 'A generation-limited route',
          config: { rateLimit: 'generation' },
        },
        ({ body }) => {
          if (body.fail) throw new AppError('PAYMENT_REQUIRED', 'Out of credits');
          return { queued: true };
        },
      );
    },
  });
});

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

async function signUp(ip: Record<string, string>): Promise<string> {
  const res = await rest(api.base, 'POST', '/api/auth/register', {
    headers: ip,
    body: { email: freshEmail('rl'), password: GOOD_PASSWORD },
  });
  expect(res.status).toBe(201);
  return res.body.token as string;
}

describe('general limit', () => {
  it('passes the seed post-deploy check: of 110 requests to /api/generate the last 10 get 429', async () => {
    const ip = clientIp();
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof rest>> | undefined;
    for (let i = 0; i < 110; i++) {
      last = await rest(api.base, 'POST', '/api/generate', { headers: ip, body: { prompt: 'test' } });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 100).every((s) => s !== 429)).toBe(true);
    expect(statuses.slice(100)).toEqual(Array(10).fill(429));
    expect(last!.body).toEqual({ error: 'Too many requests, please try again later.', retryAfter: '15 minutes' });
    expect(last!.headers.get('ratelimit-limit')).toBe('100');
    expect(last!.headers.get('ratelimit-remaining')).toBe('0');
    expect(last!.headers.get('x-ratelimit-limit')).toBe('100');
    expect(last!.headers.get('x-ratelimit-remaining')).toBe('0');
    const retryAfter = Number(last!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(Number(last!.headers.get('ratelimit-reset'))).toBe(retryAfter);

    // Probes stay open; tRPC from the same address does not.
    // (503 here: this file starts no S3 server, so /health is degraded; it is answered, not limited.)
    expect((await rest(api.base, 'GET', '/health', { headers: ip })).status).not.toBe(429);
    expect((await rest(api.base, 'GET', '/metrics', { headers: ip })).status).toBe(200);
    const trpc = await rest(api.base, 'GET', '/trpc/system.version', { headers: ip });
    expect(trpc.status).toBe(429);
    expect(trpc.body.error.data.code).toBe('TOO_MANY_REQUESTS');
  });

  it('gives signed-in users 200 requests, counted per user, and reports what is left', async () => {
    const token = await signUp(clientIp());
    const first = await rest(api.base, 'GET', '/api/auth/me', { headers: { ...bearer(token), ...clientIp() } });
    expect(first.headers.get('ratelimit-limit')).toBe('200');
    expect(first.headers.get('ratelimit-remaining')).toBe('199');
    for (let i = 1; i < 200; i++) {
      // A new address each time: the budget follows the user, not the address.
      const res = await rest(api.base, 'GET', '/api/auth/me', { headers: { ...bearer(token), ...clientIp() } });
      expect(res.status).toBe(200);
    }
    const over = await rest(api.base, 'GET', '/api/auth/me', { headers: { ...bearer(token), ...clientIp() } });
    expect(over.status).toBe(429);
  });

  it('counts every procedure of a batched tRPC request', async () => {
    const ip = clientIp();
    const batch = Array(40).fill('system.version').join(',');
    const input = encodeURIComponent(JSON.stringify({}));
    const call = () => rest(api.base, 'GET', `/trpc/${batch}?batch=1&input=${input}`, { headers: ip });
    expect((await call()).headers.get('ratelimit-remaining')).toBe('60');
    expect((await call()).headers.get('ratelimit-remaining')).toBe('20');
    expect((await call()).status).toBe(429);
  });

  it('never limits WHITELISTED_IPS', async () => {
    const ip = { 'x-forwarded-for': '198.51.100.7' };
    for (let i = 0; i < 105; i++) expect((await rest(api.base, 'GET', '/', { headers: ip })).status).toBe(200);
    for (let i = 0; i < 7; i++) {
      const res = await rest(api.base, 'POST', '/api/auth/login', {
        headers: ip,
        body: { email: freshEmail(), password: 'Wrong-Password-11' },
      });
      expect(res.status).toBe(401);
    }
  });
});

describe('auth limit', () => {
  it('refuses the 6th failed login from one IP with 429 and Retry-After; successful logins are not counted', async () => {
    const ip = clientIp();
    const email = freshEmail('brute');
    const registered = await rest(api.base, 'POST', '/api/auth/register', {
      headers: ip,
      body: { email, password: GOOD_PASSWORD },
    });
    expect(registered.status).toBe(201);
    const attempt = (password: string) =>
      rest(api.base, 'POST', '/api/auth/login', { headers: ip, body: { email, password } });

    for (let i = 0; i < 4; i++) expect((await attempt('Wrong-Password-11')).status).toBe(401);
    // Successes in between cost nothing.
    for (let i = 0; i < 3; i++) expect((await attempt(GOOD_PASSWORD)).status).toBe(200);
    const fifth = await attempt('Wrong-Password-11');
    expect(fifth.status).toBe(401);
    expect(fifth.headers.get('ratelimit-remaining')).toBe('0');

    const sixth = await attempt('Wrong-Password-11');
    expect(sixth.status).toBe(429);
    expect(sixth.body).toEqual({ error: 'Too many login attempts, please try again later.', retryAfter: '15 minutes' });
    const retryAfter = Number(sixth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    // The right password is refused too now (the limit is on attempts), and so is tRPC: one counter per IP.
    expect((await attempt(GOOD_PASSWORD)).status).toBe(429);
    const viaTrpc = await trpcMutation(api.base, 'auth.login', { email, password: GOOD_PASSWORD }, ip);
    expect(viaTrpc.status).toBe(429);
    expect(viaTrpc.body.error.message).toBe('Too many login attempts, please try again later.');
    expect(viaTrpc.body.error.data.extra).toEqual({ retryAfter: '15 minutes' });

    // Another address is unaffected.
    expect(
      (
        await rest(api.base, 'POST', '/api/auth/login', {
          headers: clientIp(),
          body: { email, password: GOOD_PASSWORD },
        })
      ).status,
    ).toBe(200);
  });

  it('cannot be escaped by sending one’s own X-Forwarded-For (only the proxy’s entry is believed)', async () => {
    const real = clientIp()['x-forwarded-for']!;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await rest(api.base, 'POST', '/api/auth/login', {
        headers: { 'x-forwarded-for': `10.9.8.${i}, ${real}` },
        body: { email: freshEmail(), password: 'Wrong-Password-11' },
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('counts failed tRPC logins and registrations in the same counter', async () => {
    const ip = clientIp();
    for (let i = 0; i < 3; i++) {
      const res = await trpcMutation(
        api.base,
        'auth.login',
        { email: freshEmail(), password: 'Wrong-Password-11' },
        ip,
      );
      expect(res.status).toBe(401);
    }
    for (let i = 0; i < 2; i++) {
      const res = await trpcMutation(api.base, 'auth.register', { email: freshEmail(), password: 'password1' }, ip);
      expect(res.status).toBe(400);
    }
    expect((await trpcMutation(api.base, 'auth.login', { email: freshEmail(), password: 'x' }, ip)).status).toBe(429);
  });
});

describe('generation limit', () => {
  it('allows 20 generations an hour per user; failed requests are not counted', async () => {
    const ip = clientIp();
    const token = await signUp(ip);
    const generate = (fail: boolean) =>
      rest(api.base, 'POST', '/test/generate', { headers: { ...bearer(token), ...ip }, body: { fail } });
    for (let i = 0; i < 5; i++) expect((await generate(true)).status).toBe(402);
    for (let i = 0; i < 20; i++) {
      const res = await generate(false);
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-remaining')).toBe(String(19 - i));
    }
    const over = await generate(false);
    expect(over.status).toBe(429);
    expect(over.body).toEqual({
      error: 'Generation limit exceeded. Please wait before creating more.',
      retryAfter: '1 hour',
    });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(3500);
  });

  it('exposes consume/refund for features that settle later', async () => {
    const user = `u-${Date.now()}`;
    const limits = api.server.deps.limits;
    for (let i = 0; i < 20; i++) await consumeGenerationLimit(limits, user);
    await expect(consumeGenerationLimit(limits, user)).rejects.toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    await refundGenerationLimit(limits, user);
    await refundGenerationLimit(limits, user);
    await consumeGenerationLimit(limits, user);
  });

  it('words windows the way the seed does', () => {
    expect(describeWindow(15 * 60_000)).toBe('15 minutes');
    expect(describeWindow(60 * 60_000)).toBe('1 hour');
    expect(describeWindow(90_000)).toBe('90 seconds');
  });
});

describe('WebSockets and proxies', () => {
  it('counts each WebSocket call and upgrade against the general limit', async () => {
    const small = await startApi({ database, label: 'rate-limit-ws', overrides: { RATE_LIMIT_MAX: '5' } });
    try {
      const wsClient = createWSClient({
        url: `${small.wsBase}/trpc`,
        WebSocket: WebSocket as never,
        lazy: { enabled: false, closeMs: 0 },
      });
      const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsClient })] });
      try {
        // The upgrade took one point; four calls fit, the fifth does not.
        for (let i = 0; i < 4; i++)
          expect(await client.system.version.query()).toMatchObject({ service: expect.any(String) });
        await expect(client.system.version.query()).rejects.toMatchObject({ data: { code: 'TOO_MANY_REQUESTS' } });
      } finally {
        await wsClient.close();
      }
      const refused = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${small.wsBase}/trpc`);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('upgrade accepted over the limit')));
        ws.once('error', () => undefined);
      });
      expect(refused).toBe(429);
    } finally {
      await small.close();
    }
  });

  it('keeps limiting, per instance in memory, while Redis is unreachable', async () => {
    const target = new URL(defaultRedisUrl());
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const cut = await startApi({
      database,
      label: 'rate-limit-cut',
      overrides: { RATE_LIMIT_MAX: '3', REDIS_URL: proxy.url(defaultRedisUrl()) },
    });
    try {
      expect((await rest(cut.base, 'GET', '/')).status).toBe(200);
      proxy.cut();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await rest(cut.base, 'GET', '/')).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      proxy.restore();
      await cut.close();
      await proxy.close();
    }
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY is on', async () => {
    const strict = await startApi({ database, label: 'rate-limit-proxy', overrides: { RATE_LIMIT_MAX: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push((await rest(strict.base, 'GET', '/', { headers: { 'x-forwarded-for': `192.0.2.${i}` } })).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await strict.close();
    }
  });
});
