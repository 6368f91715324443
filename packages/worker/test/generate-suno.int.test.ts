/**
 * Generation II in the `generate` job, on real Postgres, Redis and an S3-protocol server, with the local Suno and
 * OpenAI fakes speaking their wire protocols:
 * - a Suno task walks PENDING → TEXT_SUCCESS → FIRST_SUCCESS → SUCCESS; `first_audio` carries a playable stream URL
 *   before the final event; both clips are mastered into S3 with provenance, one ledger entry, the hold settled;
 * - SENSITIVE_WORD_ERROR fails at once with Suno's reason, the hold released, nothing stored;
 * - a 500 on submit is retried once inside the attempt and the generation succeeds;
 * - the generation time limit fails a task that never finishes, refunds and stops polling;
 * - custom mode with `writeLyrics` gets lyrics and a title from the OpenAI fake (stage `writing_lyrics`) and a second
 *   ledger entry for the tokens in the same success;
 * - the local synth extends its own song deterministically, and the new track records its parent.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHold, findGeneration, insertGeneration, type GenerationRow } from '@dawg/db';
import {
  GENERATE_JOB_OPTIONS,
  GENERATION_EVENT_FIELD,
  generationEventsKey,
  JOB_NAMES,
  parseEnv,
  QUEUE_NAMES,
  workerEnvSchema,
  type GenerationParams,
  type GenerationProgressEvent,
} from '@dawg/shared';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  startFakeOpenAI,
  startFakeSuno,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type FakeOpenAI,
  type FakeSuno,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { createWorkerApp } from '../src/app';
import { jobs, registryOptions } from '../src/jobs';
import { musicRequestFor } from '../src/jobs/generate';
import { writeLyricsOffline } from '../src/lyrics';
import { synthExtendRequestFor } from '../src/providers/local';
import { createQueueConnection } from '../src/redis';
import { createJobRegistry } from '../src/registry';
import { renderSong } from '../src/synth/render';

let tdb: TestDatabase;
let s3server: S3ServerHandle;
let s3: S3Client;
let events: Redis;
let suno: FakeSuno;
let openai: FakeOpenAI;
const prefixes: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [tdb, s3server, suno, openai] = await Promise.all([
    createTestDatabase(),
    startS3Server(),
    startFakeSuno({ clipSeconds: 3 }),
    startFakeOpenAI(),
  ]);
  s3 = createS3Client(s3server);
  events = new Redis(defaultRedisUrl());
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await Promise.all(prefixes.map((p) => flushPrefix(defaultRedisUrl(), p)));
  events.disconnect();
  s3.destroy();
  await Promise.all([s3server.stop(), suno.close(), openai.close()]);
  await tdb.drop();
});

async function startWorker(overrides: Record<string, string> = {}) {
  const prefix = uniqueRedisPrefix('gen2');
  prefixes.push(prefix);
  const env = parseEnv(
    workerEnvSchema,
    testEnv(
      { databaseUrl: tdb.url, redisPrefix: prefix, s3: s3server },
      {
        SUNO_API_KEY: suno.apiKey,
        SUNO_BASE_URL: suno.url,
        SUNO_POLL_INTERVAL_MS: '334',
        OPENAI_API_KEY: openai.apiKey,
        OPENAI_BASE_URL: openai.baseURL,
        ...overrides,
      },
    ),
  );
  const app = createWorkerApp({
    env,
    jobs: createJobRegistry(jobs, registryOptions),
    logger: pino({ level: 'silent' }),
  });
  const connection = createQueueConnection(env);
  const generate = new Queue(QUEUE_NAMES.generate, { connection, prefix });
  cleanups.push(async () => {
    await app.close(2_000);
    await generate.close();
    connection.disconnect();
  });
  await app.start();
  return { app, prefix, generate };
}

const SIMPLE: GenerationParams = {
  mode: 'simple',
  prompt: 'bright synthwave with a driving beat',
  instrumental: true,
  durationSec: 30,
  seed: 4242,
  variants: 2,
};

async function admit(
  ownerId: string,
  params: GenerationParams,
  provider: 'suno' | 'local' = 'suno',
  kind: 'song' | 'extend' = 'song',
): Promise<GenerationRow> {
  const row = await insertGeneration(tdb.db, {
    ownerId,
    projectId: null,
    kind,
    prompt: params.prompt ?? params.style ?? 'custom',
    params,
    provider,
    model: provider === 'suno' ? 'V4_5' : 'dawg-synth-1',
    estimatedCostMicro: provider === 'suno' ? 120_000 : 0,
    idempotencyKey: null,
  });
  await createHold(tdb.db, {
    userId: ownerId,
    kind: 'music',
    amountMicro: provider === 'suno' ? 120_000 : 0,
    generationId: row.id,
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  return row;
}

async function enqueue(queue: Queue, id: string) {
  await queue.add(JOB_NAMES.generate, { generationId: id }, { ...GENERATE_JOB_OPTIONS, jobId: id });
}

async function finished(id: string, timeoutMs = 60_000): Promise<GenerationRow> {
  let row: GenerationRow | undefined;
  await waitFor(
    async () => {
      row = await findGeneration(tdb.db, id);
      return row?.status === 'succeeded' || row?.status === 'failed' || row?.status === 'canceled';
    },
    { timeoutMs, description: `generation ${id} finished` },
  );
  return row!;
}

async function streamEvents(prefix: string, id: string): Promise<GenerationProgressEvent[]> {
  const entries = (await events.xrange(generationEventsKey(prefix, id), '-', '+')) as [string, string[]][];
  return entries.map(
    ([, fields]) => JSON.parse(fields[fields.indexOf(GENERATION_EVENT_FIELD) + 1]!) as GenerationProgressEvent,
  );
}

async function objectKeys(userId: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: s3server.bucket, Prefix: `users/${userId}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

async function holdOf(id: string) {
  return tdb.db.selectFrom('budget_holds').selectAll().where('generation_id', '=', id).executeTakeFirstOrThrow();
}

async function usageOf(id: string) {
  return tdb.db.selectFrom('usage_events').selectAll().where('generation_id', '=', id).orderBy('kind').execute();
}

async function tracksOf(id: string) {
  return tdb.db.selectFrom('tracks').selectAll().where('generation_id', '=', id).orderBy('clip_index').execute();
}

/** The fake's task submitted for a generation (the worker records its id on the row). */
async function taskOf(id: string) {
  const row = await findGeneration(tdb.db, id);
  return row?.provider_task_id ? suno.tasks.get(row.provider_task_id) : undefined;
}

