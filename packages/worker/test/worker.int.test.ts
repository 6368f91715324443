import { Job, Queue } from 'bullmq';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { QUEUE_NAMES, parseEnv, workerEnvSchema, type WorkerEnv } from '@dawg/shared';
import {
  createTestDatabase,
  defaultRedisUrl,
  flushPrefix,
  startFaultProxy,
  startRedisServer,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type TestDatabase,
} from '@dawg/testing';
import { createWorkerApp, type WorkerApp } from '../src/app';
import { defaultJobOptions } from '../src/job-options';
import { jobs, registryOptions } from '../src/jobs';
import { createQueueConnection } from '../src/redis';
import { createJobRegistry, defineJob } from '../src/registry';

let tdb: TestDatabase;
const prefix = uniqueRedisPrefix('worker-int');
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase();
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await flushPrefix(defaultRedisUrl(), prefix);
  await tdb.drop();
});

function envFor(overrides: Record<string, string> = {}): WorkerEnv {
  return parseEnv(workerEnvSchema, testEnv({ databaseUrl: tdb.url, redisPrefix: prefix }, overrides));
}

/** A pino logger whose JSON lines a test can read. */
function captureLogger() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/** The value of the one sample of `metric` whose labels include `labels` (Prometheus text format). */
function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== metric) continue;
    const have = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function started(app: WorkerApp): Promise<WorkerApp> {
  cleanups.push(() => app.close(1_000));
  await app.start();
  return app;
}

const dbTime = defineJob({
  name: 'test.db-time',
  queue: 'test-int',
  schema: z.object({ label: z.string().min(1) }).strict(),
  handler: async ({ label }, { db, progress }) => {
    await progress(50);
    const { rows } = await sql<{ ok: number }>`select 1 as ok`.execute(db);
    return { label, ok: rows[0]?.ok };
  },
});

describe('worker app', () => {
  it('runs jobs, stores results, fails bad payloads without retry, and reports health and metrics', async () => {
    const env = envFor();
    const { logger, lines } = captureLogger();
    const registry = createJobRegistry([...jobs, dbTime], registryOptions);
    const app = await started(createWorkerApp({ env, jobs: registry, logger }));

    const connection = createQueueConnection(env);
    const maintenance = new Queue(QUEUE_NAMES.maintenance, { connection, prefix, defaultJobOptions });
    const testQueue = new Queue('test-int', { connection, prefix, defaultJobOptions });
    cleanups.push(async () => {
      await maintenance.close();
      await testQueue.close();
      connection.disconnect();
    });

    const ping = await maintenance.add('maintenance.ping', {});
    const query = await testQueue.add('test.db-time', { label: 'x' });
    const bad = await testQueue.add('test.db-time', { label: '', extra: true });

    for (const job of [ping, query]) {
      await waitFor(async () => (await job.getState()) === 'completed', { description: `${job.name} completed` });
    }
    expect((await Job.fromId(maintenance, ping.id!))?.returnvalue).toEqual({ pong: true });
    const storedQuery = await Job.fromId(testQueue, query.id!);
    expect(storedQuery?.returnvalue).toEqual({ label: 'x', ok: 1 });
    expect(storedQuery?.progress).toBe(50);

    await waitFor(async () => (await bad.getState()) === 'failed', { description: 'bad payload failed' });
    const storedBad = await Job.fromId(testQueue, bad.id!);
    expect(storedBad?.failedReason).toMatch(/invalid payload for job "test\.db-time": label: .*; \(root\): /);
    // attempts is 3 by default: a single attempt proves the failure was not retried.
    expect(storedBad?.opts.attempts).toBe(3);
    expect(storedBad?.attemptsMade).toBe(1);

    const healthRes = await fetch(`${app.url()}/health`);
    expect(healthRes.status).toBe(200);
    const health = (await healthRes.json()) as Record<string, unknown>;
    expect(health).toMatchObject({
      status: 'healthy',
      service: 'worker',
      connections: { redis: true, database: true },
      // Every queue of the real jobs, plus this test's own.
      queues: [...new Set([...jobs.map((j) => j.queue), 'test-int'])].sort(),
    });
    expect(typeof health.uptime).toBe('number');

    const metricsRes = await fetch(`${app.url()}/metrics`);
    expect(metricsRes.status).toBe(200);
    expect(metricsRes.headers.get('content-type')).toMatch(/text\/plain/);
    const metrics = await metricsRes.text();
    expect(sample(metrics, 'generation_jobs_total', { status: 'success', type: 'maintenance.ping' })).toBe(1);
    expect(sample(metrics, 'generation_jobs_total', { status: 'failure', type: 'test.db-time' })).toBe(1);
    expect(sample(metrics, 'worker_job_duration_seconds_count', { name: 'test.db-time', outcome: 'completed' })).toBe(
      1,
    );
    expect(sample(metrics, 'worker_job_duration_seconds_count', { name: 'test.db-time', outcome: 'failed' })).toBe(1);
    expect(metrics).toMatch(/process_cpu_user_seconds_total/);
    expect((await fetch(`${app.url()}/nope`)).status).toBe(404);

    // The shared test Redis runs with noeviction: no warning about it.
    expect(lines.some((l) => /maxmemory-policy/.test(l.msg))).toBe(false);
  });

  it('answers 503 with the failing connection named when the database is unreachable', async () => {
    const target = new URL(tdb.url);
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port) });
    cleanups.push(() => proxy.close());
    const app = await started(
      createWorkerApp({ env: envFor({ DATABASE_URL: proxy.url(tdb.url) }), jobs, logger: pino({ level: 'silent' }) }),
    );
    expect((await fetch(`${app.url()}/health`)).status).toBe(200);

    proxy.cut();
    const res = await fetch(`${app.url()}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded', connections: { redis: true, database: false } });

    proxy.restore();
    await waitFor(async () => (await fetch(`${app.url()}/health`)).status === 200, { description: 'health back' });
  });

  it('answers 503 while Redis is unreachable and recovers when it is back', async () => {
    const target = new URL(defaultRedisUrl());
    const proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) });
    cleanups.push(() => proxy.close());
    const env = envFor({ REDIS_URL: proxy.url(defaultRedisUrl()) });
    const app = await started(createWorkerApp({ env, jobs, logger: pino({ level: 'silent' }) }));
    expect((await fetch(`${app.url()}/health`)).status).toBe(200);

    proxy.cut();
    const res = await fetch(`${app.url()}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded', connections: { redis: false, database: true } });

    proxy.restore();
    await waitFor(async () => (await fetch(`${app.url()}/health`)).status === 200, {
      timeoutMs: 15_000,
      description: 'health back',
    });
    // The queue consumers reconnected too: a job enqueued now is processed.
    const connection = createQueueConnection(envFor());
    const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix, defaultJobOptions });
    cleanups.push(async () => {
      await queue.close();
      connection.disconnect();
    });
    const job = await queue.add('maintenance.ping', { note: 'after the cut' });
    await waitFor(async () => (await job.getState()) === 'completed', {
      timeoutMs: 15_000,
      description: 'ping after reconnect',
    });
  });

  it('warns at start when Redis may evict queued jobs', async () => {
    const redis = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
    cleanups.push(() => redis.stop());
    const { logger, lines } = captureLogger();
    await started(createWorkerApp({ env: envFor({ REDIS_URL: redis.url }), jobs, logger }));
    const warning = lines.find((l) => /maxmemory-policy/.test(l.msg));
    expect(warning).toMatchObject({ level: 40, maxmemoryPolicy: 'allkeys-lru' });
  });
});
