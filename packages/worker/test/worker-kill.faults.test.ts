/**
 * Fault: worker processes SIGKILLed during a run of generations. 100 short generations (the zero-cost test
 * provider) are queued in waves while two worker processes run them; after each wave starts running, one worker is
 * SIGKILLed (no shutdown, no hand-back) and a fresh one launched, 10 times. Jobs a dead worker held are taken over
 * once their lock expires (BullMQ's stalled-job check). Every generation must succeed exactly once: one set of
 * tracks, one ledger row, one settled hold, and no job left in the queue.
 */
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
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type Launched,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { createQueueConnection } from '../src/redis';

const GENERATIONS = 100;
const KILLS = 10;
const VARIANTS = 2;

let tdb: TestDatabase;
let s3server: S3ServerHandle;
const prefix = uniqueRedisPrefix('faults-kill');
let queue: Queue;
let connection: ReturnType<typeof createQueueConnection>;
const launched: Launched[] = [];

function env(): Record<string, string> {
  return testEnv(
    { databaseUrl: tdb.url, redisPrefix: prefix, s3: s3server },
    { WORKER_LOCK_DURATION_MS: '1500', WORKER_CONCURRENCY: '2', SHUTDOWN_TIMEOUT_MS: '2000' },
  );
}

beforeAll(async () => {
  [tdb, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  connection = createQueueConnection(parseEnv(workerEnvSchema, env()));
  queue = new Queue(QUEUE_NAMES.generate, { connection, prefix });
});

afterAll(async () => {
  for (const l of launched) await l.stop().catch(() => undefined);
  await queue?.close();
  connection?.disconnect();
  await flushPrefix(defaultRedisUrl(), prefix);
  await s3server?.stop();
  await tdb?.drop();
});

async function startWorker(): Promise<Launched> {
  // A process start (tsx loading the worker) can take a minute when the machine is saturated.
  const l = await launch({ apis: 0, workers: 1, env: env(), healthTimeoutMs: 180_000 });
  launched.push(l);
  return l;
}

async function enqueue(ownerId: string, n: number): Promise<string> {
  // One second of audio: what is under test is the takeover, not the rendering (which is most of a job's time).
  return enqueueTestGeneration(tdb.db, queue, {
    ownerId,
    prompt: `fault run ${n}`,
    seed: n,
    variants: VARIANTS,
    durationSec: 1,
  });
}

async function statuses(ids: string[]) {
  return tdb.db.selectFrom('generations').select(['id', 'status', 'stalls']).where('id', 'in', ids).execute();
}

describe('workers SIGKILLed during generations', () => {
  it(`completes ${GENERATIONS} generations exactly once across ${KILLS} worker kills`, async () => {
    const { user } = await createUser(tdb.db);
    // Two slots, killed in turn. A replacement starts in the background while the next wave runs on the other slot
    // (a process start takes seconds on a loaded machine); it is awaited only when its own slot's turn comes.
    const slots: Promise<Launched>[] = [startWorker(), startWorker()];
    await Promise.all(slots);
    const ids: string[] = [];
    const perWave = GENERATIONS / KILLS;
    const started = Date.now();
    for (let wave = 0; wave < KILLS; wave++) {
      const victim = await slots[wave % 2]!;
      const waveIds: string[] = [];
      for (let i = 0; i < perWave; i++) waveIds.push(await enqueue(user.id, ids.length + i));
      ids.push(...waveIds);
      // Kill while the wave is being worked on: at least one of its generations is running.
      // Earlier waves go first (one slot may still be starting): on a loaded 2-core machine that takes a while.
      await waitFor(async () => (await statuses(waveIds)).some((r) => r.status === 'running'), {
        timeoutMs: 180_000,
        intervalMs: 20,
        description: `a generation of wave ${wave} running`,
      });
      victim.kill('worker-0', 'SIGKILL');
      expect((await victim.exited('worker-0')).signal).toBe('SIGKILL');
      const replacement = startWorker();
      // Awaited later; a start that fails meanwhile is reported there, not as an unhandled rejection.
      replacement.catch(() => undefined);
      slots[wave % 2] = replacement;
      console.log(
        `worker SIGKILL: wave ${wave + 1}/${KILLS} killed at ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    await Promise.all(slots);

    // Until every generation has finished, one way or the other (a failure is reported with its reason below).
    await waitFor(async () => (await statuses(ids)).every((r) => r.status === 'succeeded' || r.status === 'failed'), {
      timeoutMs: 180_000,
      intervalMs: 200,
      description: 'every generation finished',
    });
    const failed = await tdb.db
      .selectFrom('generations')
      .select(['id', 'error', 'error_code', 'attempts', 'stalls'])
      .where('id', 'in', ids)
      .where('status', '=', 'failed')
      .execute();
    expect(failed).toEqual([]);

    const rows = await statuses(ids);
    const tracks = await tdb.db
      .selectFrom('tracks')
      .select(['generation_id', 'clip_index'])
      .where('generation_id', 'in', ids)
      .execute();
    const usage = await tdb.db
      .selectFrom('usage_events')
      .select(['generation_id'])
      .where('generation_id', 'in', ids)
      .execute();
    const holds = await tdb.db
      .selectFrom('budget_holds')
      .select(['generation_id', 'status'])
      .where('generation_id', 'in', ids)
      .execute();
    const trackKeys = tracks.map((t) => `${t.generation_id}:${t.clip_index}`);
    const usageIds = usage.map((u) => u.generation_id);
    const stalls = rows.reduce((sum, r) => sum + r.stalls, 0);
    const counts = {
      generations: rows.length,
      succeeded: rows.filter((r) => r.status === 'succeeded').length,
      kills: KILLS,
      stalledTakeovers: stalls,
      tracks: tracks.length,
      duplicateTracks: trackKeys.length - new Set(trackKeys).size,
      ledgerRows: usage.length,
      duplicateLedgerRows: usageIds.length - new Set(usageIds).size,
      holdsSettled: holds.filter((h) => h.status === 'settled').length,
      holdsOpen: holds.filter((h) => h.status !== 'settled').length,
    };
    console.log(`faults: worker SIGKILL ${JSON.stringify(counts)}`);

    expect(counts.succeeded).toBe(GENERATIONS);
    expect(counts.tracks).toBe(GENERATIONS * VARIANTS);
    expect(counts.duplicateTracks).toBe(0);
    expect(counts.ledgerRows).toBe(GENERATIONS);
    expect(counts.duplicateLedgerRows).toBe(0);
    expect(counts.holdsSettled).toBe(GENERATIONS);
    expect(counts.holdsOpen).toBe(0);
    // The kills hit running work: some generations were taken over from a dead worker.
    expect(counts.stalledTakeovers).toBeGreaterThan(0);
    const left = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    expect(left).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  });
});
