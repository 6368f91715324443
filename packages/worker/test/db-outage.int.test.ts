/**
 * A job that fails because Postgres is unreachable is retried once the database answers, without spending its
 * attempts (the worker reaches Postgres through a fault proxy that refuses every connection meanwhile); a job failing
 * with the same socket error code while Postgres is fine (as an S3 or provider call does) spends its attempts as usual.
 */
import { Job, Queue } from 'bullmq';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseEnv, workerEnvSchema } from '@dawg/shared';
import {
  createTestDatabase,
  defaultRedisUrl,
  flushPrefix,
  startFaultProxy,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type FaultProxy,
  type TestDatabase,
} from '@dawg/testing';
import { createWorkerApp, type WorkerApp } from '../src/app';
import { createQueueConnection } from '../src/redis';
import { defineJob } from '../src/registry';

const QUEUE = 'test-db-outage';
let tdb: TestDatabase;
let proxy: FaultProxy;
let app: WorkerApp;
let queue: Queue;
let connection: ReturnType<typeof createQueueConnection>;
const prefix = uniqueRedisPrefix('db-outage');

const dbJob = defineJob({
  name: 'test.db-read',
  queue: QUEUE,
  schema: z.object({}).strict(),
  handler: async (_payload, { db }) => {
    const { rows } = await sql<{ ok: number }>`select 1 as ok`.execute(db);
    return { ok: rows[0]?.ok };
  },
});

const networkJob = defineJob({
  name: 'test.network-error',
  queue: QUEUE,
  schema: z.object({}).strict(),
  handler: () => {
    throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
  },
});

beforeAll(async () => {
  tdb = await createTestDatabase();
  const target = new URL(tdb.url);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const env = parseEnv(
    workerEnvSchema,
    testEnv(
      { databaseUrl: proxy.url(tdb.url), redisPrefix: prefix },
      { DATABASE_CONNECTION_TIMEOUT: '1000', WORKER_CONCURRENCY: '2' },
    ),
  );
  app = createWorkerApp({ env, jobs: [dbJob, networkJob], logger: pino({ level: 'silent' }) });
  await app.start();
  connection = createQueueConnection(env);
  queue = new Queue(QUEUE, { connection, prefix });
});

afterAll(async () => {
  proxy?.restore();
  await app?.close(1_000);
  await queue?.close();
  connection?.disconnect();
  await flushPrefix(defaultRedisUrl(), prefix);
  await proxy?.close();
  await tdb?.drop();
});

describe('a database outage', () => {
  it('delays the job with its attempts untouched until Postgres answers, then runs it', async () => {
    proxy.cut('reset');
    const job = await queue.add('test.db-read', {}, { attempts: 2, backoff: { type: 'fixed', delay: 100 } });
    // Ran (and failed on the database) more often than its attempts allow, and was never failed for it.
    await waitFor(
      async () => {
        const current = await Job.fromId(queue, job.id!);
        return (current?.attemptsStarted ?? 0) >= 3;
      },
      { timeoutMs: 30_000, description: 'the job started three times during the outage' },
    );
    const during = await Job.fromId(queue, job.id!);
    expect(during?.attemptsMade).toBe(0);
    expect(await job.getState()).not.toBe('failed');

    proxy.restore();
    await waitFor(async () => (await job.getState()) === 'completed', {
      timeoutMs: 30_000,
      description: 'the job completed after the outage',
    });
    const done = await Job.fromId(queue, job.id!);
    expect(done?.returnvalue).toEqual({ ok: 1 });
    // BullMQ counts the completing run itself: one attempt in all, the outage's runs not among them.
    expect(done?.attemptsMade).toBe(1);
    expect(done?.attemptsStarted).toBeGreaterThanOrEqual(4);
  });

  it('counts attempts for a socket error while Postgres is up', async () => {
    const job = await queue.add('test.network-error', {}, { attempts: 2, backoff: { type: 'fixed', delay: 100 } });
    await waitFor(async () => (await job.getState()) === 'failed', {
      timeoutMs: 30_000,
      description: 'the job failed after its attempts',
    });
    const failed = await Job.fromId(queue, job.id!);
    expect(failed?.attemptsMade).toBe(2);
    expect(failed?.failedReason).toBe('socket hang up');
  });
});
