/**
 * Generation II across real processes (two api processes and one worker process from `launch`), with the local Suno
 * fake in this test process:
 * - cross-instance: subscribed on api A, a generation created through api B and run by the worker process delivers
 *   every stage exactly once, `first_audio` carrying Suno's playable stream URL before the final event;
 * - cancel mid-poll through `generation.cancel` on the other api: the worker aborts the provider at once (the fake
 *   stops being polled), the row is `canceled`, the hold released, no track and no object;
 * - a queued generation is canceled at once; extend admits a continuation of an owned track from a bar line.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { QUEUE_NAMES, queueRedisUrl, type GenerationProgressItem } from '@dawg/shared';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  DEFAULT_QUEUE_DB,
  defaultRedisUrl,
  flushPrefix,
  launch,
  startFakeSuno,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type FakeSuno,
  type Launched,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, httpClient, wsClient } from './helpers/generation';

let database: TestDatabase;
let s3server: S3ServerHandle;
let s3: S3Client;
let suno: FakeSuno;
let stack: Launched;
let queueConnection: Redis;
/** The generate queue the processes share, to hold jobs back while a test subscribes. */
let generateQueue: Queue;
const prefix = uniqueRedisPrefix('gen-launched');
const perTest: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  [database, s3server, suno] = await Promise.all([createTestDatabase(), startS3Server(), startFakeSuno()]);
  s3 = createS3Client(s3server);
  const env = testEnv(
    { databaseUrl: database.url, redisPrefix: prefix, s3: s3server },
    {
      MUSIC_PROVIDER: 'suno',
      SUNO_API_KEY: suno.apiKey,
      SUNO_BASE_URL: suno.url,
      SUNO_POLL_INTERVAL_MS: '334',
      WHITELISTED_IPS: '127.0.0.1',
      CORS_ORIGINS: 'http://localhost:5173',
    },
  );
  stack = await launch({ apis: 2, workers: 1, env });
  queueConnection = new Redis(queueRedisUrl({ REDIS_URL: defaultRedisUrl(), REDIS_QUEUE_DB: DEFAULT_QUEUE_DB }), {
    maxRetriesPerRequest: null,
  });
  generateQueue = new Queue(QUEUE_NAMES.generate, { connection: queueConnection, prefix });
}, 180_000);

