/**
 * Accounts, sessions and API keys end to end over plain HTTP: the seed's REST shapes, the same token as Bearer on
 * REST and tRPC, the seed's 401 wordings, the password policy, cookies, logout, password change, session listing and
 * revocation, API keys, account deletion (job enqueued, account closed at once), the audit trail and the OpenAPI
 * document.
 */
import { scryptSync } from 'node:crypto';
import { findUserByEmail, sessionIdFromToken } from '@dawg/db';
import { JOB_NAMES, LIMITS, QUEUE_NAMES } from '@dawg/shared';
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sessionCookie } from '../src/auth/cookies';
import { defineRestRoute } from '../src/rest/define';
import { queueRedisUrl } from '@dawg/shared';
import { deleteAccountJobId } from '../src/services/account-deletion-queue';
import {
  bearer,
  freshEmail,
  GOOD_PASSWORD,
  rest,
  startApi,
  trpcMutation,
  trpcQuery,
  WEB_ORIGIN,
  type TestApi,
} from './helpers/api';

let database: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApi({
    database,
    label: 'auth',
    // The limits have their own file; this one makes many failed logins on purpose.
    overrides: { WHITELISTED_IPS: '127.0.0.1' },
    extraRoutes: (app) => {
      defineRestRoute(
        app,
        {
          method: 'PATCH',
          url: '/api/test/things/:id',
          auth: 'user',
          params: z.object({ id: z.uuid() }),
          body: z.object({ label: z.string().max(10) }),
          response: z.object({ id: z.uuid(), label: z.string() }),
          summary: 'A route added by a later feature',
        },
        ({ params, body }) => ({ id: params.id, label: body.label, secret: 'never sent' }),
      );
    },
  });
});

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

async function register(email = freshEmail(), password = GOOD_PASSWORD) {
  const res = await rest(api.base, 'POST', '/api/auth/register', { body: { email, password, name: 'Test User' } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { success: true; user: { id: string; email: string }; token: string };
}

describe('the seed REST contract', () => {
  it('registers (201) and logs in (200) in the seed shapes; the token works as Bearer on REST and tRPC', async () => {
    const email = freshEmail('seed');
    const created = await rest(api.base, 'POST', '/api/auth/register', {
      body: { email, password: 'SecurePass123!', name: 'Test User' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ success: true, user: { id: expect.any(String), email }, token: expect.any(String) });

    const login = await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: 'SecurePass123!' } });
    expect(login.status).toBe(200);
    expect(login.body).toEqual({
      success: true,
      token: expect.any(String),
      user: {
        id: created.body.user.id,
        email,
        name: 'Test User',
        role: 'user',
        plan: 'free',
        createdAt: expect.any(String),
      },
    });
    // A login starts a new session.
    expect(login.body.token).not.toBe(created.body.token);

    for (const token of [created.body.token, login.body.token]) {
      const me = await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(token) });
      expect(me.status).toBe(200);
      expect(me.body.user.id).toBe(created.body.user.id);
      // A protected tRPC query with the same Bearer token.
      const sessions = await trpcQuery(api.base, 'auth.sessions', undefined, bearer(token));
      expect(sessions.status).toBe(200);
      expect(sessions.body.result.data.some((s: { current: boolean }) => s.current)).toBe(true);
    }
    const anonymous = await trpcQuery(api.base, 'auth.sessions');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.message).toBe('No token provided');
  });

  it('answers 401 with the seed words', async () => {
    expect(await rest(api.base, 'GET', '/api/auth/me')).toMatchObject({
      status: 401,
      body: { error: 'No token provided' },
    });
    expect(await rest(api.base, 'GET', '/api/auth/me', { headers: bearer('abc') })).toMatchObject({
      status: 401,
      body: { error: 'Invalid token' },
    });
    const { token } = await createUser(database.db);
    await database.db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1) })
      .where('id', '=', sessionIdFromToken(token))
      .execute();
    expect(await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(token) })).toMatchObject({
      status: 401,
      body: { error: 'Token expired' },
    });
  });

  it('answers bad input with 400 Validation failed and a path per field', async () => {
    const res = await rest(api.base, 'POST', '/api/auth/register', {
      body: { email: 'not-an-email', password: 'short' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('Validation failed');
    const paths = (res.body.details as { path: string[] }[]).map((d) => d.path.join('.')).sort();
    expect(paths).toEqual(['email', 'password']);

    const login = await rest(api.base, 'POST', '/api/auth/login', { body: { email: 42 } });
    expect(login.status).toBe(400);
    expect((login.body.details as { path: string[] }[]).map((d) => d.path[0]).sort()).toEqual(['email', 'password']);
  });

  it('normalises emails and keeps them unique whatever their case', async () => {
    const email = freshEmail('Mixed').replace('mixed', 'MiXeD');
    const { user } = await register(email.toUpperCase());
    expect(user.email).toBe(email.toLowerCase());
    const again = await rest(api.base, 'POST', '/api/auth/register', {
      body: { email: email.toLowerCase(), password: GOOD_PASSWORD },
    });
    expect(again.status).toBe(409);
    const login = await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: GOOD_PASSWORD } });
    expect(login.status).toBe(200);
  });
});

