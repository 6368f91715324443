/**
 * Backup → drop → restore with the operator scripts as processes (pg_dump and psql from the machine) on a migrated
 * database holding rows in the key tables: the restore brings back every table's row count and the key tables'
 * content checksums (computed here independently of the scripts), refuses a non-empty target without --clean, and
 * the verification catches a database that differs from the backup.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupManifest } from './backup';
import { KEY_TABLES, tableStats, type TableStats } from './db-stats';
import { runScript } from './run-script';

let database: TestDatabase;
let dir: string;
let file: string;
let before: Record<string, TableStats>;

beforeAll(async () => {
  database = await createTestDatabase();
  dir = mkdtempSync(path.join(tmpdir(), 'dawg-backup-'));
  file = path.join(dir, 'backup-test.sql');
  const db = database.db;
  const users = [];
  for (let i = 0; i < 5; i += 1) {
    users.push((await createUser(db, i === 0 ? { name: 'Zoë “quotes” \\ tab\t' } : {})).user);
  }
  for (const [i, u] of users.entries()) {
    await db
      .insertInto('projects')
      .values({ owner_id: u.id, name: `Project ${i} ✓`, settings: JSON.stringify({ nested: { i, text: "it's" } }) })
      .execute();
    await db
      .insertInto('usage_events')
      .values({
        user_id: u.id,
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        kind: 'chat',
        units: JSON.stringify({ unit: 'tokens', inputTokens: 100 * i, outputTokens: 7 }),
        cost_micro: 1_000 + i,
        idempotency_key: `backup-${i}`,
      })
      .execute();
  }
  await db
    .insertInto('audit_logs')
    .values({ user_id: users[0]!.id, action: 'backup.test', metadata: JSON.stringify({ a: [1, 2, null] }) })
    .execute();
  before = await tableStats(database.url, { checksumTables: KEY_TABLES });
});

afterAll(async () => {
  await database?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ops:backup and ops:restore', () => {
  it('--help works for both', async () => {
    for (const script of ['scripts/ops/backup.ts', 'scripts/ops/restore.ts']) {
      const { code, stdout } = await runScript(script, ['--help']);
      expect(code, script).toBe(0);
      expect(stdout).toMatch(/^Usage: pnpm ops:(backup|restore)/);
    }
  });

  it('backup writes a complete dump and a manifest of counts and checksums', async () => {
    const { code, stdout, stderr } = await runScript('scripts/ops/backup.ts', [
      '--database-url',
      database.url,
      '--file',
      file,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('backup: ok');
    expect(statSync(file).size).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as BackupManifest;
    expect(manifest.tables).toEqual(before);
    expect(manifest.tables.users!.rows).toBe(5);
    expect(manifest.tables.users!.checksum).toMatch(/^[0-9a-f]{32}$/);
    expect(manifest.tables.usage_events!.rows).toBe(5);
    expect(manifest.database).not.toContain('@127.0.0.1:5432/postgres?'); // a URL, redacted if it had a password
  });

  it('drop → restore brings back every row count and key-table checksum', async () => {
    await sql`drop schema public cascade`.execute(database.db);
    await sql`create schema public`.execute(database.db);
    const gone = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables
      where table_schema = 'public'`.execute(database.db);
    expect(gone.rows[0]!.n).toBe(0);

    const { code, stdout, stderr } = await runScript('scripts/ops/restore.ts', [
      '--database-url',
      database.url,
      '--file',
      file,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('key-table checksums match');

    const after = await tableStats(database.url, { checksumTables: KEY_TABLES });
    expect(after).toEqual(before);
    const zoe = await database.db
      .selectFrom('users')
      .select('name')
      .where('name', 'like', 'Zoë%')
      .executeTakeFirstOrThrow();
    expect(zoe.name).toBe('Zoë “quotes” \\ tab\t');
  });

  it('refuses a non-empty target without --clean, and restores over it with --clean', async () => {
    const refused = await runScript('scripts/ops/restore.ts', ['--database-url', database.url, '--file', file]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --clean');

    await database.db.deleteFrom('audit_logs').execute();
    const cleaned = await runScript('scripts/ops/restore.ts', [
      '--database-url',
      database.url,
      '--file',
      file,
      '--clean',
    ]);
    expect(cleaned.code).toBe(0);
    expect(await tableStats(database.url, { checksumTables: KEY_TABLES })).toEqual(before);
  });

  it('verification fails, naming the table, when the data differs from the backup', async () => {
    await database.db.updateTable('projects').set({ name: 'changed after the backup' }).execute();
    const { code, stdout } = await runScript('scripts/ops/restore.ts', [
      '--database-url',
      database.url,
      '--file',
      file,
      '--verify-only',
    ]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/MISMATCH projects: checksum/);
  });
});
