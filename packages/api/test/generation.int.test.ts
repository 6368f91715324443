/**
 * Generation end to end on real Postgres, Redis and an S3-protocol server: the seed's REST contract and the tRPC
 * procedures on two api instances, the real worker job in process (test provider). A created generation runs to
 * `succeeded` with its MP3, WAV and peaks in the bucket, provenance on the row and tracks, the ledger entry and the
 * settled hold; a failing render (fault hook) leaves no track, no object and the hold released, with the reason.
 */
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { WorkerApp } from '@dawg/worker';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  startS3Server,
  uniqueRedisPrefix,
  waitFor,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, rest, startApi, type TestApi } from './helpers/api';
import { codeOf, httpClient, startWorker } from './helpers/generation';

let database: TestDatabase;
let s3server: S3ServerHandle;
let s3: S3Client;
let apiA: TestApi;
let apiB: TestApi;
let worker: WorkerApp | undefined;
const prefix = uniqueRedisPrefix('generation');

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  s3 = createS3Client(s3server);
  const opts = { database, prefix, s3: s3server, overrides: { MUSIC_PROVIDER: 'test' } };
  [apiA, apiB] = await Promise.all([startApi(opts), startApi(opts)]);
  worker = await startWorker({ database, prefix, s3: s3server });
});

afterAll(async () => {
  await worker?.close(2_000);
  await Promise.all([apiA?.close(), apiB?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  s3?.destroy();
  await s3server?.stop();
  await database?.drop();
});

async function finished(api: TestApi, token: string, jobId: string) {
  return waitFor(
    async () => {
      const res = await rest(api.base, 'GET', `/api/generate/${jobId}/status`, { headers: bearer(token) });
      return res.body.status === 'completed' || res.body.status === 'failed' ? res : undefined;
    },
    { timeoutMs: 30_000, description: `generation ${jobId} finished` },
  );
}

async function objectsOf(userId: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: s3server.bucket, Prefix: `users/${userId}/` }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}

describe('POST /api/generate and GET /api/generate/:id/status (seed 1.2)', () => {
  it('answers 202 with the job, runs it, and reports completed with a playable presigned MP3', async () => {
    const { user, token } = await createUser(database.db);
    const created = await rest(apiA.base, 'POST', '/api/generate', {
      headers: bearer(token),
      body: { prompt: 'upbeat electronic dance music', duration: 30, genre: 'electronic' },
    });
    expect(created.status).toBe(202);
    expect(created.body).toEqual({ jobId: expect.any(String), status: 'queued', estimatedTime: expect.any(Number) });
    const { jobId } = created.body as { jobId: string };

    // Any instance answers for any job.
    const status = await finished(apiB, token, jobId);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ jobId, status: 'completed', stage: 'done', progress: 100 });
    const audio = await fetch((status.body as { audioUrl: string }).audioUrl);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    expect((await audio.arrayBuffer()).byteLength).toBeGreaterThan(50_000);

    // Objects under the user's prefix, with their content types.
    const keys = await objectsOf(user.id);
    const base = `users/${user.id}/generations/${jobId}/0`;
    expect(keys).toEqual([`${base}.mp3`, `${base}.peaks.json`, `${base}.wav`]);
    for (const [suffix, type, min] of [
      ['mp3', 'audio/mpeg', 50_000],
      ['wav', 'audio/wav', 500_000],
      ['peaks.json', 'application/json', 5_000],
    ] as const) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: s3server.bucket, Key: `${base}.${suffix}` }));
      expect(head.ContentType).toBe(type);
      expect(head.ContentLength).toBeGreaterThan(min);
    }

    // Provenance, ledger and hold.
    const trpc = httpClient(apiB.base, token);
    const view = await trpc.generation.get.query({ id: jobId });
    expect(view).toMatchObject({
      id: jobId,
      status: 'succeeded',
      provider: 'test',
      model: 'test-tone-1',
      prompt: 'upbeat electronic dance music',
      params: { mode: 'simple', genre: 'electronic', durationSec: 30, seed: expect.any(Number), variants: 1 },
      actualCostMicro: 0,
      attempts: 1,
    });
    expect(view.tracks).toHaveLength(1);
    expect(view.tracks[0]).toMatchObject({
      provider: 'test',
      model: 'test-tone-1',
      clipIndex: 0,
      seed: expect.any(Number),
      sampleRate: 44_100,
      channels: 2,
    });
    expect(view.tracks[0]?.wavUrl).toMatch(/^http/);
    const peaks = (await (await fetch(view.tracks[0]!.peaksUrl!)).json()) as { length: number };
    expect(peaks.length).toBeGreaterThanOrEqual(800);
    const ledger = await database.db
      .selectFrom('usage_events')
      .selectAll()
      .where('generation_id', '=', jobId)
      .execute();
    expect(ledger).toHaveLength(1);
    expect(ledger[0]?.idempotency_key).toBe(`generation:${jobId}:music`);
    const hold = await database.db
      .selectFrom('budget_holds')
      .selectAll()
      .where('generation_id', '=', jobId)
      .executeTakeFirstOrThrow();
    expect(hold.status).toBe('settled');
  });

  it('answers the same job to a retried POST with the same Idempotency-Key', async () => {
    const { token } = await createUser(database.db);
    const send = () =>
      rest(apiA.base, 'POST', '/api/generate', {
        headers: { ...bearer(token), 'idempotency-key': 'retry-me-1' },
        body: { prompt: 'ambient drone', duration: 10 },
      });
    const first = await send();
    const second = await send();
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect((second.body as { jobId: string }).jobId).toBe((first.body as { jobId: string }).jobId);
  });

  it('refuses bad input with field details, unauthenticated callers and other users’ jobs', async () => {
    const { token } = await createUser(database.db);
    const bad = await rest(apiA.base, 'POST', '/api/generate', {
      headers: bearer(token),
      body: { prompt: '', duration: 400, genre: 'polka' },
    });
    expect(bad.status).toBe(400);
    const paths = (bad.body as { details: { path: string[] }[] }).details.map((d) => d.path.join('.')).sort();
    expect(paths).toEqual(['duration', 'genre', 'prompt']);

    const anonymous = await rest(apiA.base, 'POST', '/api/generate', { body: { prompt: 'x', duration: 10 } });
    expect(anonymous.status).toBe(401);

    const owner = await createUser(database.db);
    const created = await rest(apiA.base, 'POST', '/api/generate', {
      headers: bearer(owner.token),
      body: { prompt: 'mine', duration: 5 },
    });
    const id = (created.body as { jobId: string }).jobId;
    const peek = await rest(apiB.base, 'GET', `/api/generate/${id}/status`, { headers: bearer(token) });
    expect(peek.status).toBe(404);
    expect(await codeOf(httpClient(apiA.base, token).generation.get.query({ id }))).toBe('NOT_FOUND');
  });
});

