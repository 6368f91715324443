/**
 * The `generate` job on real Postgres, Redis and an S3-protocol server, with the zero-cost test provider: a row
 * admitted the way the api admits it runs to `succeeded` with WAV, MP3 and peaks objects, provenance on the tracks,
 * the ledger entry and the settled hold, and stage events on the generation's stream; an injected render fault fails
 * the row only after the last attempt, leaving no track, no object and the hold released; a fault after upload
 * deletes what was uploaded; the sweeper enqueues a row left queued without a job exactly once.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHold, findGeneration, insertGeneration, type GenerationRow } from '@dawg/db';
import {
  GENERATE_JOB_OPTIONS,
  GENERATION_EVENT_FIELD,
  generationEventsKey,
  JOB_NAMES,
  parseEnv,
  QUEUE_NAMES,
  waveformPeaksSchema,
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
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { createWorkerApp, type WorkerApp } from '../src/app';
import { jobs, registryOptions } from '../src/jobs';
import { generateJob, runGenerateJob } from '../src/jobs/generate';
import { defineJob } from '../src/registry';
import { createQueueConnection } from '../src/redis';
import { createJobRegistry } from '../src/registry';

let tdb: TestDatabase;
let s3server: S3ServerHandle;
let s3: S3Client;
let events: Redis;
const prefixes: string[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [tdb, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  s3 = createS3Client(s3server);
  events = new Redis(defaultRedisUrl());
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await Promise.all(prefixes.map((p) => flushPrefix(defaultRedisUrl(), p)));
  events.disconnect();
  s3.destroy();
  await s3server.stop();
  await tdb.drop();
});

/** A worker app and a producer on their own Redis prefix (their own queues). */
async function startWorker(overrides: Record<string, string> = {}, jobList: typeof jobs = jobs) {
  const prefix = uniqueRedisPrefix('generate');
  prefixes.push(prefix);
  const env = parseEnv(
    workerEnvSchema,
    testEnv({ databaseUrl: tdb.url, redisPrefix: prefix, s3: s3server }, overrides),
  );
  const app: WorkerApp = createWorkerApp({
    env,
    jobs: createJobRegistry(jobList, registryOptions),
    logger: pino({ level: 'silent' }),
  });
  const connection = createQueueConnection(env);
  const generate = new Queue(QUEUE_NAMES.generate, { connection, prefix });
  const maintenance = new Queue(QUEUE_NAMES.maintenance, { connection, prefix });
  cleanups.push(async () => {
    await app.close(2_000);
    await Promise.all([generate.close(), maintenance.close()]);
    connection.disconnect();
  });
  await app.start();
  return { app, env, prefix, generate, maintenance };
}

const PARAMS: GenerationParams = {
  mode: 'simple',
  prompt: 'warm lofi beat with soft piano',
  instrumental: true,
  durationSec: 5,
  seed: 1234,
  variants: 1,
  bpm: 90,
};

/** What the api's admission writes: the queued row and its hold. */
async function admit(
  ownerId: string,
  params: Partial<GenerationParams> = {},
  provider: 'test' | 'local' = 'test',
): Promise<GenerationRow> {
  const row = await insertGeneration(tdb.db, {
    ownerId,
    projectId: null,
    kind: 'song',
    prompt: params.prompt ?? PARAMS.prompt!,
    params: { ...PARAMS, ...params },
    provider,
    model: provider === 'test' ? 'test-tone-1' : 'dawg-synth-1',
    estimatedCostMicro: 0,
    idempotencyKey: null,
  });
  await createHold(tdb.db, {
    userId: ownerId,
    kind: 'music',
    amountMicro: 0,
    generationId: row.id,
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  return row;
}

async function enqueue(queue: Queue, id: string, opts: { attempts?: number } = {}) {
  await queue.add(JOB_NAMES.generate, { generationId: id }, { ...GENERATE_JOB_OPTIONS, ...opts, jobId: id });
}

async function settled(id: string, timeoutMs = 30_000): Promise<GenerationRow> {
  let row: GenerationRow | undefined;
  await waitFor(
    async () => {
      row = await findGeneration(tdb.db, id);
      return row?.status === 'succeeded' || row?.status === 'failed';
    },
    { timeoutMs, description: `generation ${id} finished` },
  );
  return row!;
}

async function streamEvents(prefix: string, id: string): Promise<{ id: string; event: GenerationProgressEvent }[]> {
  const entries = (await events.xrange(generationEventsKey(prefix, id), '-', '+')) as [string, string[]][];
  return entries.map(([entryId, fields]) => ({
    id: entryId,
    event: JSON.parse(fields[fields.indexOf(GENERATION_EVENT_FIELD) + 1]!) as GenerationProgressEvent,
  }));
}

/** Integrated loudness (EBU R128) of in-memory audio, from ffmpeg's ebur128 summary. */
function integratedLoudness(bytes: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const proc = spawn('ffmpeg', [
      '-hide_banner',
      '-nostats',
      '-i',
      'pipe:0',
      '-af',
      'ebur128=framelog=verbose',
      '-f',
      'null',
      '-',
    ]);
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.stdin.on('error', () => undefined);
    proc.on('error', reject);
    proc.on('close', (code) => {
      const m = /Integrated loudness:\s*I:\s*(-?[\d.]+)\s*LUFS/.exec(stderr.slice(stderr.lastIndexOf('Summary:')));
      if (code === 0 && m) resolve(Number(m[1]));
      else reject(new Error(`ffmpeg ebur128 failed (${code}): ${stderr.slice(-300)}`));
    });
    proc.stdin.end(Buffer.from(bytes));
  });
}

