/**
 * Migration 0600's compatibility views on PGlite (what `pnpm dev` embeds): the seed's appendix C queries run as
 * written and count what the rows say. The same queries run through psql on Postgres 15 in
 * scripts/ops/seed-sql.int.test.ts.
 */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../src/migrate';

let pglite: PGlite;
let db: Kysely<any>;

beforeAll(async () => {
  pglite = new PGlite();
  db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
  await migrateToLatest(db);
  const [a, b] = await Promise.all(
    ['a@example.com', 'b@example.com'].map((email) =>
      db.insertInto('users').values({ email }).returning('id').executeTakeFirstOrThrow(),
    ),
  );
  await db
    .updateTable('users')
    .set({ last_login_at: sql`now() - interval '1 hour'` })
    .where('id', '=', a!.id)
    .execute();
  await db
    .updateTable('users')
    .set({ last_login_at: sql`now() - interval '2 days'` })
    .where('id', '=', b!.id)
    .execute();
  for (const [status, duration] of [
    ['succeeded', 1_000],
    ['succeeded', 2_000],
    ['failed', 400],
  ] as const) {
    await db
      .insertInto('generations')
      .values({
        owner_id: a!.id,
        prompt: 'p',
        provider: 'test',
        model: 'tone',
        status,
        stage: status === 'succeeded' ? 'done' : 'queued',
        error: status === 'failed' ? 'render failed' : null,
        duration_ms: duration,
      })
      .execute();
  }
}, 60_000);

afterAll(async () => {
  await db.destroy();
});

describe('seed compatibility views on PGlite', { timeout: 60_000 }, () => {
  it('answers the appendix C queries as written', async () => {
    const active = await pglite.query<{ active_users: number }>(`
  SELECT COUNT(*) as active_users
  FROM "User"
  WHERE "lastLoginAt" > NOW() - INTERVAL '24 hours';
`);
    expect(Number(active.rows[0]!.active_users)).toBe(1);
    const stats = await pglite.query<{ status: string; count: number; avg_duration_ms: string }>(`
  SELECT
    status,
    COUNT(*) as count,
    AVG(duration) as avg_duration_ms
  FROM "Generation"
  WHERE "createdAt" > NOW() - INTERVAL '24 hours'
  GROUP BY status;
`);
    const byStatus = Object.fromEntries(
      stats.rows.map((r) => [r.status, [Number(r.count), Number(r.avg_duration_ms)]]),
    );
    expect(byStatus).toEqual({ completed: [2, 1500], failed: [1, 400] });
    const count = await pglite.query<{ count: number }>(`SELECT COUNT(*) FROM "User";`);
    expect(Number(count.rows[0]!.count)).toBe(2);
  });
});
