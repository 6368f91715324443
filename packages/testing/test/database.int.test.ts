import { sql } from 'kysely';
import { inject } from 'vitest';
import { afterAll, describe, expect, it } from 'vitest';
import { validateSessionToken } from '@dawg/db';
import { createTestDatabase, type TestDatabase } from '../src/database';
import { createUser } from '../src/fixtures';
import { migrationsHash } from '../src/global-setup';
import { withAdminClient } from '../src/pg-admin';

const opened: TestDatabase[] = [];

afterAll(async () => {
  for (const t of opened) await t.drop();
});

async function exists(name: string): Promise<boolean> {
  return withAdminClient(
    async (c) => ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount ?? 0) > 0,
  );
}

describe('createTestDatabase', () => {
  it('clones the migrated template named after the migration files', async () => {
    expect(inject('templateDatabase')).toBe(`dawg_tpl_${await migrationsHash()}`);
    const t = await createTestDatabase();
    opened.push(t);
    expect(t.name).toMatch(new RegExp(`^dawg_t_${inject('testRunId')}_[0-9a-f]{10}$`));
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(t.db);
    expect(rows[0]!.n).toBeGreaterThan(0);
    expect(await t.db.selectFrom('users').select('id').execute()).toEqual([]);
  });

  it('gives each caller its own database', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    opened.push(a!, b!);
    expect(a!.name).not.toBe(b!.name);
    expect(a!.url).not.toBe(b!.url);

    const { user, token } = await createUser(a!.db, { role: 'admin', email: 'iso@test.dawg.local' });
    expect(user.role).toBe('admin');
    expect((await validateSessionToken(a!.db, token))?.user.id).toBe(user.id);

    expect(await b!.db.selectFrom('users').selectAll().execute()).toEqual([]);
    expect(await validateSessionToken(b!.db, token)).toBeNull();
    // Same email in the other database: no unique-constraint clash, they are separate.
    await createUser(b!.db, { email: 'iso@test.dawg.local' });
  });

  it('drop() removes the database and is idempotent', async () => {
    const t = await createTestDatabase();
    expect(await exists(t.name)).toBe(true);
    await t.drop();
    await t.drop();
    expect(await exists(t.name)).toBe(false);
  });
});