describe('password policy and hashing', () => {
  it('refuses common passwords (any case) and the email itself, allows long ones, bounds the length', async () => {
    for (const password of ['password1', 'PASSWORD123', 'Qwerty123', 'iloveyou2024', '12345678', 'P@ssw0rd']) {
      const res = await rest(api.base, 'POST', '/api/auth/register', { body: { email: freshEmail(), password } });
      expect(res.status, password).toBe(400);
      expect(res.body.details, password).toEqual([{ path: ['password'], message: expect.stringMatching(/common/) }]);
    }
    const email = freshEmail('sameaspassword');
    const same = await rest(api.base, 'POST', '/api/auth/register', { body: { email, password: email } });
    expect(same.status).toBe(400);
    expect(same.body.details[0].path).toEqual(['password']);

    await register(freshEmail(), 'x7'.repeat(32));
    await register(freshEmail(), 'long passphrase '.repeat(8));
    const tooLong = await rest(api.base, 'POST', '/api/auth/register', {
      body: { email: freshEmail(), password: 'y'.repeat(LIMITS.PASSWORD_MAX_CHARS + 1) },
    });
    expect(tooLong.status).toBe(400);
  });

  it('stores argon2id hashes and upgrades older hashes at login', async () => {
    const email = freshEmail('hash');
    await register(email);
    const row = await findUserByEmail(database.db, email);
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    const salt = Buffer.from('fedcba9876543210');
    const key = scryptSync('Legacy-Password-77', salt, 32, { N: 2 ** 14, r: 8, p: 1 });
    const legacyEmail = freshEmail('legacy');
    await createUser(database.db, {
      email: legacyEmail,
      passwordHash: `scrypt$14$8$1$${salt.toString('base64')}$${key.toString('base64')}`,
    });
    const login = await rest(api.base, 'POST', '/api/auth/login', {
      body: { email: legacyEmail, password: 'Legacy-Password-77' },
    });
    expect(login.status).toBe(200);
    expect((await findUserByEmail(database.db, legacyEmail))?.password_hash).toMatch(/^\$argon2id\$/);
  });

  it('gives the same answer for an unknown email and a wrong password', async () => {
    const email = freshEmail('enum');
    await register(email);
    const wrong = await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: 'Not-The-Password-1' } });
    const unknown = await rest(api.base, 'POST', '/api/auth/login', {
      body: { email: freshEmail('nobody'), password: 'Not-The-Password-1' },
    });
    expect(wrong).toMatchObject({ status: 401, body: { error: 'Invalid email or password' } });
    expect(unknown).toMatchObject({ status: 401, body: wrong.body });
  });
});

