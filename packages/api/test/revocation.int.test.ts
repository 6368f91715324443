/**
 * Revoked credentials close their WebSockets on every api instance: two servers (A and B) on one database and one
 * Redis prefix; a logout, a password change, a session revocation or an API-key revocation on A closes the matching
 * subscription sockets on B (close code 4401) within 5 s, and leaves everyone else's open.
 */
import { sessionIdFromToken } from '@dawg/db';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  uniqueRedisPrefix,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { WS_CLOSE_REVOKED } from '../src/auth/revocation';
import {
  bearer,
  freshEmail,
  GOOD_PASSWORD,
  rest,
  startApi,
  trpcMutation,
  trpcQuery,
  type TestApi,
} from './helpers/api';

let database: TestDatabase;
let a: TestApi;
let b: TestApi;
const prefix = uniqueRedisPrefix('revocation');

beforeAll(async () => {
  database = await createTestDatabase();
  const overrides = { WHITELISTED_IPS: '127.0.0.1' };
  [a, b] = await Promise.all([startApi({ database, prefix, overrides }), startApi({ database, prefix, overrides })]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

interface LiveSocket {
  ws: WebSocket;
  /** Resolves with the close code. */
  closed: Promise<number>;
  isOpen(): boolean;
}

/**
 * A raw tRPC WebSocket (the wire protocol of wsLink) authenticated by connection params or headers, with a running
 * `health.live` subscription; resolves once the first event arrived.
 */
async function subscribe(
  api: TestApi,
  auth: { token?: string; headers?: Record<string, string> },
): Promise<LiveSocket> {
  const url = `${api.wsBase}/trpc${auth.token ? '?connectionParams=1' : ''}`;
  const ws = new WebSocket(url, { headers: auth.headers ?? {} });
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (auth.token) ws.send(JSON.stringify({ method: 'connectionParams', data: { token: auth.token } }));
  const whoami = new Promise<unknown>((resolve) => {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { id: number; result?: { data?: unknown } };
      if (msg.id === 1 && msg.result && 'data' in msg.result) resolve(msg.result.data);
    });
  });
  const firstEvent = new Promise<void>((resolve) => {
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { id: number; result?: { type?: string } };
      if (msg.id === 2 && msg.result?.type === 'data') resolve();
    });
  });
  ws.send(JSON.stringify({ id: 1, method: 'query', params: { path: 'auth.me', input: null } }));
  ws.send(JSON.stringify({ id: 2, method: 'subscription', params: { path: 'health.live', input: null } }));
  const me = (await whoami) as { id: string } | null;
  expect(me?.id).toBeTruthy();
  await firstEvent;
  let open = true;
  void closed.then(() => (open = false));
  return { ws, closed, isOpen: () => open };
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

async function signIn(api: TestApi, email: string): Promise<string> {
  const res = await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: GOOD_PASSWORD } });
  expect(res.status).toBe(200);
  return res.body.token as string;
}

async function account(): Promise<{ email: string; token: string }> {
  const email = freshEmail('ws');
  const res = await rest(a.base, 'POST', '/api/auth/register', { body: { email, password: GOOD_PASSWORD } });
  expect(res.status).toBe(201);
  return { email, token: res.body.token as string };
}

describe('revocation closes sockets on every instance', () => {
  it('logout on A closes the user’s subscription socket on B, and nobody else’s', async () => {
    const user = await account();
    const bystander = await createUser(database.db);
    const target = await subscribe(b, { token: user.token });
    const other = await subscribe(b, { token: bystander.token });
    const sameUserOtherSession = await subscribe(b, { token: await signIn(a, user.email) });

    expect((await rest(a.base, 'POST', '/api/auth/logout', { headers: bearer(user.token) })).status).toBe(200);
    expect(await within(target.closed, 5_000, 'socket of the logged-out session')).toBe(WS_CLOSE_REVOKED);
    // Give a wrong implementation the time to close too much.
    await new Promise((r) => setTimeout(r, 300));
    expect(other.isOpen()).toBe(true);
    expect(sameUserOtherSession.isOpen()).toBe(true);
    other.ws.close();
    sameUserOtherSession.ws.close();
  });

  it('a password change on A closes the user’s other sessions’ sockets on B and keeps the current one', async () => {
    const user = await account();
    const current = await signIn(a, user.email);
    const otherSession = await subscribe(b, { token: user.token });
    const currentSession = await subscribe(b, { token: current });

    const res = await trpcMutation(
      a.base,
      'auth.changePassword',
      { currentPassword: GOOD_PASSWORD, newPassword: 'Brand-New-Harmonica-5' },
      bearer(current),
    );
    expect(res.status).toBe(200);
    expect(await within(otherSession.closed, 5_000, 'socket of the other session')).toBe(WS_CLOSE_REVOKED);
    await new Promise((r) => setTimeout(r, 300));
    expect(currentSession.isOpen()).toBe(true);
    currentSession.ws.close();
  });

  it('revoking a session or an API key on A closes its sockets on B', async () => {
    const user = await account();
    const second = await signIn(a, user.email);
    const sessionSocket = await subscribe(b, { token: second });
    const list = await trpcQuery(a.base, 'auth.sessions', undefined, bearer(user.token));
    const target = (list.body.result.data as { id: string; current: boolean }[]).find((s) => !s.current)!;
    expect((await trpcMutation(a.base, 'auth.revokeSession', { id: target.id }, bearer(user.token))).status).toBe(200);
    expect(await within(sessionSocket.closed, 5_000, 'socket of the revoked session')).toBe(WS_CLOSE_REVOKED);

    const created = await trpcMutation(a.base, 'apiKeys.create', { name: 'ws' }, bearer(user.token));
    const { id, key } = created.body.result.data as { id: string; key: string };
    const keySocket = await subscribe(b, { headers: { 'x-api-key': key } });
    expect((await trpcMutation(a.base, 'apiKeys.revoke', { id }, bearer(user.token))).status).toBe(200);
    expect(await within(keySocket.closed, 5_000, 'socket of the revoked key')).toBe(WS_CLOSE_REVOKED);
  });

  it('closes sockets whose session vanished without a message, at the next sweep', async () => {
    const user = await createUser(database.db);
    const socket = await subscribe(b, { token: user.token });
    await database.db.deleteFrom('sessions').where('id', '=', sessionIdFromToken(user.token)).execute();
    await b.server.deps.revocations.sweep();
    expect(await within(socket.closed, 5_000, 'socket of the vanished session')).toBe(WS_CLOSE_REVOKED);
  });
});
