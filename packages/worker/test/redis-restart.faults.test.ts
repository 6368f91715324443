/**
 * Fault: Redis restarted under a running stack. A dedicated redis-server (AOF on, fsync always; not the shared
 * instance) serves one api and two worker processes; it is stopped and started again on the same port 3 times while
 * generations are queued and running. After each restart the api and the workers answer /health 200 again within
 * 30 s, with the same processes (no restart), and the api takes new generations; at the end every generation
 * (queued directly and through the api) has succeeded exactly once: no job lost, none duplicated.
 */
import { Queue } from 'bullmq';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv, QUEUE_NAMES, workerEnvSchema } from '@dawg/shared';
import {
  createTestDatabase,
  enqueueTestGeneration,
  createUser,
  launch,
  startRedisServer,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type Launched,
  type RedisServerHandle,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { createQueueConnection } from '../src/redis';

const RESTARTS = 3;
const PER_ROUND = 8;
const RECOVERY_MS = 30_000;

let tdb: TestDatabase;
let s3server: S3ServerHandle;
let redis: RedisServerHandle | undefined;
let dir: string;
let port: number;
let stack: Launched | undefined;
let queue: Queue;
let connection: ReturnType<typeof createQueueConnection>;
const prefix = uniqueRedisPrefix('faults-redis');

async function startRedis(): Promise<RedisServerHandle> {
  return startRedisServer({
    ...(port ? { port } : {}),
    args: ['--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
  });
}

function env(): Record<string, string> {
  return testEnv(
    { databaseUrl: tdb.url, redisPrefix: prefix, s3: s3server, redisUrl: redis!.url },
    {
      MUSIC_PROVIDER: 'test',
      WHITELISTED_IPS: '127.0.0.1',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_CONCURRENCY: '2',
      SHUTDOWN_TIMEOUT_MS: '3000',
    },
  );
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'dawg-redis-aof-'));
  [tdb, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  redis = await startRedis();
  port = redis.port;
  connection = createQueueConnection(parseEnv(workerEnvSchema, env()));
  connection.on('error', () => undefined);
  queue = new Queue(QUEUE_NAMES.generate, { connection, prefix });
  stack = await launch({ apis: 1, workers: 2, env: env(), healthTimeoutMs: 180_000 });
}, 300_000);

afterAll(async () => {
  await stack?.stop().catch(() => undefined);
  await queue?.close().catch(() => undefined);
  connection?.disconnect();
  await redis?.stop();
  await s3server?.stop();
  await tdb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

async function enqueue(ownerId: string, n: number): Promise<string> {
  return enqueueTestGeneration(tdb.db, queue, { ownerId, prompt: `redis fault ${n}`, seed: n });
}

/** generation.create through the api (its admission, hold and enqueue all use Redis). */
async function createThroughApi(token: string, n: number): Promise<string> {
  const res = await fetch(`${stack!.apis[0]!.url}/trpc/generation.create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: 'http://localhost:5173' },
    body: JSON.stringify({ prompt: `redis fault via api ${n}`, duration: 30, instrumental: true }),
  });
  const body = (await res.json()) as { result?: { data?: { jobId?: string } } };
  if (res.status !== 200 || !body.result?.data?.jobId) throw new Error(`generation.create: ${res.status}`);
  return body.result.data.jobId;
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Redis restarted under a running stack', () => {
  it(`recovers api and workers within 30 s of each of ${RESTARTS} restarts and loses no job`, async () => {
    const processes = [...stack!.apis, ...stack!.workers];
    const ids: string[] = [];
    const recoveries: number[] = [];
    for (let round = 0; round < RESTARTS; round++) {
      const { user, token } = await createUser(tdb.db, { plan: 'pro' });
      const roundIds: string[] = [];
      for (let i = 0; i < PER_ROUND; i++) roundIds.push(await enqueue(user.id, ids.length + i));
      ids.push(...roundIds);
      await waitFor(
        async () =>
          (await tdb.db.selectFrom('generations').select('status').where('id', 'in', roundIds).execute()).some(
            (r) => r.status === 'running',
          ),
        { timeoutMs: 60_000, intervalMs: 20, description: `a generation of round ${round} running` },
      );

      await redis!.stop();
      redis = await startRedis();
      const restarted = Date.now();
      await waitFor(async () => (await Promise.all(processes.map((p) => healthy(p.url)))).every(Boolean), {
        timeoutMs: RECOVERY_MS,
        intervalMs: 200,
        description: 'api and workers healthy again after the Redis restart',
      });
      recoveries.push(Date.now() - restarted);
      // The api takes work again (admission, hold, enqueue), once Redis is back.
      ids.push(await waitFor(() => createThroughApi(token, round).catch(() => null), { timeoutMs: RECOVERY_MS }));
    }

    await waitFor(
      async () => {
        const rows = await tdb.db.selectFrom('generations').select(['id', 'status']).where('id', 'in', ids).execute();
        const failed = rows.filter((r) => r.status === 'failed');
        if (failed.length > 0) throw new Error(`failed generations: ${failed.map((r) => r.id).join(', ')}`);
        return rows.length === ids.length && rows.every((r) => r.status === 'succeeded');
      },
      { timeoutMs: 120_000, intervalMs: 200, description: 'every generation succeeded' },
    );

    const usage = await tdb.db
      .selectFrom('usage_events')
      .select('generation_id')
      .where('generation_id', 'in', ids)
      .execute();
    const holds = await tdb.db.selectFrom('budget_holds').select('status').where('generation_id', 'in', ids).execute();
    const counts = {
      restarts: RESTARTS,
      recoveryMs: recoveries,
      generations: ids.length,
      succeeded: ids.length,
      ledgerRows: usage.length,
      duplicateLedgerRows: usage.length - new Set(usage.map((u) => u.generation_id)).size,
      holdsOpen: holds.filter((h) => h.status !== 'settled').length,
      processesRestarted: processes.filter((p) => !alive(p.pid)).length,
    };
    console.log(`faults: Redis restarts ${JSON.stringify(counts)}`);
    expect(counts.ledgerRows).toBe(ids.length);
    expect(counts.duplicateLedgerRows).toBe(0);
    expect(counts.holdsOpen).toBe(0);
    expect(counts.processesRestarted).toBe(0);
    const left = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    expect(left).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  });
});