describe('sessions over tRPC with cookies', () => {
  const browser = (cookie: string) => ({ cookie, origin: WEB_ORIGIN });

  it('sets the session cookie HttpOnly, SameSite=Lax, Path=/ and authenticates with it', async () => {
    const res = await trpcMutation(
      api.base,
      'auth.register',
      { email: freshEmail('cookie'), password: GOOD_PASSWORD },
      {
        origin: WEB_ORIGIN,
      },
    );
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^dawg_session=[a-z2-7]{32};/);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Secure');
    const cookie = setCookie.split(';')[0]!;
    const me = await trpcQuery(api.base, 'auth.me', undefined, browser(cookie));
    expect(me.body.result.data.email).toBe(res.body.result.data.user.email);

    const logout = await trpcMutation(api.base, 'auth.logout', undefined, browser(cookie));
    expect(logout.status).toBe(200);
    expect(logout.headers.get('set-cookie')).toMatch(/^dawg_session=; Max-Age=0;/);
    expect((await trpcQuery(api.base, 'auth.me', undefined, browser(cookie))).body.result.data).toBeNull();
  });

  it('marks the cookie Secure in production and scopes it to COOKIE_DOMAIN', () => {
    const cookie = sessionCookie({ NODE_ENV: 'production', COOKIE_DOMAIN: '.dawg-ai.com' }, 'tok', new Date(0));
    expect(cookie).toContain('Secure');
    expect(cookie).toContain('Domain=.dawg-ai.com');
    expect(cookie).toContain('HttpOnly');
  });

  it('changes the password: other sessions end, the current one stays, the old password stops working', async () => {
    const email = freshEmail('change');
    const first = await register(email);
    const second = await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: GOOD_PASSWORD } });
    const current = second.body.token as string;

    const wrong = await trpcMutation(
      api.base,
      'auth.changePassword',
      { currentPassword: 'Not-It-At-All-9', newPassword: 'Fresh-Lantern-Cactus-8' },
      bearer(current),
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.data.details).toEqual([{ path: ['currentPassword'], message: 'is incorrect' }]);

    const weak = await trpcMutation(
      api.base,
      'auth.changePassword',
      { currentPassword: GOOD_PASSWORD, newPassword: 'letmein123' },
      bearer(current),
    );
    expect(weak.status).toBe(400);
    expect(weak.body.error.data.details[0].path).toEqual(['newPassword']);

    const ok = await trpcMutation(
      api.base,
      'auth.changePassword',
      { currentPassword: GOOD_PASSWORD, newPassword: 'Fresh-Lantern-Cactus-8' },
      bearer(current),
    );
    expect(ok.status).toBe(200);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(first.token) })).status).toBe(401);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(current) })).status).toBe(200);
    const old = await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: GOOD_PASSWORD } });
    expect(old.status).toBe(401);
    const fresh = await rest(api.base, 'POST', '/api/auth/login', {
      body: { email, password: 'Fresh-Lantern-Cactus-8' },
    });
    expect(fresh.status).toBe(200);
  });

  it('lists sessions by opaque ids and revokes only the caller’s own', async () => {
    const email = freshEmail('sessions');
    const a = await register(email);
    const b = (await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: GOOD_PASSWORD } })).body
      .token as string;
    const list = (await trpcQuery(api.base, 'auth.sessions', undefined, bearer(b))).body.result.data as {
      id: string;
      current: boolean;
    }[];
    expect(list).toHaveLength(2);
    const stored = [sessionIdFromToken(a.token), sessionIdFromToken(b)];
    for (const s of list) {
      expect(s.id).toMatch(/^[0-9a-f]{32}$/);
      expect(stored.some((id) => id.includes(s.id))).toBe(false);
    }
    const other = list.find((s) => !s.current)!;

    const stranger = await createUser(database.db);
    const foreign = await trpcMutation(api.base, 'auth.revokeSession', { id: other.id }, bearer(stranger.token));
    expect(foreign.status).toBe(404);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(a.token) })).status).toBe(200);

    const mine = await trpcMutation(api.base, 'auth.revokeSession', { id: other.id }, bearer(b));
    expect(mine.status).toBe(200);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(a.token) })).status).toBe(401);
  });

  it('logs out over REST: the token stops working at once', async () => {
    const { token } = await register();
    expect((await rest(api.base, 'POST', '/api/auth/logout', { headers: bearer(token) })).status).toBe(200);
    expect(await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(token) })).toMatchObject({
      status: 401,
      body: { error: 'Invalid token' },
    });
  });
});