afterEach(async () => {
  for (const cleanup of perTest.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await stack?.stop();
  await generateQueue?.close();
  queueConnection?.disconnect();
  s3?.destroy();
  await Promise.all([s3server?.stop(), suno?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

interface Received {
  id: string;
  data: GenerationProgressItem;
}

function subscribe(base: string, token: string, id: string) {
  const ws = wsClient(base.replace(/^http/, 'ws'), token);
  perTest.push(() => ws.close());
  const items: Received[] = [];
  const errors: unknown[] = [];
  let completed = false;
  ws.client.generation.onProgress.subscribe(
    { id },
    {
      onData: (item) => void items.push(item as Received),
      onError: (err) => void errors.push(err),
      onComplete: () => {
        completed = true;
      },
    },
  );
  return {
    items,
    errors,
    isCompleted: () => completed,
    events: () => items.flatMap((i) => (i.data.type === 'event' ? [i.data.event] : [])),
    until: (match: (item: Received) => boolean, description: string, timeoutMs = 60_000) =>
      waitFor(() => items.find(match), { timeoutMs, description }),
  };
}

async function objectKeys(userId: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: s3server.bucket, Prefix: `users/${userId}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

async function rowOf(id: string) {
  return database.db.selectFrom('generations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function holdOf(id: string) {
  return database.db.selectFrom('budget_holds').selectAll().where('generation_id', '=', id).executeTakeFirstOrThrow();
}

describe('generation across launched processes', () => {
  it('delivers every stage once to a subscriber on api A for a job created on api B, with a stream URL', async () => {
    suno.configure({ statuses: ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS'] });
    const [apiA, apiB] = stack.apis;
    const { token } = await createUser(database.db, { plan: 'pro' });
    // Held in the queue until the subscriber is in place, so it sees the run from its first stage.
    await generateQueue.pause();
    const { jobId } = await httpClient(apiB!.url, token).generation.create.mutate({
      prompt: 'cross-instance synthwave',
      duration: 30,
      instrumental: true,
      variants: 2,
    });
    const sub = subscribe(apiA!.url, token, jobId);
    const snapshot = await sub.until((i) => i.data.type === 'snapshot', 'snapshot');
    expect(snapshot.data).toMatchObject({ generation: { id: jobId, status: 'queued' } });
    await generateQueue.resume();
    await sub.until((i) => i.data.type === 'event' && i.data.event.status === 'succeeded', 'succeeded');
    await waitFor(() => sub.isCompleted(), { description: 'subscription completed' });

    const events = sub.events();
    expect(events.map((e) => e.stage)).toEqual(['generating', 'first_audio', 'processing', 'uploading', 'done']);
    const ids = sub.items.filter((i) => i.data.type === 'event').map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    const firstAudio = events.find((e) => e.stage === 'first_audio')!;
    expect(firstAudio.streamUrl).toMatch(new RegExp(`^${suno.url}/stream/`));
    const played = await fetch(firstAudio.streamUrl!);
    expect(played.status).toBe(200);
    expect(played.headers.get('content-type')).toMatch(/^audio\//);
    expect(events.at(-1)).toMatchObject({ status: 'succeeded', trackIds: [expect.any(String), expect.any(String)] });
    expect(sub.errors).toEqual([]);

    const view = await httpClient(apiA!.url, token).generation.get.query({ id: jobId });
    expect(view.tracks.map((t) => [t.provider, t.model])).toEqual([
      ['suno', 'V4_5'],
      ['suno', 'V4_5'],
    ]);
  });

  it('cancels a running generation mid-poll: polling stops, hold refunded, nothing stored', async () => {
    suno.configure({ statuses: ['PENDING'] });
    const [apiA, apiB] = stack.apis;
    const { user, token } = await createUser(database.db, { plan: 'pro' });
    const { jobId } = await httpClient(apiB!.url, token).generation.create.mutate({
      prompt: 'never finishes',
      duration: 30,
      instrumental: true,
    });
    const sub = subscribe(apiA!.url, token, jobId);
    let taskId: string | null = null;
    await waitFor(
      async () => {
        taskId = (await rowOf(jobId)).provider_task_id;
        return taskId !== null && (suno.tasks.get(taskId)?.reported.length ?? 0) >= 2;
      },
      { timeoutMs: 60_000, description: 'the task is being polled' },
    );
    const task = suno.tasks.get(taskId!)!;

    const answer = await httpClient(apiA!.url, token).generation.cancel.mutate({ id: jobId });
    expect(answer).toEqual({ id: jobId, status: 'running', cancelRequested: true });
    await sub.until((i) => i.data.type === 'event' && i.data.event.status === 'canceled', 'canceled event', 20_000);

    const row = await rowOf(jobId);
    expect(row).toMatchObject({ status: 'canceled', error_code: 'canceled' });
    expect(row.cancel_requested_at).toBeInstanceOf(Date);
    expect((await holdOf(jobId)).status).toBe('released');
    const polls = task.reported.length;
    // Four poll intervals later nobody has asked about the task again.
    await new Promise((r) => setTimeout(r, 1_400));
    expect(task.reported.length).toBe(polls);
    expect(await objectKeys(user.id)).toEqual([]);
    const tracks = await database.db.selectFrom('tracks').select('id').where('generation_id', '=', jobId).execute();
    expect(tracks).toEqual([]);
    const usage = await database.db
      .selectFrom('usage_events')
      .select('id')
      .where('generation_id', '=', jobId)
      .execute();
    expect(usage).toEqual([]);
    // Canceling again changes nothing.
    expect(await httpClient(apiB!.url, token).generation.cancel.mutate({ id: jobId })).toEqual({
      id: jobId,
      status: 'canceled',
      cancelRequested: false,
    });
  });

  it('cancels a queued generation at once and refuses to cancel one of another user', async () => {
    const [apiA] = stack.apis;
    const { user, token } = await createUser(database.db, { plan: 'pro' });
    // A row nobody will run (no job): queued until canceled.
    const row = await database.db
      .insertInto('generations')
      .values({ owner_id: user.id, prompt: 'queued', provider: 'suno', model: 'V4_5', estimated_cost_micro: 100_000 })
      .returning('id')
      .executeTakeFirstOrThrow();
    await database.db
      .insertInto('budget_holds')
      .values({
        user_id: user.id,
        kind: 'music',
        amount_micro: 100_000,
        generation_id: row.id,
        expires_at: new Date(Date.now() + 3_600_000),
      })
      .execute();
    const other = await createUser(database.db);
    expect(await codeOf(httpClient(apiA!.url, other.token).generation.cancel.mutate({ id: row.id }))).toBe('NOT_FOUND');

    expect(await httpClient(apiA!.url, token).generation.cancel.mutate({ id: row.id })).toEqual({
      id: row.id,
      status: 'canceled',
      cancelRequested: true,
    });
    expect(await rowOf(row.id)).toMatchObject({ status: 'canceled' });
    expect((await holdOf(row.id)).status).toBe('released');
  });

  it('extends an owned Suno track from the nearest bar line through the same admission', async () => {
    suno.configure({ statuses: ['PENDING', 'FIRST_SUCCESS', 'SUCCESS'] });
    const [apiA] = stack.apis;
    const { token } = await createUser(database.db, { plan: 'pro' });
    const client = httpClient(apiA!.url, token);
    const { jobId } = await client.generation.create.mutate({ prompt: 'parent', duration: 30, instrumental: true });
    await waitFor(async () => (await rowOf(jobId)).status === 'succeeded', { timeoutMs: 60_000 });
    const parent = (await client.generation.get.query({ id: jobId })).tracks[0]!;
    // 120 bpm (the request has none; Suno's clips are taken at 120): 2 s bars, 2.9 s snaps to 2 s.
    await database.db.updateTable('tracks').set({ bpm: 120 }).where('id', '=', parent.id).execute();

    expect(await codeOf(client.generation.extend.mutate({ trackId: parent.id, continueAt: 0.4 }))).toBe('BAD_REQUEST');
    const ext = await client.generation.extend.mutate({ trackId: parent.id, continueAt: 2.9, duration: 20 });
    await waitFor(async () => (await rowOf(ext.jobId)).status === 'succeeded', { timeoutMs: 60_000 });
    const row = await rowOf(ext.jobId);
    expect(row).toMatchObject({ kind: 'extend', provider: 'suno' });
    const submitted = suno.tasks.get(row.provider_task_id!)!;
    expect(submitted.kind).toBe('extend');
    const parentRow = await database.db
      .selectFrom('tracks')
      .selectAll()
      .where('id', '=', parent.id)
      .executeTakeFirstOrThrow();
    expect(submitted.body).toMatchObject({
      audioId: (parentRow.params as { provider: { clipId: string } }).provider.clipId,
      continueAt: 2,
    });
    const child = await database.db
      .selectFrom('tracks')
      .selectAll()
      .where('generation_id', '=', ext.jobId)
      .executeTakeFirstOrThrow();
    expect(child.parent_track_id).toBe(parent.id);
  });
});