describe('generate job with Suno', () => {
  it('walks a task to SUCCESS, streams first audio before the end and stores both clips with provenance', async () => {
    suno.configure({ statuses: ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS'], failNext: {} });
    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    const row = await admit(user.id, SIMPLE);
    await enqueue(worker.generate, row.id);

    const done = await finished(row.id);
    expect(done, done.error ?? '').toMatchObject({ status: 'succeeded', attempts: 1, stalls: 0, provider: 'suno' });
    const task = await taskOf(row.id);
    expect(task?.reported).toEqual(['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS']);
    expect(task?.body).toMatchObject({ customMode: false, instrumental: true, model: 'V4_5', prompt: SIMPLE.prompt });

    const stream = await streamEvents(worker.prefix, row.id);
    const firstAudio = stream.findIndex((e) => e.stage === 'first_audio');
    const succeeded = stream.findIndex((e) => e.status === 'succeeded');
    expect(firstAudio).toBeGreaterThanOrEqual(0);
    expect(firstAudio).toBeLessThan(succeeded);
    const streamUrl = stream[firstAudio]!.streamUrl!;
    expect(streamUrl).toBe(`${suno.url}/stream/${task!.clipIds[0]}`);
    const played = await fetch(streamUrl);
    expect(played.status).toBe(200);
    expect(played.headers.get('content-type')).toMatch(/^audio\//);
    expect((await played.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect(stream.map((e) => e.stage)).toEqual(['generating', 'first_audio', 'processing', 'uploading', 'done']);

    const tracks = await tracksOf(row.id);
    expect(tracks).toHaveLength(2);
    for (const [i, t] of tracks.entries()) {
      expect(t).toMatchObject({ provider: 'suno', model: 'V4_5', clip_index: i, sample_rate: 44_100, channels: 2 });
      expect(t.params).toMatchObject({ provider: { clipId: task!.clipIds[i], taskId: task!.taskId, variant: i } });
      expect(t.duration_sec).toBeCloseTo(3, 1);
    }
    const base = `users/${user.id}/generations/${row.id}`;
    expect(await objectKeys(user.id)).toEqual(
      [0, 1].flatMap((i) => [`${base}/${i}.mp3`, `${base}/${i}.peaks.json`, `${base}/${i}.wav`]).sort(),
    );
    const usage = await usageOf(row.id);
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ kind: 'music', provider: 'suno', model: 'V4_5', units: { clips: 2 } });
    expect(Number(usage[0]!.cost_micro)).toBe(100_000);
    expect((await holdOf(row.id)).status).toBe('settled');
  });

  it('fails a SENSITIVE_WORD_ERROR task at once with the reason, refunds and stores nothing', async () => {
    suno.configure({
      statuses: ['PENDING', 'SENSITIVE_WORD_ERROR'],
      errorMessage: 'The description contains a sensitive word',
    });
    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    const row = await admit(user.id, { ...SIMPLE, prompt: 'a forbidden word' });
    await enqueue(worker.generate, row.id);

    const done = await finished(row.id);
    expect(done).toMatchObject({ status: 'failed', error_code: 'unrecoverable', attempts: 1 });
    expect(done.error).toContain('SENSITIVE_WORD_ERROR');
    expect(done.error).toContain('The description contains a sensitive word');
    expect((await holdOf(row.id)).status).toBe('released');
    expect(await tracksOf(row.id)).toEqual([]);
    expect(await usageOf(row.id)).toEqual([]);
    expect(await objectKeys(user.id)).toEqual([]);
    const final = (await streamEvents(worker.prefix, row.id)).at(-1);
    expect(final).toMatchObject({ status: 'failed', error: done.error });
  });

  it('retries a 500 on submit once and succeeds in the same attempt', async () => {
    suno.configure({ statuses: ['PENDING', 'FIRST_SUCCESS', 'SUCCESS'], failNext: { submit: 1 } });
    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    const before = suno.counts.submit;
    const row = await admit(user.id, { ...SIMPLE, variants: 1 });
    await enqueue(worker.generate, row.id);

    const done = await finished(row.id);
    expect(done, done.error ?? '').toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(suno.counts.submit - before).toBe(2);
    expect(await tracksOf(row.id)).toHaveLength(1);
    expect((await holdOf(row.id)).status).toBe('settled');
  });

  it('fails a generation past its time limit: refunded, nothing stored, polling stopped', async () => {
    suno.configure({ statuses: ['PENDING'], failNext: {} });
    const worker = await startWorker({ GENERATION_TIMEOUT_MS: '1500' });
    const { user } = await createUser(tdb.db);
    const row = await admit(user.id, SIMPLE);
    await enqueue(worker.generate, row.id);

    const done = await finished(row.id);
    expect(done).toMatchObject({ status: 'failed', error_code: 'timeout', attempts: 1 });
    expect(done.error).toMatch(/timed out/);
    expect((await holdOf(row.id)).status).toBe('released');
    expect(await tracksOf(row.id)).toEqual([]);
    expect(await usageOf(row.id)).toEqual([]);
    expect(await objectKeys(user.id)).toEqual([]);
    const task = await taskOf(row.id);
    const polls = task!.reported.length;
    expect(polls).toBeGreaterThan(0);
    // Several poll intervals later the task is still not being asked about.
    await new Promise((r) => setTimeout(r, 1_200));
    expect(task!.reported.length).toBe(polls);
    expect(await worker.generate.getJobState(row.id)).toBe('failed');
  });

  it('writes lyrics and a title with OpenAI first and charges the tokens with the music', async () => {
    suno.configure({ statuses: ['PENDING', 'FIRST_SUCCESS', 'SUCCESS'], failNext: {} });
    openai.configure({
      reply: JSON.stringify({ title: 'Harbor Lights', lyrics: '[Verse]\nSalt on the wind\n\n[Chorus]\nHarbor lights' }),
      usage: { prompt_tokens: 1_000, completion_tokens: 500 },
    });
    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    const requestsBefore = openai.requests.length;
    const row = await admit(user.id, {
      mode: 'custom',
      style: 'sea shanty pop, accordion',
      writeLyrics: true,
      instrumental: false,
      durationSec: 60,
      seed: 9,
      variants: 1,
    });
    await enqueue(worker.generate, row.id);

    const done = await finished(row.id);
    expect(done, done.error ?? '').toMatchObject({ status: 'succeeded' });
    expect(openai.requests.length - requestsBefore).toBe(1);
    expect(openai.requests.at(-1)).toMatchObject({ model: 'gpt-4o-mini' });
    const task = await taskOf(row.id);
    expect(task?.body).toMatchObject({
      customMode: true,
      instrumental: false,
      title: 'Harbor Lights',
      style: 'sea shanty pop, accordion',
      prompt: '[Verse]\nSalt on the wind\n\n[Chorus]\nHarbor lights',
    });
    const [track] = await tracksOf(row.id);
    expect(track).toMatchObject({ title: 'Harbor Lights' });
    expect(track?.lyrics).toContain('Harbor lights');

    const stages = (await streamEvents(worker.prefix, row.id)).map((e) => e.stage);
    expect(stages.slice(0, 2)).toEqual(['writing_lyrics', 'generating']);
    const usage = await usageOf(row.id);
    expect(usage.map((u) => u.kind)).toEqual(['lyrics', 'music']);
    const lyrics = usage[0]!;
    expect(lyrics).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini-2024-07-18',
      idempotency_key: `generation:${row.id}:lyrics`,
      units: { unit: 'tokens', inputTokens: 1_000, outputTokens: 500 },
    });
    // gpt-4o-mini: $0.15 / Mtok in, $0.60 / Mtok out → 150 + 300 micro-dollars.
    expect(Number(lyrics.cost_micro)).toBe(450);
    // Suno bills both clips of the task although one take was kept: 2 × $0.05.
    expect(Number(done.actual_cost_micro)).toBe(100_000 + 450);
  });
});

describe('lyrics without OpenAI', () => {
  it('writes them offline, deterministically, and charges nothing for them', async () => {
    suno.configure({ statuses: ['PENDING', 'FIRST_SUCCESS', 'SUCCESS'], failNext: {} });
    const worker = await startWorker({ OPENAI_API_KEY: '' });
    const { user } = await createUser(tdb.db);
    const requestsBefore = openai.requests.length;
    const params: GenerationParams = {
      mode: 'custom',
      style: 'indie folk, acoustic guitar',
      title: 'Kept Title',
      writeLyrics: true,
      instrumental: false,
      durationSec: 90,
      seed: 31,
      variants: 1,
    };
    const row = await admit(user.id, params);
    await enqueue(worker.generate, row.id);
    const done = await finished(row.id);
    expect(done, done.error ?? '').toMatchObject({ status: 'succeeded' });
    expect(openai.requests.length).toBe(requestsBefore);
    const task = await taskOf(row.id);
    const expected = writeLyricsOffline({
      style: params.style!,
      title: 'Kept Title',
      prompt: '',
      seed: 31,
      durationSec: 90,
    });
    expect(task?.body).toMatchObject({ title: 'Kept Title', prompt: expected.lyrics });
    expect(expected.lyrics).toMatch(/\[Verse 1\][\s\S]*\[Chorus\][\s\S]*\[Verse 2\]/);
    const [track] = await tracksOf(row.id);
    expect(track).toMatchObject({ title: 'Kept Title', lyrics: expected.lyrics });
    expect((await usageOf(row.id)).map((u) => u.kind)).toEqual(['music']);
    expect((await streamEvents(worker.prefix, row.id))[0]?.stage).toBe('writing_lyrics');
  });
});

describe('extend with the local synth', () => {
  it('continues the parent song deterministically from a bar line and records the parent', async () => {
    const parentParams: GenerationParams = {
      mode: 'simple',
      prompt: 'chill lofi hip hop with piano',
      instrumental: true,
      durationSec: 20,
      seed: 77,
      variants: 1,
      bpm: 90,
    };
    const extendParams: GenerationParams = {
      ...parentParams,
      durationSec: 8,
      extend: {
        parentTrackId: '00000000-0000-4000-8000-000000000000',
        continueAtSec: 8,
        parentDurationSec: 20,
        parentVariant: 0,
      },
    };
    // The continuation is the parent's own song from bar 3 on (90 bpm: 8/3 s bars → 8 s is bar 3).
    const req = await synthExtendRequestFor(
      musicRequestFor({ id: '00000000-0000-4000-8000-000000000001', params: extendParams }),
    );
    expect(req).toMatchObject({ startBar: 3, durationSec: 16, seed: 77, bpm: 90 });
    const full = renderSong({ ...req, startBar: 0, durationSec: 16 });
    const part = renderSong(req);
    const from = part.meta.startSec * 44_100;
    expect(part.meta.startSec).toBeCloseTo(8, 6);
    expect(Array.from(part.left.subarray(0, 4_410))).toEqual(Array.from(full.left.subarray(from, from + 4_410)));

    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    const parent = await admit(user.id, parentParams, 'local');
    await enqueue(worker.generate, parent.id);
    expect((await finished(parent.id)).status).toBe('succeeded');
    const [parentTrack] = await tracksOf(parent.id);

    const ext = await admit(
      user.id,
      { ...extendParams, extend: { ...extendParams.extend!, parentTrackId: parentTrack!.id } },
      'local',
      'extend',
    );
    await enqueue(worker.generate, ext.id);
    const done = await finished(ext.id);
    expect(done, done.error ?? '').toMatchObject({ status: 'succeeded', kind: 'extend' });
    const [child] = await tracksOf(ext.id);
    expect(child).toMatchObject({ parent_track_id: parentTrack!.id, provider: 'local', bpm: 90 });
    expect(child!.params).toMatchObject({ provider: { startBar: 3, extendedFromSec: 8 } });
    expect(child!.duration_sec).toBeCloseTo(8, 0);
  });
});
