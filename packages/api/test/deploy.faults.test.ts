/**
 * Fault: a deploy. An api and a worker process run a streaming chat turn (a fake Anthropic that sends its answer
 * slowly) and a batch of generations; both get SIGTERM mid-way, as a platform does on deploy, and new ones start.
 * - The chat client, told to reconnect by the old api, comes back on the new one with its last event id (tRPC sends
 *   it by itself) and receives the whole answer: every delta once, in order, and the final message. The old api
 *   finishes the turn while it drains; the new one serves the rest from the turn's Redis Stream.
 * - Generations finish exactly once: the old worker stops fetching, lets running jobs go on until its (short)
 *   deadline and hands back the rest, which the new worker runs — one set of tracks, one ledger row and one settled
 *   hold each, nothing left in the queue.
 * - Both old processes exit 0 (graceful: nothing had to be killed).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { QUEUE_NAMES, queueRedisUrl } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  DEFAULT_QUEUE_DB,
  enqueueTestGeneration,
  flushPrefix,
  launch,
  startFakeAnthropic,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type FakeAnthropic,
  type Launched,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { Redis } from 'ioredis';
import type { AppRouter } from '../src/index';
import { subscribeTurn } from './helpers/chat';
import { httpClient } from './helpers/generation';

/** 40 pieces, one every 150 ms: a ~6 s answer, so the SIGTERM lands in the middle of it. */
const PIECES = Array.from({ length: 40 }, (_, i) => `word${i} `);
const PIECE_MS = 150;
const GENERATIONS = 12;
/** The api's grace: the running turn must finish inside it (chat drain = grace - 3 s). */
const API_SHUTDOWN_MS = 15_000;
/** The worker's deadline: short, so some running jobs are handed back rather than finished. */
const WORKER_SHUTDOWN_MS = 1_000;

let tdb: TestDatabase;
let s3server: S3ServerHandle;
let fake: FakeAnthropic;
let queue: Queue;
let connection: Redis;
const prefix = uniqueRedisPrefix('faults-deploy');
const launched: Launched[] = [];

function env(extra: Record<string, string>): Record<string, string> {
  return testEnv(
    { databaseUrl: tdb.url, redisPrefix: prefix, s3: s3server },
    {
      MUSIC_PROVIDER: 'test',
      WHITELISTED_IPS: '127.0.0.1',
      ANTHROPIC_API_KEY: fake.apiKey,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MAX_RETRIES: '0',
      WORKER_LOCK_DURATION_MS: '3000',
      WORKER_CONCURRENCY: '2',
      ...extra,
    },
  );
}

async function start(kind: 'api' | 'worker'): Promise<Launched> {
  const l = await launch(
    kind === 'api'
      ? { apis: 1, workers: 0, env: env({ SHUTDOWN_TIMEOUT_MS: String(API_SHUTDOWN_MS) }), healthTimeoutMs: 180_000 }
      : {
          apis: 0,
          workers: 1,
          env: env({ SHUTDOWN_TIMEOUT_MS: String(WORKER_SHUTDOWN_MS) }),
          healthTimeoutMs: 180_000,
        },
  );
  launched.push(l);
  return l;
}

beforeAll(async () => {
  [tdb, s3server, fake] = await Promise.all([createTestDatabase(), startS3Server(), startFakeAnthropic()]);
  connection = new Redis(queueRedisUrl({ REDIS_URL: defaultRedisUrl(), REDIS_QUEUE_DB: DEFAULT_QUEUE_DB }), {
    maxRetriesPerRequest: null,
  });
  queue = new Queue(QUEUE_NAMES.generate, { connection, prefix });
});

afterAll(async () => {
  for (const l of launched) await l.stop().catch(() => undefined);
  await queue?.close();
  connection?.disconnect();
  await flushPrefix(defaultRedisUrl(), prefix);
  await fake?.close();
  await s3server?.stop();
  await tdb?.drop();
});

