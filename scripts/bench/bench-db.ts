/**
 * The database-backed benchmarks' data: a database cloned from the migrated test template (what createTestDatabase
 * does inside a vitest run, which a benchmark is not), named like a test database so a crashed run's leftover is
 * dropped by the test teardown, and one user with a realistic library: 50 projects, 50 tracks and a generation,
 * which the list procedures and hot queries read.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDb, type Database } from '@dawg/db';
import {
  adminUrl,
  createUser,
  databaseUrl,
  dropDatabase,
  ensureTemplateDatabase,
  newRunId,
  quoteIdent,
  TEST_DB_PREFIX,
  withAdminClient,
} from '@dawg/testing';
import type { Kysely } from 'kysely';

export interface BenchDatabase {
  url: string;
  db: Kysely<Database>;
  drop(): Promise<void>;
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const admin = adminUrl();
  const template = await ensureTemplateDatabase(admin);
  const name = `${TEST_DB_PREFIX}${newRunId()}_${randomBytes(5).toString('hex')}`;
  await withAdminClient(async (client) => {
    // The template is busy while another run clones it: retry that for a while.
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`);
        return;
      } catch (err) {
        if (attempt > 100 || !/being accessed by other users/.test((err as Error).message)) throw err;
        await sleep(100 + Math.random() * 200);
      }
    }
  }, admin);
  const url = databaseUrl(admin, name);
  const db = createDb({ connectionString: url, max: 2 });
  return {
    url,
    db,
    async drop() {
      await db.destroy();
      await withAdminClient((client) => dropDatabase(client, name), admin);
    },
  };
}

/** Rows per list the benchmarks read (project.list answers all of them; track.list's default page is 50). */
export const LIST_ROWS = 50;

export interface BenchLibrary {
  userId: string;
  /** A session token (Bearer or cookie). */
  token: string;
  generationId: string;
}

/** One user with LIST_ROWS projects, LIST_ROWS ready tracks and one succeeded generation. */
export async function seedBenchLibrary(db: Kysely<Database>): Promise<BenchLibrary> {
  const { user, token } = await createUser(db, { plan: 'studio' });
  const base = Date.now() - LIST_ROWS * 60_000;
  await db
    .insertInto('projects')
    .values(
      Array.from({ length: LIST_ROWS }, (_, i) => ({
        owner_id: user.id,
        name: `Benchmark project ${i + 1}`,
        key: i % 2 === 0 ? 'C minor' : null,
        updated_at: new Date(base + i * 60_000),
      })),
    )
    .execute();
  const generation = await db
    .insertInto('generations')
    .values({
      owner_id: user.id,
      prompt: 'a steady synthwave groove',
      provider: 'local',
      model: 'local-synth',
      status: 'succeeded',
      stage: 'done',
      progress: 100,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await db
    .insertInto('tracks')
    .values(
      Array.from({ length: LIST_ROWS }, (_, i) => ({
        owner_id: user.id,
        generation_id: i === 0 ? generation.id : null,
        source: 'generated' as const,
        status: 'ready' as const,
        title: `Benchmark track ${i + 1}`,
        mp3_key: `tracks/${user.id}/${i}.mp3`,
        duration_sec: 30,
        provider: 'local' as const,
        model: 'local-synth',
        created_at: new Date(base + i * 60_000),
      })),
    )
    .execute();
  return { userId: user.id, token, generationId: generation.id };
}
