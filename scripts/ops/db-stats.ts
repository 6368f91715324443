/**
 * Row counts and content checksums of a database's tables: what a backup records next to its dump and what a
 * restore must reproduce. The checksum of a table is the md5 of its rows' md5s in sorted order (row text in UTC,
 * so the session's time zone cannot change it), which needs 32 bytes per row of memory rather than the table's size.
 */
import pg from 'pg';

export interface TableStats {
  rows: number;
  /** Present for the key tables (or every table when asked). */
  checksum?: string;
}

/** The tables whose contents a backup must bring back byte for byte (the rest are compared by row count). */
export const KEY_TABLES = [
  'users',
  'sessions',
  'api_keys',
  'projects',
  'project_members',
  'lanes',
  'clips',
  'tracks',
  'generations',
  'usage_events',
  'budget_holds',
  'budgets',
  'subscriptions',
  'conversations',
  'messages',
  'audit_logs',
] as const;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A database URL with its password replaced, for logs and manifests. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}

export async function publicTables(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select table_name as name from information_schema.tables
     where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`,
  );
  return rows.map((r) => r.name);
}

export async function tableStats(
  databaseUrl: string,
  opts: { checksumTables?: readonly string[]; only?: readonly string[] } = {},
): Promise<Record<string, TableStats>> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'dawg-ops-stats' });
  await client.connect();
  try {
    await client.query(`set time zone 'UTC'; set extra_float_digits = 3`);
    const tables = opts.only ?? (await publicTables(client));
    const checksummed = new Set(opts.checksumTables ?? KEY_TABLES);
    const stats: Record<string, TableStats> = {};
    for (const table of tables) {
      const t = quoteIdent(table);
      const { rows } = await client.query<{ rows: string; checksum: string | null }>(
        checksummed.has(table)
          ? `select count(*)::text as rows,
                    md5(coalesce(string_agg(h, '' order by h), '')) as checksum
             from (select md5(x::text) as h from public.${t} x) s`
          : `select count(*)::text as rows, null as checksum from public.${t}`,
      );
      const row = rows[0]!;
      stats[table] = { rows: Number(row.rows), ...(row.checksum ? { checksum: row.checksum } : {}) };
    }
    return stats;
  } finally {
    await client.end();
  }
}

/** Differences between two snapshots, one line each (empty when they agree). */
export function compareStats(expected: Record<string, TableStats>, actual: Record<string, TableStats>): string[] {
  const problems: string[] = [];
  for (const [table, want] of Object.entries(expected)) {
    const got = actual[table];
    if (!got) {
      problems.push(`${table}: missing after restore`);
      continue;
    }
    if (got.rows !== want.rows) problems.push(`${table}: ${got.rows} rows, expected ${want.rows}`);
    else if (want.checksum && got.checksum !== want.checksum) {
      problems.push(`${table}: checksum ${got.checksum ?? 'none'}, expected ${want.checksum}`);
    }
  }
  return problems;
}
