/**
 * vitest globalSetup of the integration and e2e projects: fails fast with a clear message when Postgres or Redis is
 * down, builds (once, reused across runs) a template database migrated to the latest schema, and hands its name to
 * the test files (`inject('templateDatabase')`), which clone it per file with createTestDatabase(). The teardown drops
 * the per-file databases that leaked.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { createDb, migrateToLatest } from '@dawg/db';
import {
  TEMPLATE_DB_PREFIX,
  TEST_DB_PREFIX,
  adminUrl,
  databaseUrl,
  dropDatabase,
  newRunId,
  parseTestDbName,
  quoteIdent,
  withAdminClient,
} from './pg-admin';
import { defaultRedisUrl } from './redis';
import { repoPath } from './repo';
import './provided';

const MIGRATIONS_DIR = repoPath('packages/db/src/migrations');
/** Leaked per-file databases of other runs are dropped once this old (a crashed run never cleans up). */
const STALE_AFTER_MS = 60 * 60 * 1000;
/** Any constant works; it only has to be the same for every run that may build the template. */
const TEMPLATE_LOCK_KEY = 0x0da67e57;

function describe(err: unknown): string {
  if (err instanceof AggregateError) return err.errors.map(describe).join('; ');
  return err instanceof Error ? err.message || err.name : String(err);
}

async function checkPostgres(url: string): Promise<void> {
  try {
    await withAdminClient((client) => client.query('SELECT 1'), url);
  } catch (err) {
    throw new Error(
      `PostgreSQL is not answering at ${redact(url)} (${describe(err)}). Integration tests need a running ` +
        'PostgreSQL: start it, or point TEST_DATABASE_ADMIN_URL at one (a superuser or a role with CREATEDB).',
      { cause: err },
    );
  }
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis is not answering at ${redact(url)} (${describe(err)}). Integration tests need a running Redis: ` +
        'start redis-server, or point TEST_REDIS_URL at one.',
      { cause: err },
    );
  } finally {
    redis.disconnect();
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Hash of the migration files (names and contents): a changed or added migration gets a fresh template. */
export async function migrationsHash(dir = MIGRATIONS_DIR): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(dir)).filter((f) => /\.(ts|js|sql)$/.test(f)).sort();
  for (const file of files) {
    hash
      .update(file)
      .update('\0')
      .update(await readFile(`${dir}/${file}`))
      .update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Creates the template unless it exists. Built under another name and renamed when fully migrated, so a run that dies
 * half way never leaves a template that looks finished; the advisory lock keeps concurrent runs from building it
 * twice (the second waits, then finds it).
 */
export async function ensureTemplateDatabase(admin: string): Promise<string> {
  const name = `${TEMPLATE_DB_PREFIX}${await migrationsHash()}`;
  const building = `${name}_building`;
  await withAdminClient(async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (existing.rowCount) return;
      await dropDatabase(client, building);
      await client.query(`CREATE DATABASE ${quoteIdent(building)}`);
      const db = createDb({ connectionString: databaseUrl(admin, building), max: 1 });
      try {
        await migrateToLatest(db);
      } catch (err) {
        throw new Error(`migrating the test template database failed: ${describe(err)}`, { cause: err });
      } finally {
        await db.destroy();
      }
      await client.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => undefined);
    }
  }, admin);
  return name;
}

/** Drops per-file databases this run leaked, and those of any run that started more than an hour ago. */
export async function dropLeakedTestDatabases(admin: string, runId: string): Promise<string[]> {
  return withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [
      `${TEST_DB_PREFIX.replace(/_/g, '\\_')}%`,
    ]);
    const dropped: string[] = [];
    for (const { datname } of rows) {
      const parsed = parseTestDbName(datname);
      if (!parsed) continue;
      const stale = parsed.startedAt !== undefined && Date.now() - parsed.startedAt.getTime() > STALE_AFTER_MS;
      if (parsed.runId !== runId && !stale) continue;
      await dropDatabase(client, datname);
      dropped.push(datname);
    }
    return dropped;
  }, admin);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const admin = adminUrl();
  await checkPostgres(admin);
  await checkRedis(defaultRedisUrl());
  const template = await ensureTemplateDatabase(admin);
  const runId = newRunId();
  project.provide('templateDatabase', template);
  project.provide('testDatabaseAdminUrl', admin);
  project.provide('testRunId', runId);
  return async () => {
    await dropLeakedTestDatabases(admin, runId);
  };
}