async function objectKeys(userId: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: s3server.bucket, Prefix: `users/${userId}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

async function bytesOf(key: string): Promise<Uint8Array> {
  const res = await s3.send(new GetObjectCommand({ Bucket: s3server.bucket, Key: key }));
  return res.Body!.transformToByteArray();
}

describe('generate job', () => {
  it('masters, uploads and commits a generation with provenance, ledger, settled hold and stage events', async () => {
    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    const row = await admit(user.id, { variants: 2 });
    await enqueue(worker.generate, row.id);

    const done = await settled(row.id);
    expect(done).toMatchObject({ status: 'succeeded', stage: 'done', progress: 100, attempts: 1, error: null });
    expect(done.actual_cost_micro).toBe(0);
    expect(done.completed_at).toBeInstanceOf(Date);

    const tracks = await tdb.db
      .selectFrom('tracks')
      .selectAll()
      .where('generation_id', '=', row.id)
      .orderBy('clip_index')
      .execute();
    expect(tracks).toHaveLength(2);
    for (const [i, t] of tracks.entries()) {
      const base = `users/${user.id}/generations/${row.id}/${i}`;
      expect(t).toMatchObject({
        owner_id: user.id,
        clip_index: i,
        source: 'generated',
        status: 'ready',
        provider: 'test',
        model: 'test-tone-1',
        prompt: PARAMS.prompt,
        mp3_key: `${base}.mp3`,
        wav_key: `${base}.wav`,
        peaks_key: `${base}.peaks.json`,
        sample_rate: 44_100,
        channels: 2,
        bpm: 90,
      });
      expect(t.seed).toEqual(expect.any(Number));
      expect(t.params).toMatchObject({ prompt: PARAMS.prompt, seed: PARAMS.seed, take: i });
      expect(t.duration_sec).toBeCloseTo(5, 1);
      expect(t.loudness_lufs).toBeGreaterThan(-15);
      expect(t.loudness_lufs).toBeLessThan(-13);

      const [wav, mp3, peaks] = await Promise.all(
        (['wav', 'mp3', 'peaks'] as const).map((kind) =>
          s3.send(
            new HeadObjectCommand({
              Bucket: s3server.bucket,
              Key: `${base}.${kind === 'peaks' ? 'peaks.json' : kind}`,
            }),
          ),
        ),
      );
      expect(wav?.ContentType).toBe('audio/wav');
      expect(mp3?.ContentType).toBe('audio/mpeg');
      expect(peaks?.ContentType).toBe('application/json');
      // 5 s of 16-bit stereo at 44.1 kHz is 882 kB; 192 kbit/s MP3 is ~120 kB.
      expect(wav?.ContentLength).toBeGreaterThan(850_000);
      expect(wav?.ContentLength).toBeLessThan(900_000);
      expect(mp3?.ContentLength).toBeGreaterThan(100_000);
      expect(mp3?.ContentLength).toBeLessThan(140_000);
      const peaksJson = waveformPeaksSchema.parse(JSON.parse(Buffer.from(await bytesOf(t.peaks_key!)).toString()));
      expect(peaksJson.channels).toBe(2);
      expect(peaksJson.length).toBeGreaterThanOrEqual(800);
      expect(peaksJson.length).toBeLessThanOrEqual(2000);
      expect(peaksJson.data[0]).toHaveLength(peaksJson.length * 2);
      expect(Math.max(...peaksJson.data[0]!)).toBeGreaterThan(0.3);

      // The master measures the target: −14 LUFS integrated, ±1.
      const lufs = await integratedLoudness(await bytesOf(t.wav_key!));
      expect(lufs).toBeGreaterThan(-15);
      expect(lufs).toBeLessThan(-13);
    }

    const usage = await tdb.db.selectFrom('usage_events').selectAll().where('generation_id', '=', row.id).execute();
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({
      idempotency_key: `generation:${row.id}:music`,
      kind: 'music',
      provider: 'test',
      cost_micro: 0,
      units: { unit: 'clips', clips: 2 },
    });
    const hold = await tdb.db
      .selectFrom('budget_holds')
      .selectAll()
      .where('generation_id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(hold.status).toBe('settled');
    expect(hold.resolved_at).toBeInstanceOf(Date);

    const stream = await streamEvents(worker.prefix, row.id);
    expect(stream.map((e) => e.event.stage)).toEqual(['generating', 'first_audio', 'processing', 'uploading', 'done']);
    expect(stream.at(-1)?.event).toMatchObject({
      status: 'succeeded',
      progress: 100,
      trackIds: tracks.map((t) => t.id),
    });
    // Kept an hour after the final event for clients that resume late.
    const ttl = await events.ttl(generationEventsKey(worker.prefix, row.id));
    expect(ttl).toBeGreaterThan(3_000);
    expect(ttl).toBeLessThanOrEqual(3_600);

    // A duplicate delivery of a finished job changes nothing.
    await worker.generate.add(JOB_NAMES.generate, { generationId: row.id }, { jobId: `${row.id}-again` });
    await waitFor(async () => (await worker.generate.getJobState(`${row.id}-again`)) === 'completed');
    const after = await tdb.db.selectFrom('tracks').select('id').where('generation_id', '=', row.id).execute();
    expect(after).toHaveLength(2);
    expect((await findGeneration(tdb.db, row.id))?.attempts).toBe(1);
  });

  it('renders a 30 s song with the local synth into a −14 LUFS master with its tempo and key', async () => {
    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    const row = await admit(
      user.id,
      { prompt: 'driving techno with a rolling bassline', durationSec: 30, bpm: 128, genre: 'techno', seed: 42 },
      'local',
    );
    await enqueue(worker.generate, row.id);
    const done = await settled(row.id, 60_000);
    expect(done.status).toBe('succeeded');
    const track = await tdb.db
      .selectFrom('tracks')
      .selectAll()
      .where('generation_id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(track).toMatchObject({ provider: 'local', model: 'dawg-synth-1', bpm: 128, seed: 42, channels: 2 });
    expect(track.musical_key).toMatch(/^[A-G][#b]? \w+$/);
    expect(track.duration_sec).toBeGreaterThan(29);
    expect(track.duration_sec).toBeLessThan(31);
    expect(track.params).toMatchObject({ provider: { genre: 'techno', variant: 0 } });
    const lufs = await integratedLoudness(await bytesOf(track.wav_key!));
    expect(lufs).toBeGreaterThan(-15);
    expect(lufs).toBeLessThan(-13);
    expect(Math.abs(lufs - track.loudness_lufs!)).toBeLessThan(0.5);
  });

  it('fails a failing render only after the last attempt: no track, no object, hold released, reason kept', async () => {
    const worker = await startWorker({ GENERATION_FAULT: 'render' });
    const { user } = await createUser(tdb.db);
    const row = await admit(user.id);
    await enqueue(worker.generate, row.id);

    const failed = await settled(row.id);
    expect(failed.status).toBe('failed');
    expect(failed.error_code).toBe('render_failed');
    expect(failed.error).toMatch(/^Render failed: injected render fault/);
    expect(failed.attempts).toBe(GENERATE_JOB_OPTIONS.attempts);
    expect(await tdb.db.selectFrom('tracks').select('id').where('generation_id', '=', row.id).execute()).toEqual([]);
    expect(await tdb.db.selectFrom('usage_events').select('id').where('generation_id', '=', row.id).execute()).toEqual(
      [],
    );
    const hold = await tdb.db
      .selectFrom('budget_holds')
      .selectAll()
      .where('generation_id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(hold.status).toBe('released');
    expect(await objectKeys(user.id)).toEqual([]);

    await waitFor(async () => (await worker.generate.getJobState(row.id)) === 'failed');
    const stream = (await streamEvents(worker.prefix, row.id)).map((e) => e.event);
    // Two retries announced (back to queued), then the final failure.
    expect(stream.filter((e) => e.status === 'queued')).toHaveLength(GENERATE_JOB_OPTIONS.attempts - 1);
    expect(stream.at(-1)).toMatchObject({ status: 'failed', error: failed.error });
  });

  it('deletes what an attempt uploaded when it fails after the upload', async () => {
    const worker = await startWorker({ GENERATION_FAULT: 'finalize' });
    const { user } = await createUser(tdb.db);
    const row = await admit(user.id);
    await enqueue(worker.generate, row.id, { attempts: 1 });

    const failed = await settled(row.id);
    expect(failed).toMatchObject({ status: 'failed', error_code: 'finalize_failed', attempts: 1 });
    // The attempt reached the upload stage before failing...
    const stages = (await streamEvents(worker.prefix, row.id)).map((e) => e.event.stage);
    expect(stages).toContain('uploading');
    // ...and left nothing behind.
    expect(await objectKeys(user.id)).toEqual([]);
    expect(await tdb.db.selectFrom('tracks').select('id').where('generation_id', '=', row.id).execute()).toEqual([]);
    const hold = await tdb.db
      .selectFrom('budget_holds')
      .selectAll()
      .where('generation_id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(hold.status).toBe('released');
  });

  it('a failed attempt that a newer attempt took over leaves the objects of the newer attempt alone', async () => {
    // Once this attempt's three uploads are done, the row is taken over (attempts bumped, as a second worker's claim
    // does after a lost lock); the attempt then fails after the upload. Its keys are deterministic, so they are the
    // newer attempt's too: deleting "its" objects would delete the newer attempt's.
    const takenOver = defineJob({
      ...generateJob,
      handler: ({ generationId }, ctx) => {
        const s3 = Object.create(ctx.s3) as S3Client;
        let uploads = 0;
        s3.send = (async (command: { constructor: { name: string } }, ...rest: unknown[]) => {
          const result = await (ctx.s3.send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
          if (/^(Put|CompleteMultipart)/.test(command.constructor.name) && ++uploads === 3) {
            await tdb.db
              .updateTable('generations')
              .set({ attempts: sql<number>`attempts + 1` })
              .where('id', '=', generationId)
              .execute();
          }
          return result;
        }) as S3Client['send'];
        return runGenerateJob(generationId, { ...ctx, s3 });
      },
    });
    const worker = await startWorker(
      { GENERATION_FAULT: 'finalize' },
      jobs.map((j) => (j.name === generateJob.name ? takenOver : j)),
    );
    const { user } = await createUser(tdb.db);
    const row = await admit(user.id);
    await enqueue(worker.generate, row.id, { attempts: 1 });

    await waitFor(async () => (await worker.generate.getJob(row.id))?.finishedOn !== undefined, {
      timeoutMs: 30_000,
      description: 'the attempt finished',
    });
    const after = await findGeneration(tdb.db, row.id);
    // The row belongs to the newer attempt: not failed by the old one, hold not released, objects kept.
    expect(after).toMatchObject({ status: 'running', attempts: 2 });
    expect(await objectKeys(user.id)).toHaveLength(3);
    const hold = await tdb.db
      .selectFrom('budget_holds')
      .selectAll()
      .where('generation_id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(hold.status).toBe('active');
    // No newer attempt will come: end the row so that other tests' sweepers leave it alone.
    await tdb.db
      .updateTable('generations')
      .set({ status: 'failed', error: 'test over' })
      .where('id', '=', row.id)
      .execute();
  });

  it('sweeps a row left queued without a job into exactly one job and one run', async () => {
    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    // A crash between commit and enqueue: the row exists, no job does.
    const row = await admit(user.id);

    const sweeps = await Promise.all([
      worker.maintenance.add(JOB_NAMES.sweepStaleGenerations, { olderThanMs: 0 }),
      worker.maintenance.add(JOB_NAMES.sweepStaleGenerations, { olderThanMs: 0 }),
    ]);
    for (const sweep of sweeps) await waitFor(async () => (await sweep.getState()) === 'completed');

    const done = await settled(row.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempts).toBe(1);
    expect(done.enqueued_at).toBeInstanceOf(Date);
    // A third sweep after the run finds nothing to do.
    const third = await worker.maintenance.add(JOB_NAMES.sweepStaleGenerations, { olderThanMs: 0 });
    await waitFor(async () => (await third.getState()) === 'completed');
    expect((await worker.maintenance.getJob(third.id!))?.returnvalue).toMatchObject({ checked: 0, enqueued: 0 });

    const counts = await worker.generate.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(1);
    const usage = await tdb.db.selectFrom('usage_events').select('id').where('generation_id', '=', row.id).execute();
    expect(usage).toHaveLength(1);
  });

  it('runs again a row left running by a worker that died with its job', async () => {
    const worker = await startWorker();
    const { user } = await createUser(tdb.db);
    const row = await admit(user.id);
    await tdb.db
      .updateTable('generations')
      .set({ status: 'running', stage: 'processing', progress: 75, attempts: 1 })
      .where('id', '=', row.id)
      .execute();

    const sweep = await worker.maintenance.add(JOB_NAMES.sweepStaleGenerations, { olderThanMs: 0 });
    await waitFor(async () => (await sweep.getState()) === 'completed');
    expect((await worker.maintenance.getJob(sweep.id!))?.returnvalue).toMatchObject({ enqueued: 1 });
    const done = await settled(row.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
  });
});
