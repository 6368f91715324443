/**
 * Database backup (seed pre-deployment 2.1): `pg_dump` of DATABASE_URL to a plain SQL file that `psql` restores
 * (rollback scenario 3, `pnpm ops:restore`), verified before it is called a backup: the file is non-empty and
 * complete (pg_dump's closing line), and a manifest next to it (`<file>.manifest.json`) records the SHA-256 of the
 * file, every table's row count and a checksum of the key tables' contents, so a restore can prove it brought
 * everything back.
 *
 *   pnpm ops:backup                                   # ./backups/backup-YYYYMMDD-HHMMSS.sql
 *   pnpm ops:backup --database-url "$DATABASE_URL" --out /var/backups/dawg
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { type CommandSpec, isMain, parseArgs, run, UsageError } from './cli';
import { KEY_TABLES, redactUrl, tableStats, type TableStats } from './db-stats';

const exec = promisify(execFile);

export interface BackupManifest {
  file: string;
  createdAt: string;
  database: string;
  pgDump: string;
  bytes: number;
  sha256: string;
  tables: Record<string, TableStats>;
}

export function manifestPath(file: string): string {
  return `${file}.manifest.json`;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** The last bytes of a file (pg_dump writes its "complete" marker at the end). */
async function tailOf(file: string, bytes = 256): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(bytes, size);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function backup(opts: {
  databaseUrl: string;
  file: string;
  log?: (line: string) => void;
}): Promise<BackupManifest> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  await mkdir(path.dirname(path.resolve(opts.file)), { recursive: true });
  const { stdout: version } = await exec('pg_dump', ['--version']);
  log(`backup: ${redactUrl(opts.databaseUrl)} → ${opts.file}`);
  // Counted first: a write between the count and the dump could otherwise be in the dump but not the manifest.
  // (Run backups with the api stopped or in a quiet moment when exact counts matter; the dump itself is consistent.)
  const tables = await tableStats(opts.databaseUrl, { checksumTables: KEY_TABLES });
  await exec(
    'pg_dump',
    [
      '--format=plain',
      '--no-owner',
      '--no-privileges',
      '--quote-all-identifiers',
      `--file=${opts.file}`,
      `--dbname=${opts.databaseUrl}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const { size } = await stat(opts.file);
  if (size === 0) throw new Error(`backup: ${opts.file} is empty`);
  if (!(await tailOf(opts.file)).includes('PostgreSQL database dump complete')) {
    throw new Error(`backup: ${opts.file} does not end with pg_dump's completion marker (truncated?)`);
  }
  const manifest: BackupManifest = {
    file: path.basename(opts.file),
    createdAt: new Date().toISOString(),
    database: redactUrl(opts.databaseUrl),
    pgDump: version.trim(),
    bytes: size,
    sha256: await sha256File(opts.file),
    tables,
  };
  await writeFile(manifestPath(opts.file), `${JSON.stringify(manifest, null, 2)}\n`);
  const rows = Object.values(tables).reduce((n, t) => n + t.rows, 0);
  log(
    `backup: ok, ${size} bytes, ${Object.keys(tables).length} tables, ${rows} rows; manifest ${manifestPath(opts.file)}`,
  );
  return manifest;
}

export const backupCommand: CommandSpec = {
  usage: 'pnpm ops:backup [--database-url URL] [--out DIR | --file PATH]',
  description:
    'Dumps the database with pg_dump (plain SQL, no owners or grants), checks the file is complete and writes\n' +
    '<file>.manifest.json with its SHA-256, row counts of every table and checksums of the key tables.',
  options: [
    { name: 'database-url', env: 'DATABASE_URL', help: 'the database to back up' },
    { name: 'out', default: 'backups', help: 'directory for backup-YYYYMMDD-HHMMSS.sql' },
    { name: 'file', help: 'exact output path (instead of --out)' },
  ],
  epilogue: 'Exit codes: 0 backup written and verified, 1 failed, 2 bad usage. Needs pg_dump ≥ the server version.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(backupCommand);
    const databaseUrl = values['database-url'];
    if (!databaseUrl) throw new UsageError('set DATABASE_URL or pass --database-url');
    const file = values.file ?? path.join(values.out!, `backup-${timestamp()}.sql`);
    await backup({ databaseUrl, file });
    return 0;
  });
}