describe('generation.* over tRPC', () => {
  it('validates custom mode, enforces the plan’s song length, and pages the owner’s list by cursor', async () => {
    const { token } = await createUser(database.db);
    const trpc = httpClient(apiA.base, token);
    const noLyrics = trpc.generation.create.mutate({ mode: 'custom', title: 'T', style: 'rock', duration: 10 });
    expect(await codeOf(noLyrics)).toBe('BAD_REQUEST');
    const tooLong = await trpc.generation.create.mutate({ prompt: 'epic', duration: 120 }).catch((e: unknown) => e);
    expect(tooLong).toMatchObject({ data: { code: 'PAYMENT_REQUIRED' }, message: expect.stringMatching(/Free plan/) });

    const ids: string[] = [];
    for (const prompt of ['one', 'two', 'three']) {
      const { jobId } = await trpc.generation.create.mutate({
        mode: 'custom',
        title: prompt,
        style: 'lofi hip hop',
        lyrics: 'la la la',
        duration: 5,
        variants: 1,
      });
      ids.push(jobId);
    }
    const page1 = await trpc.generation.list.query({ limit: 2 });
    expect(page1.items.map((g) => g.id)).toEqual([ids[2], ids[1]]);
    expect(page1.nextCursor).toBe(ids[1]);
    const page2 = await trpc.generation.list.query({ limit: 2, cursor: page1.nextCursor! });
    expect(page2.items.map((g) => g.id)).toEqual([ids[0]]);
    expect(page2.nextCursor).toBeNull();
    expect(page1.items[0]).toMatchObject({
      prompt: 'three — lofi hip hop',
      params: { mode: 'custom', lyrics: 'la la la' },
    });
    // Nobody else's rows appear.
    const stranger = httpClient(apiA.base, (await createUser(database.db)).token);
    expect((await stranger.generation.list.query({})).items).toEqual([]);
  });
});

describe('a failing render (GENERATION_FAULT=render)', () => {
  it('fails the row with the reason after the last attempt, leaving no track, no object and the hold released', async () => {
    await worker?.close(2_000);
    worker = await startWorker({ database, prefix, s3: s3server, overrides: { GENERATION_FAULT: 'render' } });
    const { user, token } = await createUser(database.db);
    const { jobId } = await httpClient(apiA.base, token).generation.create.mutate({ prompt: 'doomed', duration: 5 });

    const status = await finished(apiB, token, jobId);
    expect(status.body).toMatchObject({ jobId, status: 'failed', audioUrl: null });
    expect((status.body as { error: string }).error).toMatch(/^Render failed/);
    const row = await database.db
      .selectFrom('generations')
      .selectAll()
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', error_code: 'render_failed', attempts: 3 });
    expect(await database.db.selectFrom('tracks').select('id').where('generation_id', '=', jobId).execute()).toEqual(
      [],
    );
    expect(await objectsOf(user.id)).toEqual([]);
    const hold = await database.db
      .selectFrom('budget_holds')
      .selectAll()
      .where('generation_id', '=', jobId)
      .executeTakeFirstOrThrow();
    expect(hold.status).toBe('released');
  });
});
