/**
 * A fresh Postgres database per test file, cloned from the migrated template the global setup built (a clone is a
 * file copy: far faster than migrating each time). Files never share a database, so they run in parallel.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createDb, type Database } from '@dawg/db';
import './provided';
import { TEST_DB_PREFIX, databaseUrl, dropDatabase, quoteIdent, withAdminClient } from './pg-admin';

export interface TestDatabase {
  /** Connection URL of the new database (give it to spawned processes as DATABASE_URL). */
  url: string;
  name: string;
  /** A Kysely instance on it, owned by this object: drop() destroys it. */
  db: Kysely<Database>;
  /** Closes `db` and drops the database (idempotent). */
  drop(): Promise<void>;
}

async function provided(): Promise<{ template: string; admin: string; runId: string }> {
  // Imported here, not at the top: importing vitest outside a test run throws, and @dawg/testing's index (this
  // module included) is also used by scripts.
  const { inject } = await import('vitest');
  const template = inject('templateDatabase');
  const admin = inject('testDatabaseAdminUrl');
  const runId = inject('testRunId');
  if (!template || !admin || !runId) {
    throw new Error(
      'createTestDatabase() needs the globalSetup packages/testing/src/global-setup.ts ' +
        '(run the file in the integration or e2e vitest project).',
    );
  }
  return { template, admin, runId };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const { template, admin, runId } = await provided();
  const name = `${TEST_DB_PREFIX}${runId}_${randomBytes(5).toString('hex')}`;
  await withAdminClient(async (client) => {
    // CREATE DATABASE ... TEMPLATE fails while anything else is connected to the template (another run copying it,
    // or a migration just finishing): retry that case for a while, fail on anything else at once.
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
        return;
      } catch (err) {
        const busy = err instanceof Error && /being accessed by other users/.test(err.message);
        if (!busy || Date.now() > deadline) {
          throw new Error(`creating test database ${name} from ${template}: ${(err as Error).message}`, { cause: err });
        }
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  }, admin);

  const url = databaseUrl(admin, name);
  const db = createDb({ connectionString: url, max: 5 });
  let dropped = false;
  return {
    url,
    name,
    db,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.destroy();
      await withAdminClient((client) => dropDatabase(client, name), admin);
    },
  };
}
