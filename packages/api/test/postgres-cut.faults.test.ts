/**
 * Fault: Postgres cut for 10 s. One api and one worker process reach Postgres through the fault proxy, which black-
 * holes every connection (a partition: nothing is refused, nothing answers) while generations are queued and
 * running. During the cut the api answers DB-backed calls with 503 before its request timeout, and its /health says
 * 503; after the cut it recovers by itself (same process), and the worker finishes every generation exactly once:
 * its transactions are retried, never duplicated (one ledger row, one set of tracks, one settled hold each).
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES, queueRedisUrl } from '@dawg/shared';
import {
  createTestDatabase,
  enqueueTestGeneration,
  createUser,
  defaultRedisUrl,
  DEFAULT_QUEUE_DB,
  flushPrefix,
  launch,
  startFaultProxy,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type FaultProxy,
  type Launched,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { Redis } from 'ioredis';

const CUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 5_000;
const GENERATIONS = 12;
const DURING_CUT = 4;

let tdb: TestDatabase;
let s3server: S3ServerHandle;
let proxy: FaultProxy;
let stack: Launched | undefined;
let queue: Queue;
let connection: Redis;
const prefix = uniqueRedisPrefix('faults-pg');

beforeAll(async () => {
  [tdb, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  const pg = new URL(tdb.url);
  proxy = await startFaultProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
  const env = testEnv(
    { databaseUrl: proxy.url(tdb.url), redisPrefix: prefix, s3: s3server },
    {
      MUSIC_PROVIDER: 'test',
      WHITELISTED_IPS: '127.0.0.1',
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      // The pool gives up on a connect well before the request timeout: that is what makes the 503 fast.
      DATABASE_CONNECTION_TIMEOUT: '2000',
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_CONCURRENCY: '2',
      SHUTDOWN_TIMEOUT_MS: '3000',
    },
  );
  connection = new Redis(queueRedisUrl({ REDIS_URL: defaultRedisUrl(), REDIS_QUEUE_DB: DEFAULT_QUEUE_DB }), {
    maxRetriesPerRequest: null,
  });
  queue = new Queue(QUEUE_NAMES.generate, { connection, prefix });
  stack = await launch({ apis: 1, workers: 1, env, healthTimeoutMs: 180_000 });
}, 300_000);

afterAll(async () => {
  proxy?.restore();
  await stack?.stop().catch(() => undefined);
  await queue?.close();
  connection?.disconnect();
  await flushPrefix(defaultRedisUrl(), prefix);
  await proxy?.close();
  await s3server?.stop();
  await tdb?.drop();
});

async function enqueue(ownerId: string, n: number): Promise<string> {
  return enqueueTestGeneration(tdb.db, queue, { ownerId, prompt: `pg fault ${n}`, seed: n });
}

/** A DB-backed call; aborted (and so failed) if the api has not answered within its own request timeout + slack. */
async function listGenerations(token: string): Promise<number> {
  const res = await fetch(`${stack!.apis[0]!.url}/trpc/generation.list?input=${encodeURIComponent('{}')}`, {
    headers: { authorization: `Bearer ${token}`, origin: 'http://localhost:5173' },
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS + 2_000),
  });
  await res.arrayBuffer();
  return res.status;
}

async function health(url: string): Promise<number> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS + 2_000) });
  await res.arrayBuffer();
  return res.status;
}

describe('Postgres cut for 10 s', () => {
  it('answers 503 within the request timeout, recovers by itself, and finishes every generation once', async () => {
    const { user, token } = await createUser(tdb.db, { plan: 'pro' });
    expect(await listGenerations(token)).toBe(200);
    const ids: string[] = [];
    for (let i = 0; i < GENERATIONS; i++) ids.push(await enqueue(user.id, i));
    await waitFor(
      async () =>
        (await tdb.db.selectFrom('generations').select('status').where('id', 'in', ids).execute()).some(
          (r) => r.status === 'running',
        ),
      { timeoutMs: 60_000, intervalMs: 20, description: 'a generation running' },
    );

    proxy.cut('blackhole');
    const cutAt = Date.now();
    // Work the worker picks up while it cannot reach Postgres (queued from here, which can).
    for (let i = 0; i < DURING_CUT; i++) ids.push(await enqueue(user.id, GENERATIONS + i));
    const during: number[] = [];
    while (Date.now() - cutAt < CUT_MS) {
      during.push(await listGenerations(token));
      during.push(await health(stack!.apis[0]!.url));
    }
    proxy.restore();

    await waitFor(async () => (await listGenerations(token)) === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
      description: 'the api answering again after the cut',
    });
    await waitFor(
      async () => {
        const rows = await tdb.db.selectFrom('generations').select(['id', 'status']).where('id', 'in', ids).execute();
        const failed = rows.filter((r) => r.status === 'failed');
        if (failed.length > 0) throw new Error(`failed generations: ${failed.map((r) => r.id).join(', ')}`);
        return rows.every((r) => r.status === 'succeeded');
      },
      { timeoutMs: 120_000, intervalMs: 200, description: 'every generation succeeded' },
    );

    const attempts = await tdb.db.selectFrom('generations').select('attempts').where('id', 'in', ids).execute();
    const tracks = await tdb.db
      .selectFrom('tracks')
      .select(['generation_id', 'clip_index'])
      .where('generation_id', 'in', ids)
      .execute();
    const usage = await tdb.db
      .selectFrom('usage_events')
      .select('generation_id')
      .where('generation_id', 'in', ids)
      .execute();
    const holds = await tdb.db.selectFrom('budget_holds').select('status').where('generation_id', 'in', ids).execute();
    const trackKeys = tracks.map((t) => `${t.generation_id}:${t.clip_index}`);
    const counts = {
      cutMs: CUT_MS,
      callsDuringCut: during.length,
      answered503: during.filter((s) => s === 503).length,
      answered5xxOther: during.filter((s) => s >= 500 && s !== 503).length,
      generations: ids.length,
      queuedDuringCut: DURING_CUT,
      jobAttempts: attempts.reduce((sum, r) => sum + r.attempts, 0),
      tracks: tracks.length,
      duplicateTracks: trackKeys.length - new Set(trackKeys).size,
      ledgerRows: usage.length,
      duplicateLedgerRows: usage.length - new Set(usage.map((u) => u.generation_id)).size,
      holdsOpen: holds.filter((h) => h.status !== 'settled').length,
    };
    console.log(`faults: Postgres cut ${JSON.stringify(counts)}`);
    expect(counts.callsDuringCut).toBeGreaterThan(1);
    expect(during.every((s) => s === 503)).toBe(true);
    expect(counts.tracks).toBe(ids.length * 2);
    expect(counts.duplicateTracks).toBe(0);
    expect(counts.ledgerRows).toBe(ids.length);
    expect(counts.duplicateLedgerRows).toBe(0);
    expect(counts.holdsOpen).toBe(0);
  });
});
