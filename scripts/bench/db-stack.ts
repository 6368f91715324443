/**
 * What the database-backed HTTP benchmarks (trpc-db-list, load-p95) share: a bench database seeded with one user's
 * library (bench-db.ts), a Redis prefix, the S3-protocol server (so /health is healthy), and db-list-servers.ts (our api and the hand-written Fastify + pg route)
 * on that database. stop() ends the servers, flushes the prefix and drops the database.
 */
import { defaultRedisUrl, flushPrefix, startS3Server, testEnv, uniqueRedisPrefix, type S3ServerHandle } from '@dawg/testing';
import { createBenchDatabase, seedBenchLibrary, type BenchDatabase, type BenchLibrary } from './bench-db';
import { startBenchServers, type BenchServers } from './servers';

/** Connections of each server's Postgres pool (the api's DATABASE_MAX_CONNECTIONS, and the hand-written route's). */
export const DB_POOL = 10;

export interface DbStack {
  servers: BenchServers;
  library: BenchLibrary;
  stop(): Promise<void>;
}

export async function startDbStack(repoRoot: string, name: string): Promise<DbStack> {
  const prefix = uniqueRedisPrefix(name);
  let database: BenchDatabase | undefined;
  let servers: BenchServers | undefined;
  let s3: S3ServerHandle | undefined;
  const stop = async () => {
    await servers?.stop();
    await s3?.stop();
    await flushPrefix(defaultRedisUrl(), prefix);
    await database?.drop();
  };
  try {
    [database, s3] = await Promise.all([createBenchDatabase(), startS3Server()]);
    const library = await seedBenchLibrary(database.db);
    const env = testEnv(
      { databaseUrl: database.url, redisPrefix: prefix, s3 },
      { DATABASE_MAX_CONNECTIONS: String(DB_POOL), ENABLE_METRICS: 'true' },
    );
    servers = await startBenchServers(repoRoot, { ...process.env, ...env }, 'scripts/bench/db-list-servers.ts');
    return { servers, library, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