describe('API keys', () => {
  it('creates a key shown once, authenticates x-api-key as its user, records use, and fails at once when revoked', async () => {
    const { token, user } = await register();
    const created = await trpcMutation(api.base, 'apiKeys.create', { name: 'CI' }, bearer(token));
    expect(created.status).toBe(200);
    const { id, key, prefix } = created.body.result.data as { id: string; key: string; prefix: string };
    expect(key).toMatch(/^dawg_[a-z2-7]{32}$/);
    expect(key.startsWith(prefix)).toBe(true);
    expect(prefix.length).toBeLessThan(key.length / 2);

    const listed = (await trpcQuery(api.base, 'apiKeys.list', undefined, bearer(token))).body.result.data;
    expect(listed).toEqual([
      { id, name: 'CI', prefix, createdAt: expect.any(String), lastUsedAt: null, revokedAt: null },
    ]);
    expect(JSON.stringify(listed)).not.toContain(key);

    const me = await rest(api.base, 'GET', '/api/auth/me', { headers: { 'x-api-key': key } });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(user.id);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(key) })).status).toBe(200);
    const used = (await trpcQuery(api.base, 'apiKeys.list', undefined, bearer(token))).body.result.data[0];
    expect(used.lastUsedAt).not.toBeNull();

    // Keys cannot manage keys or the account.
    const byKey = await trpcMutation(api.base, 'apiKeys.create', { name: 'more' }, { 'x-api-key': key });
    expect(byKey.status).toBe(403);

    const stranger = await createUser(database.db);
    expect((await trpcMutation(api.base, 'apiKeys.revoke', { id }, bearer(stranger.token))).status).toBe(404);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: { 'x-api-key': key } })).status).toBe(200);

    expect((await trpcMutation(api.base, 'apiKeys.revoke', { id }, bearer(token))).status).toBe(200);
    expect(await rest(api.base, 'GET', '/api/auth/me', { headers: { 'x-api-key': key } })).toMatchObject({
      status: 401,
      body: { error: 'Invalid API key' },
    });
  });

  it('bounds the number of live keys per user', async () => {
    const { token } = await register();
    for (let i = 0; i < LIMITS.API_KEYS_PER_USER; i++) {
      expect((await trpcMutation(api.base, 'apiKeys.create', { name: `k${i}` }, bearer(token))).status).toBe(200);
    }
    expect((await trpcMutation(api.base, 'apiKeys.create', { name: 'one more' }, bearer(token))).status).toBe(409);
  });
});

describe('account deletion', () => {
  it('closes the account at once and enqueues maintenance.delete-account', async () => {
    const email = freshEmail('delete');
    const { token, user } = await register(email);
    const key = (await trpcMutation(api.base, 'apiKeys.create', { name: 'k' }, bearer(token))).body.result.data.key;

    const wrong = await trpcMutation(api.base, 'auth.deleteAccount', { password: 'Nope-Nope-Nope-1' }, bearer(token));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.data.details).toEqual([{ path: ['password'], message: 'is incorrect' }]);

    const ok = await trpcMutation(api.base, 'auth.deleteAccount', { password: GOOD_PASSWORD }, bearer(token));
    expect(ok.status).toBe(200);
    expect(ok.body.result.data).toEqual({ success: true });

    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: bearer(token) })).status).toBe(401);
    expect((await rest(api.base, 'GET', '/api/auth/me', { headers: { 'x-api-key': key } })).status).toBe(401);
    expect((await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: GOOD_PASSWORD } })).status).toBe(
      401,
    );

    const connection = new Redis(queueRedisUrl(api.env), { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix: api.prefix });
    try {
      const job = await queue.getJob(deleteAccountJobId(user.id));
      expect(job?.name).toBe(JOB_NAMES.deleteAccount);
      expect(job?.data).toEqual({ userId: user.id });
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});

