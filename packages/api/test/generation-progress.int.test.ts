/**
 * `generation.onProgress` over WebSocket, with two api instances and the real worker job in process:
 * - cross-instance: subscribed on api A to a generation created on api B and run by the worker, the client gets the
 *   row first, then every stage exactly once, in order, ending with the final event;
 * - resume: a client whose connection is cut mid-job reconnects by itself (tRPC sends the last event id) and gets
 *   every later stage exactly once; a new client on another instance resuming from an id gets exactly what followed.
 */
import type { GenerationProgressItem } from '@dawg/shared';
import type { WorkerApp } from '@dawg/worker';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  startFaultProxy,
  startS3Server,
  uniqueRedisPrefix,
  waitFor,
  type FaultProxy,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { httpClient, startWorker, wsClient } from './helpers/generation';

let database: TestDatabase;
let s3server: S3ServerHandle;
let apiA: TestApi;
let apiB: TestApi;
const prefix = uniqueRedisPrefix('progress');
const proxies: FaultProxy[] = [];
const perTest: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  const opts = { database, prefix, s3: s3server, overrides: { MUSIC_PROVIDER: 'test' } };
  [apiA, apiB] = await Promise.all([startApi(opts), startApi(opts)]);
});

afterEach(async () => {
  for (const cleanup of perTest.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await Promise.all([apiA?.close(), apiB?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  await s3server?.stop();
  await database?.drop();
});

const STAGES = ['generating', 'first_audio', 'processing', 'uploading', 'done'];

interface Received {
  id: string;
  data: GenerationProgressItem;
}

/** Subscribes and records every item; `until` resolves when an item matches. */
function subscribe(client: ReturnType<typeof wsClient>['client'], input: { id: string; lastEventId?: string }) {
  const items: Received[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const sub = client.generation.onProgress.subscribe(input, {
    onData: (item) => void items.push(item as Received),
    onError: (err) => void errors.push(err),
    onComplete: () => {
      completed = true;
    },
  });
  return {
    items,
    errors,
    isCompleted: () => completed,
    events: () => items.filter((i) => i.data.type === 'event'),
    snapshots: () => items.filter((i) => i.data.type === 'snapshot'),
    until: (match: (item: Received) => boolean, description: string) =>
      waitFor(() => items.find(match), { timeoutMs: 20_000, description }),
    unsubscribe: () => sub.unsubscribe(),
  };
}

const stageOf = (item: Received) => (item.data.type === 'event' ? item.data.event.stage : null);
const isFinal = (item: Received) => item.data.type === 'event' && item.data.event.status === 'succeeded';

async function running(overrides: { s3Endpoint?: string } = {}): Promise<WorkerApp> {
  const s3 = overrides.s3Endpoint ? { ...s3server, endpoint: overrides.s3Endpoint } : s3server;
  const worker = await startWorker({ database, prefix, s3 });
  perTest.push(() => worker.close(2_000));
  return worker;
}

function expectStagesOnce(received: Received[]) {
  const events = received.filter((i) => i.data.type === 'event');
  expect(events.map(stageOf)).toEqual(STAGES);
  const ids = events.map((e) => e.id);
  expect(new Set(ids).size).toBe(ids.length);
}

describe('generation.onProgress', () => {
  it('delivers the row, then every stage once, to a subscriber on another instance than the one that created it', async () => {
    const { token } = await createUser(database.db);
    const { jobId } = await httpClient(apiB.base, token).generation.create.mutate({ prompt: 'cross', duration: 5 });

    const ws = wsClient(apiA.wsBase, token);
    perTest.push(() => ws.close());
    const sub = subscribe(ws.client, { id: jobId });
    const snapshot = await sub.until((i) => i.data.type === 'snapshot', 'snapshot');
    expect(snapshot.data).toMatchObject({
      type: 'snapshot',
      generation: { id: jobId, status: 'queued', stage: 'queued' },
    });

    await running();
    await sub.until(isFinal, 'final event');
    await waitFor(() => sub.isCompleted(), { description: 'subscription completed' });
    expectStagesOnce(sub.items);
    const final = sub.events().at(-1)!;
    expect(final.data).toMatchObject({ event: { status: 'succeeded', progress: 100, trackIds: [expect.any(String)] } });
    expect(sub.errors).toEqual([]);
  });

  it('resumes after a cut connection without losing or repeating a stage, on any instance', async () => {
    const { token } = await createUser(database.db);
    const { jobId } = await httpClient(apiB.base, token).generation.create.mutate({ prompt: 'resume', duration: 5 });

    // The subscriber reaches api A through a proxy that can sever it; uploads are slowed so the job is mid-way.
    const wsProxy = await startFaultProxy({ host: '127.0.0.1', port: Number(new URL(apiA.base).port) });
    const s3Proxy = await startFaultProxy({ host: '127.0.0.1', port: Number(new URL(s3server.endpoint).port) });
    proxies.push(wsProxy, s3Proxy);
    s3Proxy.setDelay(700);

    const ws = wsClient(wsProxy.url(apiA.wsBase), token);
    perTest.push(() => ws.close());
    const sub = subscribe(ws.client, { id: jobId });
    await sub.until((i) => i.data.type === 'snapshot', 'snapshot');

    await running({ s3Endpoint: s3Proxy.url(s3server.endpoint) });
    await sub.until((i) => stageOf(i) === 'first_audio', 'first_audio');
    wsProxy.cut();
    const beforeCut = sub.events().length;
    await waitFor(
      async () =>
        (await database.db.selectFrom('generations').select('status').where('id', '=', jobId).executeTakeFirst())
          ?.status === 'succeeded',
      { timeoutMs: 20_000, description: 'job finished while disconnected' },
    );
    expect(sub.events().length).toBe(beforeCut);
    wsProxy.restore();

    await sub.until(isFinal, 'final event after reconnect');
    expectStagesOnce(sub.items);
    // The client did reconnect: a second snapshot arrived, carrying the id the client resumed from.
    const snapshots = sub.snapshots();
    expect(snapshots).toHaveLength(2);
    expect(snapshots[1]?.id).toBe(sub.events()[beforeCut - 1]?.id);
    expect(sub.errors).toEqual([]);

    // A new client on the other instance, resuming from first_audio, gets exactly what followed it.
    const firstAudio = sub.events().find((e) => stageOf(e) === 'first_audio')!;
    const other = wsClient(apiB.wsBase, token);
    perTest.push(() => other.close());
    const resumed = subscribe(other.client, { id: jobId, lastEventId: firstAudio.id });
    await waitFor(() => resumed.isCompleted(), { timeoutMs: 10_000, description: 'resumed subscription completed' });
    expect(resumed.events().map(stageOf)).toEqual(['processing', 'uploading', 'done']);
    expect(resumed.snapshots()).toHaveLength(1);
  });

  it('answers NOT_FOUND for a generation of another user', async () => {
    const owner = await createUser(database.db);
    const { jobId } = await httpClient(apiA.base, owner.token).generation.create.mutate({
      prompt: 'mine',
      duration: 5,
    });
    const { token } = await createUser(database.db);
    const ws = wsClient(apiA.wsBase, token);
    perTest.push(() => ws.close());
    const sub = subscribe(ws.client, { id: jobId });
    await waitFor(() => sub.errors.length > 0, { description: 'error' });
    expect(sub.errors[0]).toMatchObject({ data: { code: 'NOT_FOUND' } });
    expect(sub.items).toEqual([]);
  });
});
