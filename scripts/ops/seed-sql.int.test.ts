/**
 * The seed's psql checks, run with psql exactly as the seed writes them (pre-deployment 2.4, post-deploy 4,
 * troubleshooting 4, rollback 3 and appendix C), against a migrated database: the compatibility views of migration
 * 0600 (`"User"`, `"Generation"`, ...) answer them over our snake_case tables, with the numbers the rows imply.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
let database: TestDatabase;

/** `psql "$DATABASE_URL" -c "<command>"`, unaligned so the test can read the answer. */
async function psql(command: string): Promise<string[]> {
  const { stdout } = await exec('psql', [
    database.url,
    '--no-psqlrc',
    '-X',
    '-A',
    '-t',
    '-F',
    '|',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    command,
  ]);
  return stdout.trim().split('\n').filter(Boolean);
}

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  const recent = await createUser(db);
  const recent2 = await createUser(db);
  const old = await createUser(db);
  await db
    .updateTable('users')
    .set({ last_login_at: sql`now() - interval '2 hours'` })
    .where('id', 'in', [recent.user.id, recent2.user.id])
    .execute();
  await db
    .updateTable('users')
    .set({ last_login_at: sql`now() - interval '3 days'` })
    .where('id', '=', old.user.id)
    .execute();

  const gen = (status: string, durationMs: number | null, age: string) =>
    db
      .insertInto('generations')
      .values({
        owner_id: recent.user.id,
        prompt: 'seed sql check',
        provider: 'test',
        model: 'tone',
        status: status as never,
        stage: status === 'succeeded' ? 'done' : 'queued',
        error: status === 'failed' ? 'render failed' : null,
        duration_ms: durationMs,
        created_at: sql`now() - ${sql.raw(`interval '${age}'`)}` as never,
      })
      .execute();
  await gen('succeeded', 1_000, '1 hour');
  await gen('succeeded', 3_000, '2 hours');
  await gen('failed', 500, '3 hours');
  await gen('queued', null, '5 minutes');
  await gen('succeeded', 99_000, '2 days'); // outside the 24-hour window
});

afterAll(async () => {
  await database?.drop();
});

describe("the seed's SQL, as written", () => {
  it('pre-deployment 2.4: \\dt lists the tables; the seed names exist as relations', async () => {
    const tables = (await psql('\\dt')).map((l) => l.split('|')[1]);
    expect(tables).toEqual(expect.arrayContaining(['users', 'sessions', 'conversations', 'messages', 'generations']));
    // \dt lists tables only; the seed's names are the compatibility views (\dv).
    const views = (await psql('\\dv')).map((l) => l.split('|')[1]);
    expect(views).toEqual(
      expect.arrayContaining(['User', 'Session', 'Conversation', 'Message', 'Generation', 'AIMemory', 'Project']),
    );
  });

  it('post-deploy 4 and rollback 3: counting and explaining "User"', async () => {
    expect(await psql('SELECT COUNT(*) FROM "User";')).toEqual(['3']);
    const plan = await psql('EXPLAIN ANALYZE SELECT * FROM "User" LIMIT 10;');
    expect(plan.join('\n')).toMatch(/Execution Time: [\d.]+ ms/);
    expect(await psql('SELECT 1;')).toEqual(['1']);
  });

  it('appendix C: active users over "User"."lastLoginAt"', async () => {
    const rows = await psql(`
  SELECT COUNT(*) as active_users
  FROM "User"
  WHERE "lastLoginAt" > NOW() - INTERVAL '24 hours';
`);
    expect(rows).toEqual(['2']);
  });

  it('appendix C: generation stats of the last 24 hours', async () => {
    const rows = await psql(`
  SELECT
    status,
    COUNT(*) as count,
    AVG(duration) as avg_duration_ms
  FROM "Generation"
  WHERE "createdAt" > NOW() - INTERVAL '24 hours'
  GROUP BY status;
`);
    const byStatus = Object.fromEntries(
      rows.map((r) => {
        const [status, count, avg] = r.split('|');
        return [status, { count: Number(count), avg: avg === '' ? null : Number(avg) }];
      }),
    );
    expect(byStatus).toEqual({
      completed: { count: 2, avg: 2000 },
      failed: { count: 1, avg: 500 },
      queued: { count: 1, avg: null },
    });
  });

  it('troubleshooting 4: connection checks', async () => {
    expect(Number((await psql('SELECT count(*) FROM pg_stat_activity;'))[0])).toBeGreaterThan(0);
    expect(Number((await psql('SHOW max_connections;'))[0])).toBeGreaterThan(0);
  });

  it('the views hold no secrets', async () => {
    const columns = await psql(
      `select table_name || '.' || column_name from information_schema.columns
       where table_schema = 'public' and table_name in ('User', 'Session') order by 1`,
    );
    expect(columns.join(' ')).not.toMatch(/password|hash|token/i);
  });
});
