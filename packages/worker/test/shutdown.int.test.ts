import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv, workerEnvSchema } from '@dawg/shared';
import {
  createTestDatabase,
  defaultRedisUrl,
  flushPrefix,
  launch,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type Launched,
  type TestDatabase,
} from '@dawg/testing';
import { defaultJobOptions } from '../src/job-options';
import { createQueueConnection } from '../src/redis';

const FIXTURE = 'packages/worker/test/fixtures/sleep-worker.ts';
const SLEEP_QUEUE = 'test-sleep';

let tdb: TestDatabase;
const prefix = uniqueRedisPrefix('worker-shutdown');
let queue: Queue;
const launched: Launched[] = [];

function env(shutdownTimeoutMs: number): Record<string, string> {
  return testEnv({ databaseUrl: tdb.url, redisPrefix: prefix }, { SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs) });
}

async function startWorker(shutdownTimeoutMs: number): Promise<Launched> {
  const l = await launch({ apis: 0, workers: 1, env: env(shutdownTimeoutMs), workerEntry: FIXTURE });
  launched.push(l);
  return l;
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  const parsed = parseEnv(workerEnvSchema, env(1_000));
  queue = new Queue(SLEEP_QUEUE, { connection: createQueueConnection(parsed), prefix, defaultJobOptions });
});

afterAll(async () => {
  for (const l of launched) await l.stop().catch(() => undefined);
  await queue.close();
  await flushPrefix(defaultRedisUrl(), prefix);
  await tdb.drop();
});

async function untilActive(job: Job): Promise<void> {
  await waitFor(async () => (await job.getState()) === 'active', { timeoutMs: 20_000, description: 'job active' });
}

describe('worker shutdown', () => {
  it('lets a running job finish on SIGTERM, then exits 0', async () => {
    const worker = await startWorker(15_000);
    const job = await queue.add('test.sleep', { ms: 2_000 });
    await untilActive(job);

    worker.kill('worker-0', 'SIGTERM');
    const exit = await worker.exited('worker-0');
    expect(exit, worker.logs('worker-0')).toEqual({ code: 0, signal: null });

    const stored = await Job.fromId(queue, job.id!);
    expect(await stored?.getState()).toBe('completed');
    expect(stored?.returnvalue).toMatchObject({ slept: 2_000, pid: worker.workers[0]!.pid });
  });

  it('hands a job longer than the deadline back to the queue; another worker completes it', async () => {
    const first = await startWorker(500);
    const job = await queue.add('test.sleep', { ms: 6_000 });
    await untilActive(job);
    const attemptsBefore = (await Job.fromId(queue, job.id!))?.attemptsMade;

    first.kill('worker-0', 'SIGTERM');
    const exit = await first.exited('worker-0');
    expect(exit, first.logs('worker-0')).toEqual({ code: 0, signal: null });
    expect(first.logs('worker-0')).toMatch(/job handed back to the queue/);

    // Back in the queue, neither failed nor counted as a failed attempt.
    const returned = await Job.fromId(queue, job.id!);
    expect(['waiting', 'delayed', 'prioritized']).toContain(await returned?.getState());
    expect(returned?.attemptsMade).toBe(attemptsBefore);
    expect(returned?.failedReason).toBeFalsy();
    expect(await queue.getFailedCount()).toBe(0);

    const second = await startWorker(15_000);
    await waitFor(async () => (await job.getState()) === 'completed', {
      timeoutMs: 30_000,
      description: 'job completed by the second worker',
    });
    const done = await Job.fromId(queue, job.id!);
    expect(done?.returnvalue).toMatchObject({ slept: 6_000, pid: second.workers[0]!.pid });
    // BullMQ counts the finishing attempt; the handed-back one left no trace.
    expect(done?.attemptsMade).toBe((attemptsBefore ?? 0) + 1);
    await second.stop();
  });
});
