/**
 * The auth queries on a real Postgres: session checks that tell expired from invalid and report renewals, public
 * session ids, owner-scoped session revocation, API keys (hash-only storage, owner-scoped list and revoke, live-key
 * limit, revoked/expired/disabled keys refused, use recorded) and the audit trail.
 */
import { LIMITS } from '@dawg/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiKeyHash,
  checkSessionToken,
  createApiKey,
  createDb,
  createSession,
  createUser,
  invalidateUserSessionByPublicId,
  invalidateUserSessions,
  listApiKeys,
  listAuditLogs,
  listUserAuditLogs,
  listUserStorageKeys,
  recordAudit,
  revokeApiKey,
  revokeUserApiKeys,
  sessionIdFromToken,
  sessionPublicId,
  setUserDisabled,
  validateApiKey,
  type Db,
} from '../src/index';
import { createFreshDatabase } from './fresh-database';
import { migrateToLatest } from '../src/migrate';

const DAY = 24 * 60 * 60 * 1000;
let db: Db;
let drop: () => Promise<void>;
let n = 0;

beforeAll(async () => {
  const fresh = await createFreshDatabase('auth-queries');
  drop = fresh.drop;
  db = createDb({ connectionString: fresh.url, max: 3 });
  await migrateToLatest(db);
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

const newUser = () => createUser(db, { email: `auth-${++n}@example.com` });

describe('sessions', () => {
  it('tells valid, invalid and expired apart and reports renewals of the sliding expiry', async () => {
    const user = await newUser();
    const { token } = await createSession(db, user.id);
    expect(await checkSessionToken(db, token)).toMatchObject({ status: 'valid', renewed: false });
    expect(await checkSessionToken(db, 'a'.repeat(32))).toEqual({ status: 'invalid' });
    expect(await checkSessionToken(db, 'not a token')).toEqual({ status: 'invalid' });
    const in20Days = new Date(Date.now() + 20 * DAY);
    const renewed = await checkSessionToken(db, token, { now: in20Days });
    expect(renewed).toMatchObject({ status: 'valid', renewed: true });
    expect(await checkSessionToken(db, token, { now: new Date(in20Days.getTime() + 31 * DAY) })).toEqual({
      status: 'expired',
    });
    // The expired row was deleted: now it is simply unknown.
    expect(await checkSessionToken(db, token)).toEqual({ status: 'invalid' });
  });

  it('hands out public ids that are not the stored id, and revokes only the owner’s sessions by them', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const a1 = await createSession(db, alice.id);
    const a2 = await createSession(db, alice.id);
    const publicId = sessionPublicId(a2.session.id);
    expect(publicId).toMatch(/^[0-9a-f]{32}$/);
    expect(a2.session.id).not.toContain(publicId);
    expect(await invalidateUserSessionByPublicId(db, bob.id, publicId)).toBeNull();
    expect(await invalidateUserSessionByPublicId(db, alice.id, publicId)).toBe(a2.session.id);
    expect(await checkSessionToken(db, a2.token)).toEqual({ status: 'invalid' });
    expect(await checkSessionToken(db, a1.token)).toMatchObject({ status: 'valid' });

    const a3 = await createSession(db, alice.id);
    expect(await invalidateUserSessions(db, alice.id, { exceptSessionId: a3.session.id })).toBe(1);
    expect(await checkSessionToken(db, a3.token)).toMatchObject({ status: 'valid' });
    expect(sessionIdFromToken(a3.token)).toBe(a3.session.id);
  });
});

describe('API keys', () => {
  it('stores only a hash and a short prefix, and validates by the whole key', async () => {
    const user = await newUser();
    const { key, apiKey } = await createApiKey(db, user.id, { name: 'ci' });
    expect(key).toMatch(/^dawg_[a-z2-7]{32}$/);
    expect(apiKey.prefix).toBe(key.slice(0, 12));
    const row = await db.selectFrom('api_keys').selectAll().where('id', '=', apiKey.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(apiKeyHash(key));
    expect(JSON.stringify(row)).not.toContain(key);

    const found = await validateApiKey(db, key);
    expect(found?.user.id).toBe(user.id);
    expect(found?.apiKey.last_used_at).not.toBeNull();
    expect(await validateApiKey(db, `${key.slice(0, -1)}${key.endsWith('a') ? 'b' : 'a'}`)).toBeNull();
    expect(await validateApiKey(db, 'dawg_short')).toBeNull();
  });

  it('lists and revokes only the owner’s keys; revoked, expired and disabled-user keys fail', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const { key, apiKey } = await createApiKey(db, alice.id, { name: 'a' });
    expect(await listApiKeys(db, bob.id)).toEqual([]);
    expect((await listApiKeys(db, alice.id)).map((k) => k.id)).toEqual([apiKey.id]);
    expect(await revokeApiKey(db, bob.id, apiKey.id)).toBe(false);
    expect(await validateApiKey(db, key)).not.toBeNull();
    expect(await revokeApiKey(db, alice.id, apiKey.id)).toBe(true);
    expect(await revokeApiKey(db, alice.id, apiKey.id)).toBe(false);
    expect(await validateApiKey(db, key)).toBeNull();

    const expiring = await createApiKey(db, alice.id, { name: 'e', expiresAt: new Date(Date.now() + 1_000) });
    expect(await validateApiKey(db, expiring.key, { now: new Date(Date.now() + 2_000) })).toBeNull();

    const live = await createApiKey(db, alice.id, { name: 'l' });
    await setUserDisabled(db, alice.id, true);
    expect(await validateApiKey(db, live.key)).toBeNull();
    await setUserDisabled(db, alice.id, false);
    expect(await revokeUserApiKeys(db, alice.id)).toEqual(expect.arrayContaining([live.apiKey.id, expiring.apiKey.id]));
    expect(await validateApiKey(db, live.key)).toBeNull();
  });

  it('limits live keys per user', async () => {
    const user = await newUser();
    const created = await Promise.all(
      Array.from({ length: LIMITS.API_KEYS_PER_USER + 3 }, (_, i) =>
        createApiKey(db, user.id, { name: `k${i}` }).then(
          () => 'ok',
          (err: { code?: string }) => err.code,
        ),
      ),
    );
    expect(created.filter((r) => r === 'ok')).toHaveLength(LIMITS.API_KEYS_PER_USER);
    expect(created.filter((r) => r === 'CONFLICT')).toHaveLength(3);
  });
});

describe('audit and storage keys', () => {
  it('appends audit rows and lists them per user and for admins', async () => {
    const user = await newUser();
    await recordAudit(db, {
      userId: user.id,
      action: 'auth.login',
      ip: '127.0.0.1',
      userAgent: 'x'.repeat(2_000),
      statusCode: 200,
    });
    await recordAudit(db, {
      userId: null,
      action: 'auth.login_failed',
      statusCode: 401,
      metadata: { reason: 'unknown_email' },
    });
    const mine = await listUserAuditLogs(db, user.id, { limit: 10 });
    expect(mine.map((r) => r.action)).toEqual(['auth.login']);
    expect(mine[0]!.user_agent).toHaveLength(512);
    const failed = await listAuditLogs(db, { limit: 10, action: 'auth.login_failed' });
    expect(failed[0]?.metadata).toEqual({ reason: 'unknown_email' });
  });

  it('lists every storage key of a user’s tracks, and only theirs', async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    await db
      .insertInto('tracks')
      .values([
        { owner_id: alice.id, source: 'uploaded', title: 'a', mp3_key: 'k/a.mp3', peaks_key: 'k/a.json' },
        { owner_id: bob.id, source: 'uploaded', title: 'b', mp3_key: 'k/b.mp3' },
      ])
      .execute();
    expect(await listUserStorageKeys(db, alice.id)).toEqual(['k/a.json', 'k/a.mp3']);
  });
});
