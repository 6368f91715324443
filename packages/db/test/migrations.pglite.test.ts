/**
 * The migrations on PGlite (Postgres compiled to wasm, what `pnpm dev` embeds when DATABASE_URL is unset): up, all
 * the way down, up again, and the migrated schema matches the Database types. In-process, so a unit test.
 */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrateDown, migrateToLatest, migrationStatus } from '../src/migrate';
import { TABLE_NAMES } from '../src/schema';
import { ENUM_COLUMNS } from './enum-columns';
import { MIGRATOR_TABLES, actualSchema, checkedLiterals, expectedSchema, listTables } from './introspect';

let db: Kysely<any>;

beforeAll(async () => {
  db = new Kysely({ dialect: new PGliteDialect({ pglite: new PGlite() }) });
}, 60_000);

afterAll(async () => {
  await db.destroy();
});

const appTables = async () => (await listTables(db)).filter((t) => !MIGRATOR_TABLES.includes(t));

// PGlite runs the whole engine in wasm on one thread: allow for a busy CI machine.
describe('migrations on PGlite', { timeout: 60_000 }, () => {
  it('go up, all the way down and up again', async () => {
    expect(await migrateToLatest(db)).toEqual(Object.keys(MIGRATIONS));
    expect(await appTables()).toEqual([...TABLE_NAMES].sort());

    expect(await migrateDown(db, { all: true })).toEqual(Object.keys(MIGRATIONS).reverse());
    expect(await appTables()).toEqual([]);
    expect((await migrationStatus(db)).every((m) => m.executedAt === null)).toBe(true);

    expect(await migrateToLatest(db)).toEqual(Object.keys(MIGRATIONS));
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('produce the schema the types describe, with CHECKs matching the shared enums', async () => {
    expect(await actualSchema(db)).toEqual(expectedSchema());
    const literals = await checkedLiterals(db);
    for (const [column, values] of Object.entries(ENUM_COLUMNS)) {
      expect(literals[column], column).toEqual([...values].sort());
    }
  });
});
