/**
 * Test helper: the migrated schema as information_schema and pg_constraint describe it, in the same shape as the
 * expectation derived from COLUMNS, so a test can compare them with one toEqual and get a readable diff.
 */
import { sql, type Kysely } from 'kysely';
import { COLUMNS, parseColumnSpec } from '../src/schema';

export const MIGRATOR_TABLES = ['kysely_migration', 'kysely_migration_lock'];

export type SchemaShape = Record<string, Record<string, string>>;

const TYPE_CLASSES: Record<string, string> = {
  uuid: 'uuid',
  text: 'text',
  'character varying': 'text',
  integer: 'int',
  smallint: 'int',
  bigint: 'bigint',
  'double precision': 'float',
  real: 'float',
  boolean: 'bool',
  'timestamp with time zone': 'timestamptz',
  jsonb: 'jsonb',
};

function render(type: string, nullable: boolean, hasDefault: boolean): string {
  return `${type}${nullable ? '?' : ''}${hasDefault ? '=' : ''}`;
}

/** COLUMNS with its specs normalised (the same notation the database side renders). */
export function expectedSchema(): SchemaShape {
  const out: SchemaShape = {};
  for (const [table, columns] of Object.entries(COLUMNS)) {
    const shape: Record<string, string> = {};
    for (const [column, spec] of Object.entries(columns)) {
      const s = parseColumnSpec(spec);
      shape[column] = render(s.type, s.nullable, s.hasDefault);
    }
    out[table] = shape;
  }
  return out;
}

export async function listTables(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'
    order by table_name`.execute(db);
  return rows.map((r) => r.table_name);
}

/** Every application table's columns; an unknown Postgres type renders as `other(<type>)` so it shows in a diff. */

export async function actualSchema(db: Kysely<any>): Promise<SchemaShape> {
  const { rows } = await sql<{
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: 'YES' | 'NO';
    column_default: string | null;
    is_identity: 'YES' | 'NO';
  }>`
    select c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default, c.is_identity
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
    order by c.table_name, c.ordinal_position`.execute(db);
  const out: SchemaShape = {};
  for (const r of rows) {
    if (MIGRATOR_TABLES.includes(r.table_name)) continue;
    const type = TYPE_CLASSES[r.data_type] ?? `other(${r.data_type})`;
    (out[r.table_name] ??= {})[r.column_name] = render(
      type,
      r.is_nullable === 'YES',
      r.column_default !== null || r.is_identity === 'YES',
    );
  }
  return out;
}

/** The string literals a single-column CHECK constraint allows, keyed `table.column` (e.g. role IN (...)). */

export async function checkedLiterals(db: Kysely<any>): Promise<Record<string, string[]>> {
  const { rows } = await sql<{ table_name: string; column_name: string; def: string }>`
    select cl.relname as table_name, a.attname as column_name, pg_get_constraintdef(c.oid) as def
    from pg_constraint c
    join pg_class cl on cl.oid = c.conrelid
    join pg_namespace n on n.oid = cl.relnamespace
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    where c.contype = 'c' and n.nspname = 'public' and array_length(c.conkey, 1) = 1`.execute(db);
  const out: Record<string, string[]> = {};
  for (const r of rows) {
    // Only "= ANY (ARRAY[...])" constraints (what `in (...)` becomes) describe an enum.
    if (!/= ANY \(/.test(r.def)) continue;
    const literals = [...r.def.matchAll(/'((?:[^']|'')*)'::text/g)].map((m) => m[1]!.replaceAll("''", "'"));
    out[`${r.table_name}.${r.column_name}`] = literals.sort();
  }
  return out;
}
