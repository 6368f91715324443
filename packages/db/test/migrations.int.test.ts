/**
 * Migrations on a real Postgres (the production engine): up → all the way down → up, with the table set asserted
 * each time; then, on the migrated database, the session model, user helpers, seed and column conventions.
 */
import { AppError } from '@dawg/shared';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDb,
  createSession,
  createUser,
  findUserByEmail,
  invalidateSession,
  invalidateUserSessions,
  json,
  migrateDown,
  migrateToLatest,
  migrationStatus,
  seed,
  sessionIdFromToken,
  setUserDisabled,
  validateSessionToken,
  verifyPassword,
  MIGRATIONS,
  TABLE_NAMES,
  type Db,
} from '../src/index';
import { createFreshDatabase } from './fresh-database';
import { MIGRATOR_TABLES, listTables } from './introspect';

const DAY = 24 * 60 * 60 * 1000;

let db: Db;
let drop: () => Promise<void>;

beforeAll(async () => {
  const fresh = await createFreshDatabase('migrations');
  drop = fresh.drop;
  db = createDb({ connectionString: fresh.url, max: 3 });
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

const appTables = async () => (await listTables(db)).filter((t) => !MIGRATOR_TABLES.includes(t));

describe('migrations', () => {
  it('go up, all the way down, and up again', async () => {
    const names = Object.keys(MIGRATIONS);
    expect(await appTables()).toEqual([]);

    expect(await migrateToLatest(db)).toEqual(names);
    expect(await appTables()).toEqual([...TABLE_NAMES].sort());
    expect((await migrationStatus(db)).map((m) => m.executedAt !== null)).toEqual(names.map(() => true));

    // One step down reverts exactly the last migration (whatever it is) and leaves the earlier ones in place.
    expect(await migrateDown(db)).toEqual([names.at(-1)]);
    expect((await migrationStatus(db)).map((m) => m.executedAt !== null)).toEqual(
      names.map((_, i) => i < names.length - 1),
    );
    expect(await appTables()).toContain('audit_logs');

    expect(await migrateDown(db, { all: true })).toEqual(names.slice(0, -1).reverse());
    expect(await appTables()).toEqual([]);
    const { rows } = await sql<{
      n: number;
    }>`select count(*)::int as n from pg_proc where proname = 'set_updated_at'`.execute(db);
    expect(rows[0]?.n).toBe(0);

    expect(await migrateToLatest(db)).toEqual(names);
    expect(await appTables()).toEqual([...TABLE_NAMES].sort());
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('serialise concurrent migrators (several processes may start at once)', async () => {
    await migrateDown(db, { all: true });
    const results = await Promise.all([migrateToLatest(db), migrateToLatest(db)]);
    expect(results.flat().sort()).toEqual(Object.keys(MIGRATIONS).sort());
    expect(await appTables()).toEqual([...TABLE_NAMES].sort());
  });
});

describe('sessions', () => {
  it('store only the SHA-256 of the token and validate it', async () => {
    const user = await createUser(db, { email: 'Alice@Example.com', passwordHash: 'x', name: 'Alice' });
    const { token, session } = await createSession(db, user.id, { userAgent: 'vitest', ip: '127.0.0.1' });

    expect(token).toMatch(/^[a-z2-7]{32}$/);
    expect(session.id).toBe(sessionIdFromToken(token));
    expect(session.id).toMatch(/^[0-9a-f]{64}$/);
    const stored = await db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).execute();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token);

    const result = await validateSessionToken(db, token);
    expect(result?.session.id).toBe(session.id);
    expect(result?.user).toMatchObject({ id: user.id, email: 'alice@example.com', role: 'user', plan: 'free' });
    expect(result?.user).not.toHaveProperty('password_hash');

    expect(
      await validateSessionToken(
        db,
        token.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')),
      ),
    ).toBeNull();
    expect(await validateSessionToken(db, 'not-a-token')).toBeNull();
    expect(await validateSessionToken(db, session.id)).toBeNull();
  });

  it('extend a session with fewer than 15 days left to 30 days, and leave a fresher one alone', async () => {
    const user = await createUser(db, { email: 'bob@example.com' });
    const now = new Date();

    const old = await createSession(db, user.id, { now: new Date(now.getTime() - 20 * DAY) });
    expect(old.session.expires_at.getTime()).toBe(now.getTime() + 10 * DAY);
    const extended = await validateSessionToken(db, old.token, { now });
    expect(extended?.session.expires_at.getTime()).toBe(now.getTime() + 30 * DAY);
    const row = await db
      .selectFrom('sessions')
      .select('expires_at')
      .where('id', '=', old.session.id)
      .executeTakeFirst();
    expect(row?.expires_at.getTime()).toBe(now.getTime() + 30 * DAY);

    const fresh = await createSession(db, user.id, { now: new Date(now.getTime() - 10 * DAY) });
    const kept = await validateSessionToken(db, fresh.token, { now });
    expect(kept?.session.expires_at.getTime()).toBe(fresh.session.expires_at.getTime());
  });

  it('reject and delete an expired session', async () => {
    const user = await createUser(db, { email: 'carol@example.com' });
    const now = new Date();
    const { token, session } = await createSession(db, user.id, { now: new Date(now.getTime() - 31 * DAY) });
    expect(await validateSessionToken(db, token, { now })).toBeNull();
    expect(
      await db.selectFrom('sessions').select('id').where('id', '=', session.id).executeTakeFirst(),
    ).toBeUndefined();
  });

  it('invalidate one session, all of a user, and those of a disabled user', async () => {
    const user = await createUser(db, { email: 'dave@example.com' });
    const a = await createSession(db, user.id);
    const b = await createSession(db, user.id);
    const c = await createSession(db, user.id);

    await invalidateSession(db, a.session.id);
    expect(await validateSessionToken(db, a.token)).toBeNull();
    expect(await validateSessionToken(db, b.token)).not.toBeNull();

    await setUserDisabled(db, user.id, true);
    expect(await validateSessionToken(db, b.token)).toBeNull();
    await setUserDisabled(db, user.id, false);
    expect(await validateSessionToken(db, b.token)).not.toBeNull();

    expect(await invalidateUserSessions(db, user.id)).toBe(2);
    expect(await validateSessionToken(db, c.token)).toBeNull();
  });
});

describe('users and conventions', () => {
  it('treat emails case-insensitively and refuse duplicates with CONFLICT', async () => {
    await createUser(db, { email: 'erin@example.com' });
    const dup = createUser(db, { email: ' ERIN@example.com ' });
    await expect(dup).rejects.toBeInstanceOf(AppError);
    await expect(dup).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await findUserByEmail(db, 'Erin@Example.COM'))?.email).toBe('erin@example.com');
  });

  it('refuse values outside the CHECKed enums', async () => {
    await expect(
      db
        .insertInto('users')
        .values({ email: 'frank@example.com', role: 'root' as never })
        .execute(),
    ).rejects.toThrow(/check constraint/);
  });

  it('keep updated_at current unless a writer sets it', async () => {
    const user = await createUser(db, { email: 'gina@example.com' });
    const past = new Date('2000-01-01T00:00:00Z');
    await db.updateTable('users').set({ updated_at: past }).where('id', '=', user.id).execute();
    const pinned = await db
      .selectFrom('users')
      .select('updated_at')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(pinned.updated_at.getTime()).toBe(past.getTime());
    await db.updateTable('users').set({ name: 'Gina' }).where('id', '=', user.id).execute();
    const touched = await db
      .selectFrom('users')
      .select('updated_at')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(touched.updated_at.getTime()).toBeGreaterThan(past.getTime());
  });

  it('read bigint as a number and round-trip jsonb arrays', async () => {
    const user = await createUser(db, { email: 'hank@example.com' });
    const conversation = await db
      .insertInto('conversations')
      .values({ user_id: user.id })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('messages')
      .values({
        conversation_id: conversation.id,
        role: 'assistant',
        content: 'hi',
        tool_calls: json([{ name: 'set_tempo', arguments: { bpm: 128 } }]),
        cost_micro: 5_000_000_000,
      })
      .execute();
    await db
      .insertInto('messages')
      .values({ conversation_id: conversation.id, role: 'user', content: 'again' })
      .execute();
    const rows = await db
      .selectFrom('messages')
      .select(['seq', 'tool_calls', 'cost_micro'])
      .where('conversation_id', '=', conversation.id)
      .orderBy('seq')
      .execute();
    expect(rows[0]?.cost_micro).toBe(5_000_000_000);
    expect(rows[0]?.tool_calls).toEqual([{ name: 'set_tempo', arguments: { bpm: 128 } }]);
    expect(typeof rows[0]?.seq).toBe('number');
    expect(rows[1]!.seq).toBeGreaterThan(rows[0]!.seq);
  });

  it('seed an admin, a demo user and a demo project, idempotently', async () => {
    const opts = {
      adminEmail: 'admin@dawg-ai.test',
      adminPassword: 'admin-password',
      demoEmail: 'demo@dawg-ai.test',
      demoPassword: 'demo-password',
    };
    const first = await seed(db, opts);
    expect(first.created).toEqual({ admin: true, demoUser: true, demoProject: true });
    const [again, concurrent] = await Promise.all([seed(db, opts), seed(db, opts)]);
    for (const r of [again, concurrent]) {
      expect(r.created).toEqual({ admin: false, demoUser: false, demoProject: false });
      expect(r.demoProjectId).toBe(first.demoProjectId);
    }
    const admin = await findUserByEmail(db, opts.adminEmail);
    expect(admin?.role).toBe('admin');
    expect(await verifyPassword(admin!.password_hash!, 'admin-password')).toBe(true);
    const lanes = await db.selectFrom('lanes').select('name').where('project_id', '=', first.demoProjectId).execute();
    expect(lanes.map((l) => l.name)).toEqual(['Drums', 'Bass', 'Keys']);
    const projects = await db.selectFrom('projects').select('id').where('owner_id', '=', first.demoUserId).execute();
    expect(projects).toHaveLength(1);
  });
});
