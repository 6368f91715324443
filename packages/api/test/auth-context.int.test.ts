/**
 * Who is calling: session tokens from the Authorization header, the session cookie or WebSocket connection params,
 * and API keys (Bearer or x-api-key), resolve to the user through @dawg/db; protected, session and admin procedures
 * enforce them.
 */
import { createApiKey, sessionIdFromToken } from '@dawg/db';
import { apiEnvSchema, parseEnv, SESSION_COOKIE_NAME } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  testEnv,
  uniqueRedisPrefix,
  type TestDatabase,
} from '@dawg/testing';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  presentedCredential,
  resolveContextUser,
  resolveRequestAuth,
  sessionTokenFrom,
  unauthorizedMessage,
} from '../src/auth/context-user';
import { createRateLimits } from '../src/perimeter/rate-limit';
import {
  adminProcedure,
  createCallerFactory,
  protectedProcedure,
  router,
  sessionProcedure,
  type Context,
} from '../src/trpc';

const C = SESSION_COOKIE_NAME;

let database: TestDatabase;
const prefix = uniqueRedisPrefix('auth-context');
const redis = new Redis(defaultRedisUrl());
let member: Awaited<ReturnType<typeof createUser>>;
let admin: Awaited<ReturnType<typeof createUser>>;

beforeAll(async () => {
  database = await createTestDatabase();
  [member, admin] = await Promise.all([createUser(database.db), createUser(database.db, { role: 'admin' })]);
});

afterAll(async () => {
  await database?.drop();
  await flushPrefix(defaultRedisUrl(), prefix);
  redis.disconnect();
});

describe('sessionTokenFrom', () => {
  it('reads Bearer, then connection params, then the session cookie', () => {
    expect(sessionTokenFrom({ authorization: 'Bearer abc', cookie: `${C}=def` })).toBe('abc');
    expect(sessionTokenFrom({ cookie: `theme=dark; ${C}=def` }, { token: 'ghi' })).toBe('ghi');
    expect(sessionTokenFrom({ cookie: `theme=dark; ${C}=def` })).toBe('def');
    expect(sessionTokenFrom({ authorization: 'Basic abc', cookie: `${C}=def` })).toBeNull();
    expect(sessionTokenFrom({ authorization: `Bearer ${'x'.repeat(1000)}` })).toBeNull();
    expect(sessionTokenFrom({ cookie: 'session=old-name' })).toBeNull();
    expect(sessionTokenFrom({})).toBeNull();
  });

  it('tells API keys from session tokens, and x-api-key from Bearer', () => {
    expect(presentedCredential({ 'x-api-key': 'dawg_abc' })).toEqual({
      credential: 'api-key',
      value: 'dawg_abc',
      kind: 'api-key',
    });
    expect(presentedCredential({ authorization: 'Bearer dawg_abc' })?.kind).toBe('api-key');
    expect(presentedCredential({ authorization: 'Bearer abc', 'x-api-key': 'dawg_abc' })?.kind).toBe('session');
    expect(presentedCredential({})).toBeNull();
  });
});

describe('resolveContextUser', () => {
  it('resolves a valid token from each carrier and nothing from a bad one', async () => {
    const viaHeader = await resolveContextUser(database.db, { authorization: `Bearer ${member.token}` });
    expect(viaHeader.user?.id).toBe(member.user.id);
    expect(viaHeader.session).not.toBeNull();
    const viaCookie = await resolveContextUser(database.db, { cookie: `${C}=${encodeURIComponent(admin.token)}` });
    expect(viaCookie.user?.id).toBe(admin.user.id);
    const viaParams = await resolveContextUser(database.db, {}, { token: member.token });
    expect(viaParams.user?.id).toBe(member.user.id);
    expect(await resolveContextUser(database.db, { authorization: 'Bearer not-a-real-token' })).toEqual({
      user: null,
      session: null,
    });
  });
});

