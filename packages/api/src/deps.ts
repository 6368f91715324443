/**
 * The api's connections to the outside: Postgres (Kysely), Redis (ioredis) and S3. Built once per server, closed
 * once on shutdown. Every client is configured to fail fast while its backend is unreachable and to recover by
 * itself when it comes back, so `/health` can report the truth and heal in the same process.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createDb, type Database } from '@dawg/db';
import type { ApiEnv } from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';

export interface AppDeps {
  env: ApiEnv;
  db: Kysely<Database>;
  /** Cache, pub/sub and rate-limit connection (database of REDIS_URL); every key goes through `redisKey`. */
  redis: Redis;
  s3: S3Client;
  /** `${REDIS_KEY_PREFIX}:a:b` — the one place that prefixes Redis keys, so a test can isolate everything. */
  redisKey(...parts: string[]): string;
}

/** Redis reconnects forever; the delay grows with each attempt but never beyond this. */
const REDIS_MAX_BACKOFF_MS = 2_000;

export function createRedis(env: ApiEnv, log: FastifyBaseLogger): Redis {
  const redis = new Redis(env.REDIS_URL, {
    // Commands fail at once while disconnected instead of queueing until a request times out.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A black-holed connection (no RST) would otherwise hang a command for the kernel's TCP timeout.
    commandTimeout: 2_000,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, REDIS_MAX_BACKOFF_MS),
  });
  // Log transitions, not every failed reconnect attempt (one every 2 s while Redis is down).
  let healthy = false;
  redis.on('ready', () => {
    healthy = true;
    log.info('redis ready');
  });
  redis.on('error', (err: Error) => {
    if (healthy) log.warn({ err }, 'redis connection lost');
    healthy = false;
  });
  redis.on('close', () => {
    if (healthy) log.warn('redis connection closed');
    healthy = false;
  });
  return redis;
}

export function createS3(env: ApiEnv): S3Client {
  return new S3Client({
    region: env.AWS_REGION,
    ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT, forcePathStyle: true } : {}),
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    // S3-compatible servers store streamed uploads with the aws-chunked trailer bytes otherwise.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 30_000 },
  });
}

/** Builds every dependency; waits briefly for Redis so the first health check does not race the connect. */
export async function createDeps(env: ApiEnv, log: FastifyBaseLogger): Promise<AppDeps & { close(): Promise<void> }> {
  const db = createDb({
    connectionString: env.DATABASE_URL,
    max: env.DATABASE_MAX_CONNECTIONS,
    connectionTimeoutMillis: env.DATABASE_CONNECTION_TIMEOUT,
    applicationName: 'dawg-api',
    onError: (err) => log.warn({ err }, 'idle database connection failed'),
  });
  const redis = createRedis(env, log);
  const s3 = createS3(env);
  await waitForRedis(redis, 2_000);

  const prefix = env.REDIS_KEY_PREFIX;
  return {
    env,
    db,
    redis,
    s3,
    redisKey: (...parts) => [prefix, ...parts].join(':'),
    async close() {
      // Each close is independent: one failing must not leave the others open.
      const results = await Promise.allSettled([
        db.destroy(),
        redis.quit().catch(() => redis.disconnect()),
        Promise.resolve().then(() => s3.destroy()),
      ]);
      for (const r of results)
        if (r.status === 'rejected') log.warn({ err: r.reason as unknown }, 'dependency close failed');
    },
  };
}

function waitForRedis(redis: Redis, ms: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    // Not ready in time is not fatal: the api starts degraded and /health says so.
    const timer = setTimeout(done, ms);
    redis.once('ready', done);
  });
}
