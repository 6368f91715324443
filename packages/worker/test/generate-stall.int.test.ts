/**
 * A worker process dies mid-generation: the fault hook (GENERATION_FAULT=pause_processing) holds the job at the
 * `processing` stage, the process is SIGKILLed (no shutdown, no hand-back), and a second worker process takes the
 * job over once its lock expires (BullMQ's stalled-job check). The generation completes exactly once: one set of
 * tracks, one ledger entry, one settled hold, and the row counts the stall.
 */
import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHold, findGeneration, insertGeneration } from '@dawg/db';
import { GENERATE_JOB_OPTIONS, JOB_NAMES, parseEnv, QUEUE_NAMES, workerEnvSchema } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  launch,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type Launched,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { createQueueConnection } from '../src/redis';

let tdb: TestDatabase;
let s3server: S3ServerHandle;
const prefix = uniqueRedisPrefix('gen-stall');
let queue: Queue;
let connection: ReturnType<typeof createQueueConnection>;
const launched: Launched[] = [];

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return testEnv(
    { databaseUrl: tdb.url, redisPrefix: prefix, s3: s3server },
    { WORKER_LOCK_DURATION_MS: '1500', ...overrides },
  );
}

beforeAll(async () => {
  [tdb, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  connection = createQueueConnection(parseEnv(workerEnvSchema, env()));
  queue = new Queue(QUEUE_NAMES.generate, { connection, prefix });
});

afterAll(async () => {
  for (const l of launched) await l.stop().catch(() => undefined);
  await queue.close();
  connection.disconnect();
  await flushPrefix(defaultRedisUrl(), prefix);
  await s3server.stop();
  await tdb.drop();
});

describe('a worker killed mid-generation', () => {
  it('loses the job to another worker, which completes it exactly once and records the stall', async () => {
    const first = await launch({ apis: 0, workers: 1, env: env({ GENERATION_FAULT: 'pause_processing' }) });
    launched.push(first);
    const { user } = await createUser(tdb.db);
    const row = await insertGeneration(tdb.db, {
      ownerId: user.id,
      projectId: null,
      kind: 'song',
      prompt: 'stall test tone',
      params: { mode: 'simple', prompt: 'stall test tone', instrumental: true, durationSec: 4, seed: 5, variants: 2 },
      provider: 'test',
      model: 'test-tone-1',
      estimatedCostMicro: 0,
      idempotencyKey: null,
    });
    await createHold(tdb.db, {
      userId: user.id,
      kind: 'music',
      amountMicro: 0,
      generationId: row.id,
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    await queue.add(JOB_NAMES.generate, { generationId: row.id }, { ...GENERATE_JOB_OPTIONS, jobId: row.id });

    await waitFor(async () => (await findGeneration(tdb.db, row.id))?.stage === 'processing', {
      timeoutMs: 30_000,
      description: 'the job paused at processing',
    });
    first.kill('worker-0', 'SIGKILL');
    expect((await first.exited('worker-0')).signal).toBe('SIGKILL');
    expect(await findGeneration(tdb.db, row.id)).toMatchObject({ status: 'running', attempts: 1, stalls: 0 });

    const second = await launch({ apis: 0, workers: 1, env: env() });
    launched.push(second);
    await waitFor(async () => (await findGeneration(tdb.db, row.id))?.status === 'succeeded', {
      timeoutMs: 60_000,
      description: 'the second worker completed the generation',
    });

    const done = await findGeneration(tdb.db, row.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, stalls: 1 });
    const job = await Job.fromId(queue, row.id);
    expect(await job?.getState()).toBe('completed');
    expect(job?.stalledCounter).toBe(1);
    expect(second.logs('worker-0')).not.toMatch(/generation failed/);

    const tracks = await tdb.db.selectFrom('tracks').selectAll().where('generation_id', '=', row.id).execute();
    expect(tracks.map((t) => t.clip_index).sort()).toEqual([0, 1]);
    const usage = await tdb.db.selectFrom('usage_events').selectAll().where('generation_id', '=', row.id).execute();
    expect(usage).toHaveLength(1);
    const holds = await tdb.db.selectFrom('budget_holds').selectAll().where('generation_id', '=', row.id).execute();
    expect(holds.map((h) => h.status)).toEqual(['settled']);
    await second.stop();
  });
});