describe('resolveRequestAuth', () => {
  it('resolves API keys, and keeps the reason of a failure for the seed 401 wording', async () => {
    const { key, apiKey } = await createApiKey(database.db, member.user.id, { name: 'ci' });
    const viaKey = await resolveRequestAuth(database.db, { 'x-api-key': key });
    expect(viaKey).toMatchObject({ credential: 'api-key', failure: null, session: null });
    expect(viaKey.user?.id).toBe(member.user.id);
    expect(viaKey.apiKey?.id).toBe(apiKey.id);
    expect((await resolveRequestAuth(database.db, { authorization: `Bearer ${key}` })).apiKey?.id).toBe(apiKey.id);

    const cases: [Record<string, string>, string][] = [
      [{}, 'No token provided'],
      [{ authorization: 'Bearer not-a-real-token' }, 'Invalid token'],
      [{ authorization: 'Basic abc' }, 'Invalid token'],
      [{ 'x-api-key': 'dawg_nope' }, 'Invalid API key'],
    ];
    for (const [headers, message] of cases) {
      const auth = await resolveRequestAuth(database.db, headers);
      expect(auth.user, JSON.stringify(headers)).toBeNull();
      expect(unauthorizedMessage(auth)).toBe(message);
    }

    const stale = await createUser(database.db);
    await database.db
      .updateTable('sessions')
      .set({ expires_at: new Date(Date.now() - 1_000) })
      .where('id', '=', sessionIdFromToken(stale.token))
      .execute();
    const expired = await resolveRequestAuth(database.db, { authorization: `Bearer ${stale.token}` });
    expect(unauthorizedMessage(expired)).toBe('Token expired');
  });
});

describe('protected, session and admin procedures', () => {
  const testRouter = router({
    me: protectedProcedure.query(({ ctx }) => ctx.user.id),
    account: sessionProcedure.query(({ ctx }) => ctx.session.user_id),
    adminOnly: adminProcedure.query(({ ctx }) => `admin ${ctx.user.id}`),
  });
  const createCaller = createCallerFactory(testRouter);
  const log = pino({ level: 'silent' });
  const env = parseEnv(apiEnvSchema, testEnv({ redisPrefix: prefix }));
  const limits = createRateLimits({ redis, env, redisKey: (...parts) => [prefix, ...parts].join(':'), log });

  async function callerFor(headers: Record<string, string>) {
    const auth = await resolveRequestAuth(database.db, headers);
    const req = { id: 't', ip: '127.0.0.1', headers, transport: 'http' as const };
    return createCaller({
      db: database.db,
      log,
      limits,
      req,
      reply: null,
      auth,
      user: auth.user,
      session: auth.session,
    } as unknown as Context);
  }

  async function codeOf(promise: Promise<unknown>): Promise<string> {
    try {
      await promise;
      return 'OK';
    } catch (err) {
      return err instanceof TRPCError ? err.code : 'NOT_TRPC';
    }
  }

  it('UNAUTHORIZED without a session, FORBIDDEN for a non-admin, allowed for an admin', async () => {
    const anonymous = await callerFor({});
    expect(await codeOf(anonymous.me())).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.adminOnly())).toBe('UNAUTHORIZED');

    const user = await callerFor({ authorization: `Bearer ${member.token}` });
    expect(await user.me()).toBe(member.user.id);
    expect(await codeOf(user.adminOnly())).toBe('FORBIDDEN');

    const boss = await callerFor({ cookie: `${C}=${admin.token}` });
    expect(await boss.adminOnly()).toBe(`admin ${admin.user.id}`);
    expect(await boss.account()).toBe(admin.user.id);
  });

  it('lets API keys call protected procedures but not session-only ones', async () => {
    const { key } = await createApiKey(database.db, member.user.id, { name: 'integration' });
    const viaKey = await callerFor({ 'x-api-key': key });
    expect(await viaKey.me()).toBe(member.user.id);
    expect(await codeOf(viaKey.account())).toBe('FORBIDDEN');
  });
});
