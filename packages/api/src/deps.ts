/**
 * The api's connections to the outside: Postgres (Kysely), Redis (ioredis) and S3. Built once per server, closed
 * once on shutdown. Every client is configured to fail fast while its backend is unreachable and to recover by
 * itself when it comes back, so `/health` can report the truth and heal in the same process.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createDb, type Database } from '@dawg/db';
import { type ApiEnv, QUEUE_NAMES } from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { createRevocations, type Revocations } from './auth/revocation';
import { createRateLimits, type RateLimits } from './perimeter/rate-limit';
import { type AccountDeletionQueue, createAccountDeletionQueue } from './services/account-deletion-queue';
import { assertMusicProviderConfig } from './services/generation';
import { createGenerationQueue, type GenerationQueue } from './services/generation-queue';
import { createJobProducer } from './services/job-producer';
import { type BillingQueue, createBillingQueue } from './services/billing-queue';
import { createStripeClient, type StripeClient } from './services/stripe';
import { createProgressHub, type ProgressHub } from './services/progress-hub';
import { createStreamHub, type StreamHub } from './services/stream-hub';
import { createChatProvider } from './services/chat/failover';
import { type ChatRunner, createChatRunner } from './services/chat/runner';
import { createTrackDeletionQueue, type TrackDeletionQueue } from './services/track-deletion-queue';
import { createStudioIo, type StudioIo } from './services/studio-io-deps';

export interface AppDeps {
  env: ApiEnv;
  db: Kysely<Database>;
  /** Cache, pub/sub and rate-limit connection (database of REDIS_URL); every key goes through `redisKey`. */
  redis: Redis;
  s3: S3Client;
  /** `${REDIS_KEY_PREFIX}:a:b` — the one place that prefixes Redis keys, so a test can isolate everything. */
  redisKey(...parts: string[]): string;
  /** Rate limits shared by every instance (perimeter/rate-limit). */
  limits: RateLimits;
  /** Closes WebSockets of revoked sessions and API keys on every instance (auth/revocation). */
  revocations: Revocations;
  accountDeletion: AccountDeletionQueue;
  /** Producer of `generate` jobs (services/generation-queue). */
  generationQueue: GenerationQueue;
  /** This process's one reader of generation progress streams (services/progress-hub). */
  progress: ProgressHub;
  /** This process's one Redis Streams reader (generation progress and chat turns go through it). */
  streams: StreamHub;
  /** Runs the AI producer's turns in this process (services/chat/runner). */
  chat: ChatRunner;
  /** Producer of `maintenance.delete-track` jobs (services/track-deletion-queue). */
  trackDeletion: TrackDeletionQueue;
  /** Stripe, or null without STRIPE_SECRET_KEY (billing not configured; services/stripe). */
  stripe: StripeClient | null;
  /** Producer of `billing.stripe-event` jobs (services/billing-queue). */
  billingQueue: BillingQueue;
  /** Uploads, mixdowns and the live project channel (services/studio-io-deps). */
  studioIo: StudioIo;
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
  assertMusicProviderConfig(env);
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
  const redisKey = (...parts: string[]) => [prefix, ...parts].join(':');
  const limits = createRateLimits({ redis, env, redisKey, log });
  const revocations = createRevocations({ redis, db, channel: redisKey('auth', 'revocations'), log });
  const generateProducer = createJobProducer(env, log, QUEUE_NAMES.generate);
  const maintenanceProducer = createJobProducer(env, log, QUEUE_NAMES.maintenance);
  const accountDeletion = createAccountDeletionQueue(maintenanceProducer);
  const generationQueue = createGenerationQueue(generateProducer);
  const streams = createStreamHub({ redisUrl: env.REDIS_URL, redis, log });
  const progress = createProgressHub({ redisUrl: env.REDIS_URL, redis, prefix, log, hub: streams });
  const trackDeletion = createTrackDeletionQueue(maintenanceProducer);
  const studioIo = createStudioIo(env, log, redis);
  const chat = createChatRunner({
    db,
    redis,
    streams,
    prefix,
    log,
    provider: createChatProvider(env, log),
    tools: {
      db,
      env,
      log,
      storage: { s3, bucket: env.AWS_S3_BUCKET },
      generationQueue,
      progress,
      trackDeletion,
      studioIo,
    },
  });
  const billingProducer = createJobProducer(env, log, QUEUE_NAMES.billing);
  const billingQueue = createBillingQueue(billingProducer);
  const stripe = createStripeClient(env);
  return {
    env,
    db,
    redis,
    s3,
    redisKey,
    limits,
    revocations,
    accountDeletion,
    generationQueue,
    progress,
    streams,
    chat,
    trackDeletion,
    studioIo,
    stripe,
    billingQueue,
    async close() {
      // Turns still running (the server's preClose drained them already) end before their connections close.
      await chat.drain(0);
      await Promise.allSettled([
        revocations.close(),
        generateProducer.close(),
        maintenanceProducer.close(),
        billingProducer.close(),
        progress.close(),
        streams.close(),
        studioIo.close(),
      ]);
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
