/**
 * Who is calling: session tokens from the Authorization header, the `session` cookie or WebSocket connection
 * params resolve to the user through @dawg/db's sessions; protected and admin procedures enforce them.
 */
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveContextUser, sessionTokenFrom } from '../src/auth/context-user';
import { adminProcedure, createCallerFactory, protectedProcedure, router, type Context } from '../src/trpc';

let database: TestDatabase;
let member: Awaited<ReturnType<typeof createUser>>;
let admin: Awaited<ReturnType<typeof createUser>>;

beforeAll(async () => {
  database = await createTestDatabase();
  [member, admin] = await Promise.all([createUser(database.db), createUser(database.db, { role: 'admin' })]);
});

afterAll(async () => {
  await database?.drop();
});

describe('sessionTokenFrom', () => {
  it('reads Bearer, then connection params, then the session cookie', () => {
    expect(sessionTokenFrom({ authorization: 'Bearer abc', cookie: 'session=def' })).toBe('abc');
    expect(sessionTokenFrom({ cookie: 'theme=dark; session=def' }, { token: 'ghi' })).toBe('ghi');
    expect(sessionTokenFrom({ cookie: 'theme=dark; session=def' })).toBe('def');
    expect(sessionTokenFrom({ authorization: 'Basic abc', cookie: 'session=def' })).toBeNull();
    expect(sessionTokenFrom({ authorization: `Bearer ${'x'.repeat(1000)}` })).toBeNull();
    expect(sessionTokenFrom({})).toBeNull();
  });
});

describe('resolveContextUser', () => {
  it('resolves a valid token from each carrier and nothing from a bad one', async () => {
    const viaHeader = await resolveContextUser(database.db, { authorization: `Bearer ${member.token}` });
    expect(viaHeader.user?.id).toBe(member.user.id);
    expect(viaHeader.session).not.toBeNull();
    const viaCookie = await resolveContextUser(database.db, { cookie: `session=${encodeURIComponent(admin.token)}` });
    expect(viaCookie.user?.id).toBe(admin.user.id);
    const viaParams = await resolveContextUser(database.db, {}, { token: member.token });
    expect(viaParams.user?.id).toBe(member.user.id);
    expect(await resolveContextUser(database.db, { authorization: 'Bearer not-a-real-token' })).toEqual({
      user: null,
      session: null,
    });
  });
});

describe('protected and admin procedures', () => {
  const testRouter = router({
    me: protectedProcedure.query(({ ctx }) => ctx.user.id),
    adminOnly: adminProcedure.query(({ ctx }) => `admin ${ctx.user.id}`),
  });
  const createCaller = createCallerFactory(testRouter);

  async function callerFor(headers: Record<string, string>) {
    const auth = await resolveContextUser(database.db, headers);
    // Only the fields these procedures read; the rest of the context is not involved.
    return createCaller({ db: database.db, ...auth } as unknown as Context);
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

    const boss = await callerFor({ cookie: `session=${admin.token}` });
    expect(await boss.adminOnly()).toBe(`admin ${admin.user.id}`);
  });
});
