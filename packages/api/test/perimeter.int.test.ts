/**
 * The perimeter against a real server: CSRF (a cookie-authenticated mutation needs an allowed Origin or Referer and
 * a non-simple content type, else 403; Bearer and API-key requests are exempt), and WebSocket admission (foreign
 * origins refused before the upgrade; at most 10 sockets per IP, the 11th refused).
 */
import { LIMITS, SESSION_COOKIE_NAME } from '@dawg/shared';
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { checkCsrf, requestOrigin } from '../src/perimeter/csrf';
import { bearer, rest, startApi, trpcMutation, trpcQuery, WEB_ORIGIN, type TestApi } from './helpers/api';

let database: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApi({ database, label: 'perimeter', overrides: { WHITELISTED_IPS: '127.0.0.1' } });
});

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

const EVIL = 'https://evil.example';

describe('CSRF', () => {
  it('refuses cookie-authenticated mutations from a foreign or missing origin and with simple content types', async () => {
    const { token } = await createUser(database.db);
    const cookie = `${SESSION_COOKIE_NAME}=${token}`;
    const create = (headers: Record<string, string>, body = JSON.stringify({ name: 'k' })) =>
      fetch(`${api.base}/trpc/apiKeys.create`, { method: 'POST', headers: { cookie, ...headers }, body });

    const refused: [string, Record<string, string>][] = [
      ['foreign origin', { origin: EVIL, 'content-type': 'application/json' }],
      ['no origin, no referer', { 'content-type': 'application/json' }],
      ['foreign referer', { referer: `${EVIL}/page`, 'content-type': 'application/json' }],
      ['text/plain', { origin: WEB_ORIGIN, 'content-type': 'text/plain' }],
      ['form', { origin: WEB_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }],
      ['multipart', { origin: WEB_ORIGIN, 'content-type': 'multipart/form-data; boundary=x' }],
      ['null origin', { origin: 'null', 'content-type': 'application/json' }],
    ];
    for (const [label, headers] of refused) {
      const res = await create(headers);
      expect(res.status, label).toBe(403);
      expect(((await res.json()) as { error: { data: { code: string } } }).error.data.code, label).toBe('FORBIDDEN');
    }
    expect(await database.db.selectFrom('api_keys').select('id').execute()).toEqual([]);

    expect((await create({ origin: WEB_ORIGIN, 'content-type': 'application/json' })).status).toBe(200);
    expect((await create({ referer: `${WEB_ORIGIN}/settings`, 'content-type': 'application/json' })).status).toBe(200);
    // Reads are not mutations: a cookie GET from anywhere is answered (CORS keeps the answer from foreign pages).
    expect((await trpcQuery(api.base, 'apiKeys.list', undefined, { cookie, origin: EVIL })).status).toBe(200);
  });

  it('applies to REST non-GET routes too, and exempts Bearer and API-key requests', async () => {
    const { token } = await createUser(database.db);
    const cookie = `${SESSION_COOKIE_NAME}=${token}`;
    const forged = await rest(api.base, 'POST', '/api/auth/logout', { headers: { cookie, origin: EVIL } });
    expect(forged.status).toBe(403);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(token) })).status).toBe(200);
    const simple = await rest(api.base, 'POST', '/api/auth/logout', {
      headers: { cookie, origin: WEB_ORIGIN, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(simple.status).toBe(403);

    // Bearer: no ambient credential, no CSRF; foreign origin and even text/plain reach the handler.
    const viaBearer = await trpcMutation(api.base, 'apiKeys.create', { name: 'b' }, { ...bearer(token), origin: EVIL });
    expect(viaBearer.status).toBe(200);
    const key = viaBearer.body.result.data.key as string;
    const viaKey = await rest(api.base, 'GET', '/api/auth/me', { headers: { 'x-api-key': key, origin: EVIL } });
    expect(viaKey.status).toBe(200);

    const ok = await rest(api.base, 'POST', '/api/auth/logout', { headers: { cookie, origin: WEB_ORIGIN } });
    expect(ok.status).toBe(200);
  });

  it('decides by Origin, then Referer', () => {
    const allowed = new Set([WEB_ORIGIN]);
    expect(requestOrigin({ referer: `${WEB_ORIGIN}/a?b` })).toBe(WEB_ORIGIN);
    expect(requestOrigin({ origin: EVIL, referer: `${WEB_ORIGIN}/` })).toBe(EVIL);
    expect(requestOrigin({ referer: 'not a url' })).toBeNull();
    expect(checkCsrf('GET', {}, allowed)).toEqual({ ok: true });
    expect(checkCsrf('DELETE', { origin: WEB_ORIGIN, 'content-type': 'application/json' }, allowed)).toEqual({
      ok: true,
    });
    expect(checkCsrf('PUT', { origin: WEB_ORIGIN, 'content-type': 'Text/Plain; charset=utf-8' }, allowed).ok).toBe(
      false,
    );
  });
});

function open(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('WebSocket admission', () => {
  it('refuses a foreign origin before the upgrade', async () => {
    await expect(open(`${api.wsBase}/trpc`, { origin: EVIL })).rejects.toThrow('upgrade refused: 403');
    const ok = await open(`${api.wsBase}/trpc`, { origin: WEB_ORIGIN });
    ok.close();
  });

  it('accepts 10 sockets per IP and refuses the 11th, whatever the path', async () => {
    expect(LIMITS.WS_MAX_CONNECTIONS_PER_IP).toBe(10);
    const sockets: WebSocket[] = [];
    try {
      for (let i = 0; i < 10; i++) sockets.push(await open(`${api.wsBase}/${i % 2 === 0 ? 'trpc' : ''}`));
      await expect(open(`${api.wsBase}/trpc`)).rejects.toThrow('upgrade refused: 429');
      await expect(open(`${api.wsBase}/`)).rejects.toThrow('upgrade refused: 429');
      const closed = new Promise((resolve) => sockets[0]!.once('close', resolve));
      sockets[0]!.close();
      await closed;
      // The slot is free again once a socket closes.
      let reopened: WebSocket | undefined;
      for (let attempt = 0; attempt < 20 && !reopened; attempt++) {
        reopened = await open(`${api.wsBase}/trpc`).catch(async () => {
          await new Promise((r) => setTimeout(r, 50));
          return undefined;
        });
      }
      expect(reopened).toBeDefined();
      sockets[0] = reopened!;
    } finally {
      for (const ws of sockets) ws.terminate();
    }
  });
});
