/**
 * Database restore (seed rollback scenario 3): replays a `pnpm ops:backup` file with psql in one transaction
 * (ON_ERROR_STOP: all or nothing), then proves it: every table of the manifest has its row count back and every key
 * table its checksum. Stop the api and workers first (the runbook's order); a target that still has tables is refused
 * unless `--clean` (drop schema public and recreate it) is given.
 *
 *   pnpm ops:restore --file backups/backup-20261125-120000.sql --clean
 *   pnpm ops:restore --file backups/backup-20261125-120000.sql --verify-only
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { type BackupManifest, manifestPath, sha256File } from './backup';
import { type CommandSpec, isMain, parseArgs, run, UsageError } from './cli';
import { compareStats, publicTables, redactUrl, tableStats } from './db-stats';

const exec = promisify(execFile);

export interface RestoreResult {
  ok: boolean;
  problems: string[];
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'dawg-ops-restore' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function verifyRestore(databaseUrl: string, manifest: BackupManifest): Promise<string[]> {
  const actual = await tableStats(databaseUrl, {
    only: Object.keys(manifest.tables),
    checksumTables: Object.entries(manifest.tables)
      .filter(([, t]) => t.checksum)
      .map(([name]) => name),
  }).catch((err: unknown) => {
    throw new Error(`verify: ${err instanceof Error ? err.message : String(err)}`);
  });
  return compareStats(manifest.tables, actual);
}

export async function restore(opts: {
  databaseUrl: string;
  file: string;
  clean: boolean;
  verifyOnly?: boolean;
  log?: (line: string) => void;
}): Promise<RestoreResult> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const manifest = JSON.parse(await readFile(manifestPath(opts.file), 'utf8')) as BackupManifest;
  const sha = await sha256File(opts.file);
  if (sha !== manifest.sha256) {
    return { ok: false, problems: [`${opts.file}: SHA-256 ${sha} differs from the manifest's ${manifest.sha256}`] };
  }
  if (!opts.verifyOnly) {
    log(`restore: ${opts.file} (${manifest.createdAt}) → ${redactUrl(opts.databaseUrl)}`);
    await withClient(opts.databaseUrl, async (client) => {
      const existing = await publicTables(client);
      if (existing.length > 0 && !opts.clean) {
        throw new UsageError(
          `restore: the target has ${existing.length} tables (${existing.slice(0, 5).join(', ')}…); ` +
            'pass --clean to drop schema public first',
        );
      }
      if (opts.clean) {
        log('restore: dropping schema public');
        await client.query('drop schema if exists public cascade; create schema public');
      }
    });
    await exec(
      'psql',
      [
        '--no-psqlrc',
        '--quiet',
        '--single-transaction',
        '-v',
        'ON_ERROR_STOP=1',
        `--file=${opts.file}`,
        `--dbname=${opts.databaseUrl}`,
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    ).catch((err: { stderr?: string; message: string }) => {
      throw new Error(
        `restore: psql failed, nothing was restored: ${(err.stderr ?? err.message).trim().slice(0, 2_000)}`,
      );
    });
  }
  const problems = await verifyRestore(opts.databaseUrl, manifest);
  if (problems.length === 0) {
    const rows = Object.values(manifest.tables).reduce((n, t) => n + t.rows, 0);
    log(`restore: verified ${Object.keys(manifest.tables).length} tables, ${rows} rows, key-table checksums match`);
  } else {
    for (const p of problems) log(`restore: MISMATCH ${p}`);
  }
  return { ok: problems.length === 0, problems };
}

export const restoreCommand: CommandSpec = {
  usage: 'pnpm ops:restore --file PATH [--database-url URL] [--clean] [--verify-only]',
  description:
    'Restores a pnpm ops:backup file with psql (one transaction, stops at the first error) and verifies row counts\n' +
    'and key-table checksums against <file>.manifest.json. Stop the api and workers first.',
  options: [
    { name: 'file', help: 'the backup .sql file (its .manifest.json must sit next to it)' },
    { name: 'database-url', env: 'DATABASE_URL', help: 'the database to restore into' },
    { name: 'clean', flag: true, help: 'drop schema public (every table and its data) before restoring' },
    { name: 'verify-only', flag: true, help: 'restore nothing; compare the database with the manifest' },
  ],
  epilogue: 'Exit codes: 0 restored and verified, 1 failed or mismatched, 2 bad usage or a non-empty target.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(restoreCommand);
    if (!values.file) throw new UsageError('--file is required');
    if (!values['database-url']) throw new UsageError('set DATABASE_URL or pass --database-url');
    const result = await restore({
      databaseUrl: values['database-url'],
      file: values.file,
      clean: values.clean === 'true',
      verifyOnly: values['verify-only'] === 'true',
    });
    return result.ok ? 0 : 1;
  });
}
