/**
 * The Database types against the schema the migrations build on Postgres: every table, column, nullability, type
 * class and default must match COLUMNS (which the compiler holds to the types), and every enum CHECK must allow
 * exactly the shared enum's values. Adding or dropping a column in a migration without the types fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, migrateToLatest, type Db } from '../src/index';
import { ENUM_COLUMNS } from './enum-columns';
import { actualSchema, checkedLiterals, expectedSchema } from './introspect';
import { createFreshDatabase } from './fresh-database';

let db: Db;
let drop: () => Promise<void>;

beforeAll(async () => {
  const fresh = await createFreshDatabase('schema');
  drop = fresh.drop;
  db = createDb({ connectionString: fresh.url, max: 2 });
  await migrateToLatest(db);
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

describe('schema', () => {
  it('matches the Database types column for column', async () => {
    const actual = await actualSchema(db);
    const expected = expectedSchema();
    expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
    for (const table of Object.keys(expected)) expect(actual[table], table).toEqual(expected[table]);
  });

  it('CHECKs every enum column with exactly the shared values', async () => {
    const literals = await checkedLiterals(db);
    for (const [column, values] of Object.entries(ENUM_COLUMNS)) {
      expect(literals[column], column).toEqual([...values].sort());
    }
  });
});