describe('deploy: SIGTERM to the api and the worker mid-way', () => {
  it('resumes the streaming chat on the new api with nothing lost or repeated; every job finishes once', async () => {
    const [oldApi, oldWorker] = await Promise.all([start('api'), start('worker')]);
    let apiUrl = oldApi.apis[0]!.url;
    const { user, token } = await createUser(tdb.db, { plan: 'pro' });

    // The chat client follows whichever api is current (a load balancer's job in production).
    let connects = 0;
    const socket = createWSClient({
      url: () => {
        connects += 1;
        return `${apiUrl.replace(/^http/, 'ws')}/trpc`;
      },
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: { token },
      retryDelayMs: () => 200,
    });
    const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });

    fake.enqueue({ steps: PIECES.flatMap((text) => [{ wait: () => sleep(PIECE_MS) }, { text }]) });
    const sent = await httpClient(apiUrl, token).chat.send.mutate({ message: 'count to forty, slowly' });
    const sub = subscribeTurn(client, { turnId: sent.turnId });

    const ids: string[] = [];
    for (let i = 0; i < GENERATIONS; i++) {
      ids.push(await enqueueTestGeneration(tdb.db, queue, { ownerId: user.id, prompt: `deploy ${i}`, seed: i }));
    }
    const statuses = () =>
      tdb.db.selectFrom('generations').select(['id', 'status', 'attempts']).where('id', 'in', ids).execute();
    await waitFor(async () => (await statuses()).some((r) => r.status === 'running'), {
      timeoutMs: 60_000,
      intervalMs: 20,
      description: 'a generation running',
    });
    await sub.until((e) => e.data.type === 'text_delta' && e.data.text === PIECES[5], 'the sixth delta', 60_000);
    const deltasBeforeDeploy = sub.deltas().length;
    expect(sub.isCompleted()).toBe(false);

    // The deploy: the old ones get SIGTERM, the new ones start.
    oldApi.kill('api-0', 'SIGTERM');
    oldWorker.kill('worker-0', 'SIGTERM');
    const [newApi, newWorker] = await Promise.all([start('api'), start('worker')]);
    apiUrl = newApi.apis[0]!.url;
    const [apiExit, workerExit] = await Promise.all([oldApi.exited('api-0'), oldWorker.exited('worker-0')]);
    expect(apiExit).toEqual({ code: 0, signal: null });
    expect(workerExit).toEqual({ code: 0, signal: null });

    await sub.done(60_000);
    const deltas = sub.deltas().map((e) => e.data.type === 'text_delta' && e.data.text);
    const eventIds = sub.items.map((e) => e.id);
    const final = sub.final()?.data;

    await waitFor(
      async () => {
        const rows = await statuses();
        const failed = rows.filter((r) => r.status === 'failed');
        if (failed.length > 0) throw new Error(`failed generations: ${failed.map((r) => r.id).join(', ')}`);
        return rows.every((r) => r.status === 'succeeded');
      },
      { timeoutMs: 120_000, intervalMs: 200, description: 'every generation succeeded' },
    );
    const rows = await statuses();
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
    const oldWorkerLog = oldWorker.logs('worker-0');
    const counts = {
      chatDeltas: deltas.length,
      chatDeltasBeforeDeploy: deltasBeforeDeploy,
      chatEvents: eventIds.length,
      repeatedEvents: eventIds.length - new Set(eventIds).size,
      clientConnects: connects,
      generations: rows.length,
      succeeded: rows.filter((r) => r.status === 'succeeded').length,
      handedBack: oldWorkerLog.split('job handed back to the queue').length - 1,
      jobAttempts: rows.reduce((sum, r) => sum + r.attempts, 0),
      tracks: tracks.length,
      duplicateTracks: trackKeys.length - new Set(trackKeys).size,
      ledgerRows: usage.length,
      duplicateLedgerRows: usage.length - new Set(usage.map((u) => u.generation_id)).size,
      holdsOpen: holds.filter((h) => h.status !== 'settled').length,
    };
    console.log(`faults: deploy ${JSON.stringify(counts)}`);

    expect(sub.errors).toEqual([]);
    expect(deltas).toEqual(PIECES);
    expect(counts.repeatedEvents).toBe(0);
    expect(final).toMatchObject({ type: 'message', status: 'succeeded', content: PIECES.join('') });
    // The client did reconnect (to the new api) rather than the whole answer arriving before the SIGTERM.
    expect(counts.clientConnects).toBeGreaterThan(1);
    expect(counts.chatDeltasBeforeDeploy).toBeLessThan(PIECES.length);
    expect(counts.succeeded).toBe(GENERATIONS);
    expect(counts.tracks).toBe(GENERATIONS * 2);
    expect(counts.duplicateTracks).toBe(0);
    expect(counts.ledgerRows).toBe(GENERATIONS);
    expect(counts.duplicateLedgerRows).toBe(0);
    expect(counts.holdsOpen).toBe(0);
    expect(await queue.getJobCounts('waiting', 'active', 'delayed', 'failed')).toMatchObject({
      waiting: 0,
      active: 0,
      delayed: 0,
      failed: 0,
    });
    const turn = await tdb.db
      .selectFrom('chat_turns')
      .select('status')
      .where('id', '=', sent.turnId)
      .executeTakeFirstOrThrow();
    expect(turn.status).toBe('succeeded');

    await socket.close();
    await Promise.all([newApi.stop(), newWorker.stop()]);
  });
});