describe('audit log', () => {
  it('records auth actions and every admin call, allowed or refused', async () => {
    const email = freshEmail('audit');
    const { user, token } = await register(email);
    await rest(api.base, 'POST', '/api/auth/login', { body: { email, password: 'Wrong-Password-00' } });
    const rows = await database.db
      .selectFrom('audit_logs')
      .selectAll()
      .where('user_id', '=', user.id)
      .orderBy('created_at')
      .execute();
    expect(rows.map((r) => [r.action, r.status_code])).toEqual([
      ['auth.register', 201],
      ['auth.login_failed', 401],
    ]);
    expect(rows[0]!.ip).toBe('127.0.0.1');
    expect(rows[0]!.user_agent).toBeTruthy();
    expect(JSON.stringify(rows)).not.toContain('Wrong-Password-00');

    const denied = await trpcQuery(api.base, 'admin.auditLogs', { limit: 5 }, bearer(token));
    expect(denied.status).toBe(403);
    const admin = await createUser(database.db, { role: 'admin' });
    const allowed = await trpcQuery(api.base, 'admin.auditLogs', { limit: 50, userId: user.id }, bearer(admin.token));
    expect(allowed.status).toBe(200);
    const actions = (allowed.body.result.data as { action: string; statusCode: number }[]).map(
      (r) => `${r.action}:${r.statusCode}`,
    );
    expect(actions).toContain('admin.admin.auditLogs:403');
    expect(actions).toContain('auth.register:201');
    const adminRows = await database.db
      .selectFrom('audit_logs')
      .select(['action', 'status_code'])
      .where('user_id', '=', admin.user.id)
      .execute();
    expect(adminRows).toEqual([{ action: 'admin.admin.auditLogs', status_code: 200 }]);
  });
});

describe('OpenAPI', () => {
  it('documents every REST route from its zod schemas, including routes added later', async () => {
    const res = await rest(api.base, 'GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    const expected: [string, string][] = [
      ['/api/auth/register', 'post'],
      ['/api/auth/login', 'post'],
      ['/api/auth/logout', 'post'],
      ['/api/auth/me', 'get'],
      ['/health', 'get'],
      ['/api/openapi.json', 'get'],
      ['/api/test/things/{id}', 'patch'],
    ];
    for (const [path, method] of expected) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    const register = doc.paths['/api/auth/register'].post;
    expect(register.requestBody.content['application/json'].schema).toMatchObject({
      type: 'object',
      properties: { email: { type: 'string', format: 'email' }, password: { type: 'string', minLength: 8 } },
      required: ['email', 'password'],
    });
    expect(Object.keys(register.responses)).toEqual(expect.arrayContaining(['201', '400', '429']));
    expect(register.security).toEqual([]);
    const patch = doc.paths['/api/test/things/{id}'].patch;
    expect(patch.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path', required: true })]);
    expect(patch.security).toContainEqual({ apiKeyAuth: [] });
    expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
  });

  it('shapes a response with its schema (undeclared fields are dropped)', async () => {
    const { token } = await register();
    const id = '00000000-0000-4000-8000-000000000000';
    const res = await rest(api.base, 'PATCH', `/api/test/things/${id}`, {
      headers: bearer(token),
      body: { label: 'x' },
    });
    expect(res).toMatchObject({ status: 200, body: { id, label: 'x' } });
    expect(res.body.secret).toBeUndefined();
    const bad = await rest(api.base, 'PATCH', '/api/test/things/nope', { headers: bearer(token), body: { label: 7 } });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: string[] }) => d.path[0])).toEqual(['label']);
  });
});
