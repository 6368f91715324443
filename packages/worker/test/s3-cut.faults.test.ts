/**
 * Fault: S3 cut mid-upload. A worker process reaches the S3-protocol server through the fault proxy, slowed down so
 * uploads are in flight, and the proxy resets every connection (and refuses new ones) for 3 s while generations
 * upload their audio. The attempts that failed are retried and every generation succeeds exactly once; afterwards
 * the bucket holds exactly the objects the tracks point to: no orphan from a failed attempt.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv, QUEUE_NAMES, workerEnvSchema } from '@dawg/shared';
import {
  createTestDatabase,
  enqueueTestGeneration,
  createUser,
  defaultRedisUrl,
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
import { createQueueConnection } from '../src/redis';

const GENERATIONS = 8;
const CUT_MS = 3_000;

let tdb: TestDatabase;
let s3server: S3ServerHandle;
let proxy: FaultProxy;
let stack: Launched | undefined;
let queue: Queue;
let connection: ReturnType<typeof createQueueConnection>;
let s3: S3Client;
const prefix = uniqueRedisPrefix('faults-s3');

beforeAll(async () => {
  [tdb, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  const endpoint = new URL(s3server.endpoint);
  proxy = await startFaultProxy({ host: endpoint.hostname, port: Number(endpoint.port) });
  const env = testEnv(
    { databaseUrl: tdb.url, redisPrefix: prefix, s3: { ...s3server, endpoint: proxy.url(s3server.endpoint) } },
    { WORKER_CONCURRENCY: '4', WORKER_LOCK_DURATION_MS: '5000', SHUTDOWN_TIMEOUT_MS: '3000' },
  );
  connection = createQueueConnection(parseEnv(workerEnvSchema, env));
  queue = new Queue(QUEUE_NAMES.generate, { connection, prefix });
  s3 = new S3Client({
    endpoint: s3server.endpoint,
    region: s3server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3server.accessKeyId, secretAccessKey: s3server.secretAccessKey },
  });
  stack = await launch({ apis: 0, workers: 1, env, healthTimeoutMs: 180_000 });
}, 180_000);

afterAll(async () => {
  proxy?.restore();
  await stack?.stop().catch(() => undefined);
  await queue?.close();
  connection?.disconnect();
  s3?.destroy();
  await flushPrefix(defaultRedisUrl(), prefix);
  await proxy?.close();
  await s3server?.stop();
  await tdb?.drop();
});

async function enqueue(ownerId: string, n: number): Promise<string> {
  return enqueueTestGeneration(tdb.db, queue, { ownerId, prompt: `s3 fault ${n}`, seed: n, durationSec: 8 });
}

async function bucketKeys(): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: s3server.bucket, ...(token ? { ContinuationToken: token } : {}) }),
    );
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

describe('S3 cut mid-upload', () => {
  it('retries the failed attempts, succeeds once each, and leaves no orphan object', async () => {
    const { user } = await createUser(tdb.db);
    // Slow transfers, so the cut lands while uploads are in flight.
    proxy.setDelay(40);
    const ids: string[] = [];
    for (let i = 0; i < GENERATIONS; i++) ids.push(await enqueue(user.id, i));
    await waitFor(async () => proxy.connections() > 0, {
      timeoutMs: 60_000,
      intervalMs: 10,
      description: 'an upload in flight',
    });
    proxy.cut('reset');
    await new Promise((r) => setTimeout(r, CUT_MS));
    proxy.restore();
    proxy.setDelay(0);

    await waitFor(
      async () => {
        const rows = await tdb.db.selectFrom('generations').select(['id', 'status']).where('id', 'in', ids).execute();
        const failed = rows.filter((r) => r.status === 'failed');
        if (failed.length > 0) throw new Error(`failed generations: ${failed.map((r) => r.id).join(', ')}`);
        return rows.every((r) => r.status === 'succeeded');
      },
      { timeoutMs: 180_000, intervalMs: 200, description: 'every generation succeeded' },
    );

    const rows = await tdb.db.selectFrom('generations').select('attempts').where('id', 'in', ids).execute();
    const tracks = await tdb.db
      .selectFrom('tracks')
      .select(['generation_id', 'clip_index', 'mp3_key', 'wav_key', 'peaks_key', 'original_key'])
      .where('generation_id', 'in', ids)
      .execute();
    const referenced = new Set(
      tracks.flatMap((t) => [t.mp3_key, t.wav_key, t.peaks_key, t.original_key]).filter((k): k is string => !!k),
    );
    const stored = await bucketKeys();
    const usage = await tdb.db
      .selectFrom('usage_events')
      .select('generation_id')
      .where('generation_id', 'in', ids)
      .execute();
    const counts = {
      generations: ids.length,
      jobAttempts: rows.reduce((sum, r) => sum + r.attempts, 0),
      tracks: tracks.length,
      objects: stored.length,
      orphanObjects: stored.filter((k) => !referenced.has(k)).length,
      missingObjects: [...referenced].filter((k) => !stored.includes(k)).length,
      ledgerRows: usage.length,
    };
    console.log(`faults: S3 cut ${JSON.stringify(counts)}`);
    // The cut failed some attempts, which were retried.
    expect(counts.jobAttempts).toBeGreaterThan(GENERATIONS);
    expect(counts.tracks).toBe(GENERATIONS * 2);
    expect(counts.ledgerRows).toBe(GENERATIONS);
    expect(counts.orphanObjects).toBe(0);
    expect(counts.missingObjects).toBe(0);
  });
});
