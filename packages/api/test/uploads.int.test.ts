/**
 * Uploads end to end on a real api, worker, Postgres, Redis and S3-protocol server: the browser path (presigned POST
 * straight to the bucket, then `track.completeUpload`) and the REST multipart path (`POST /api/tracks/upload`).
 * Oversize files, non-audio types and a text file renamed `.mp3` are refused and leave nothing in the bucket; a WAV
 * and an MP3 made here with ffmpeg are accepted and analysed (duration within 10 ms, peaks, loudness, playback MP3).
 */
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Database } from '@dawg/db';
import { JOB_NAMES, QUEUE_NAMES, UPLOAD_LIMITS, type Track } from '@dawg/shared';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  DEFAULT_QUEUE_DB,
  startS3Server,
  waitFor,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import type { WorkerApp } from '@dawg/worker';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { makeTone } from './helpers/audio';
import { codeOf, httpClient, startWorker } from './helpers/generation';

let database: TestDatabase;
let db: Kysely<Database>;
let s3server: S3ServerHandle;
let s3: S3Client;
let api: TestApi;
let worker: WorkerApp;

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  db = database.db;
  s3 = createS3Client(s3server);
  api = await startApi({ database, label: 'uploads', s3: s3server, overrides: { WHITELISTED_IPS: '127.0.0.1' } });
  worker = await startWorker({ database, prefix: api.prefix, s3: s3server });
});

afterAll(async () => {
  await worker?.close(1_000);
  await api?.close();
  s3?.destroy();
  await s3server?.stop();
  await database?.drop();
});

async function person() {
  const { user, token } = await createUser(db);
  return { user, token, client: httpClient(api.base, token) };
}

async function objectsOf(userId: string): Promise<string[]> {
  const res = await s3.send(new ListObjectsV2Command({ Bucket: s3server.bucket, Prefix: `users/${userId}/` }));
  return (res.Contents ?? []).map((o) => o.Key!).sort();
}

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: s3server.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

/** The browser's part: the presigned form, then the file, posted straight to the bucket. */
async function postToBucket(post: { url: string; fields: Record<string, string> }, body: Buffer, type: string) {
  const form = new FormData();
  for (const [k, v] of Object.entries(post.fields)) form.append(k, v);
  form.append('file', new Blob([body], { type }), 'upload');
  const res = await fetch(post.url, { method: 'POST', body: form });
  expect(res.status, await res.text()).toBeLessThan(300);
}

async function restUpload(token: string, files: { name: string; type: string; body: Buffer }[]) {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([f.body], { type: f.type }), f.name);
  const res = await fetch(`${api.base}/api/tracks/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as any };
}

async function readyTrack(client: ReturnType<typeof httpClient>, id: string): Promise<Track> {
  return waitFor(
    async () => {
      const track = await client.track.get.query({ id });
      if (track.status === 'failed') throw new Error(`analysis failed`);
      return track.status === 'ready' ? track : undefined;
    },
    { timeoutMs: 30_000, description: `track ${id} ready` },
  );
}

async function expectAnalysed(client: ReturnType<typeof httpClient>, id: string, seconds: number) {
  const track = await readyTrack(client, id);
  expect(Math.abs(track.durationSec! - seconds)).toBeLessThanOrEqual(0.01);
  const peaks = (await (await fetch(track.peaksUrl!)).json()) as { data: number[][]; length: number };
  expect(peaks.length).toBeGreaterThan(0);
  expect(Math.max(...peaks.data[0]!)).toBeGreaterThan(0.3);
  const urls = await client.track.urls.query({ id });
  const mp3 = Buffer.from(await (await fetch(urls.mp3Url!)).arrayBuffer());
  expect(mp3.byteLength).toBeGreaterThan(1000);
  const row = await db.selectFrom('tracks').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  expect(row.loudness_lufs).not.toBeNull();
  return track;
}

describe('uploads through a presigned POST', () => {
  it('accepts a WAV made with ffmpeg and analyses it (duration within 10 ms, peaks, loudness, MP3)', async () => {
    const me = await person();
    const wav = await makeTone({ seconds: 1.5, format: 'wav', sampleRate: 48_000 });
    const post = await me.client.track.createUpload.mutate({
      fileName: 'tone.wav',
      contentType: 'audio/wav',
      sizeBytes: wav.byteLength,
    });
    expect(post.fields.key).toBe(`users/${me.user.id}/uploads/${post.trackId}/original.wav`);
    await postToBucket(post, wav, 'audio/wav');
    const completed = await me.client.track.completeUpload.mutate({ trackId: post.trackId });
    expect(completed.status).toBe('processing');
    const track = await expectAnalysed(me.client, post.trackId, 1.5);
    expect(track.source).toBe('uploaded');
    expect(track.title).toBe('tone');
    // It is in the library and can be placed on a lane.
    const list = await me.client.track.list.query({ source: 'uploaded' });
    expect(list.items.map((t) => t.id)).toContain(post.trackId);
    const project = await me.client.project.create.mutate({ name: 'With upload' });
    const laneId = crypto.randomUUID();
    const placed = await me.client.arrangement.applyOps.mutate({
      projectId: project.project.id,
      expectedVersion: project.project.version,
      ops: [
        { type: 'addLane', lane: { id: laneId, name: 'Upload' } },
        { type: 'addClip', clip: { laneId, trackId: post.trackId, startSec: 0 } },
      ],
    });
    expect(placed.clips[0]!.lengthSec).toBeCloseTo(1.5, 2);
  });

  it('refuses oversize and non-audio declarations before signing anything', async () => {
    const me = await person();
    const tooBig = await codeOf(
      me.client.track.createUpload.mutate({
        fileName: 'big.wav',
        contentType: 'audio/wav',
        sizeBytes: UPLOAD_LIMITS.MAX_BYTES + 1,
      }),
    );
    expect(tooBig).toBe('BAD_REQUEST');
    const text = await codeOf(
      me.client.track.createUpload.mutate({ fileName: 'notes.txt', contentType: 'text/plain' as never, sizeBytes: 10 }),
    );
    expect(text).toBe('BAD_REQUEST');
    expect(await db.selectFrom('tracks').select('id').where('owner_id', '=', me.user.id).execute()).toEqual([]);
  });

  it('deletes what the policy should have stopped: an oversize object, and a text file renamed .mp3', async () => {
    const me = await person();
    // The test bucket does not enforce POST policies, so these reach it; completeUpload re-checks and deletes them.
    const textPost = await me.client.track.createUpload.mutate({
      fileName: 'notes.mp3',
      contentType: 'audio/mpeg',
      sizeBytes: 64,
    });
    await postToBucket(textPost, Buffer.from('these are my lyrics, not an mp3 file at all\n'), 'audio/mpeg');
    expect(await exists(textPost.fields.key!)).toBe(true);
    const refused = await codeOf(me.client.track.completeUpload.mutate({ trackId: textPost.trackId }));
    expect(refused).toBe('BAD_REQUEST');
    expect(await exists(textPost.fields.key!)).toBe(false);
    const failed = await db
      .selectFrom('tracks')
      .selectAll()
      .where('id', '=', textPost.trackId)
      .executeTakeFirstOrThrow();
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/not audio/);

    const bigPost = await me.client.track.createUpload.mutate({
      fileName: 'big.wav',
      contentType: 'audio/wav',
      sizeBytes: 1000,
    });
    const big = Buffer.alloc(UPLOAD_LIMITS.MAX_BYTES + 1);
    big.write('RIFF', 0, 'ascii');
    big.write('WAVE', 8, 'ascii');
    await postToBucket(bigPost, big, 'audio/wav');
    expect(await codeOf(me.client.track.completeUpload.mutate({ trackId: bigPost.trackId }))).toBe('PAYLOAD_TOO_LARGE');
    expect(await objectsOf(me.user.id)).toEqual([]);
  });

  it('fails and deletes a file that looks like audio but does not decode (the analyze job decides)', async () => {
    const me = await person();
    const post = await me.client.track.createUpload.mutate({
      fileName: 'fake.mp3',
      contentType: 'audio/mpeg',
      sizeBytes: 2000,
    });
    // An ID3 header followed by noise: the signature check passes, ffmpeg finds no audio.
    const fake = Buffer.concat([Buffer.from('ID3'), Buffer.alloc(2000, 0x41)]);
    await postToBucket(post, fake, 'audio/mpeg');
    await me.client.track.completeUpload.mutate({ trackId: post.trackId });
    const row = await waitFor(
      async () => {
        const r = await db.selectFrom('tracks').selectAll().where('id', '=', post.trackId).executeTakeFirstOrThrow();
        return r.status === 'failed' ? r : undefined;
      },
      { timeoutMs: 30_000, description: 'analysis refused the file' },
    );
    expect(row.error).toBeTruthy();
    expect(await objectsOf(me.user.id)).toEqual([]);
  });

  it('an upload never completed is failed by the sweeper and its object deleted', async () => {
    const me = await person();
    const post = await me.client.track.createUpload.mutate({
      fileName: 'left.wav',
      contentType: 'audio/wav',
      sizeBytes: 9,
    });
    await postToBucket(post, await makeTone({ seconds: 0.2 }), 'audio/wav');
    expect(await exists(post.fields.key!)).toBe(true);
    const connection = new Redis(defaultRedisUrl(), { db: DEFAULT_QUEUE_DB, maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix: api.prefix });
    const events = new QueueEvents(QUEUE_NAMES.maintenance, { connection: connection.duplicate(), prefix: api.prefix });
    try {
      await events.waitUntilReady();
      const job = await queue.add(JOB_NAMES.purgeStaleUploads, { olderThanMs: 0 });
      expect(await job.waitUntilFinished(events, 20_000)).toMatchObject({ failed: 1 });
    } finally {
      await events.close();
      await queue.close();
      connection.disconnect();
    }
    const row = await db.selectFrom('tracks').selectAll().where('id', '=', post.trackId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', error: 'The upload was never completed', original_key: null });
    expect(await objectsOf(me.user.id)).toEqual([]);
  });

  it('hands out at most 20 open uploads per user', async () => {
    const me = await person();
    for (let i = 0; i < UPLOAD_LIMITS.MAX_OPEN; i++) {
      await me.client.track.createUpload.mutate({ fileName: `f${i}.wav`, contentType: 'audio/wav', sizeBytes: 9 });
    }
    expect(
      await codeOf(
        me.client.track.createUpload.mutate({ fileName: 'one-more.wav', contentType: 'audio/wav', sizeBytes: 9 }),
      ),
    ).toBe('TOO_MANY_REQUESTS');
  });

  it('another user cannot complete my upload', async () => {
    const me = await person();
    const other = await person();
    const post = await me.client.track.createUpload.mutate({
      fileName: 'a.wav',
      contentType: 'audio/wav',
      sizeBytes: 9,
    });
    expect(await codeOf(other.client.track.completeUpload.mutate({ trackId: post.trackId }))).toBe('NOT_FOUND');
    await s3.send(new DeleteObjectCommand({ Bucket: s3server.bucket, Key: post.fields.key! })).catch(() => undefined);
  });
});

describe('POST /api/tracks/upload (multipart)', () => {
  it('accepts an MP3 made with ffmpeg (the seed smoke test) and analyses it', async () => {
    const me = await person();
    const mp3 = await makeTone({ seconds: 2, format: 'mp3', sampleRate: 44_100 });
    const res = await restUpload(me.token, [{ name: 'test-audio.mp3', type: 'audio/mpeg', body: mp3 }]);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.success).toBe(true);
    expect(res.body.tracks).toHaveLength(1);
    const id = res.body.tracks[0].id as string;
    await expectAnalysed(me.client, id, 2);
  });

  it('refuses a wrong type, a text file renamed .mp3 and an oversize file, leaving nothing in the bucket', async () => {
    const me = await person();
    const text = Buffer.from('hello, this is plain text\n'.repeat(10));
    const wrongType = await restUpload(me.token, [{ name: 'notes.txt', type: 'text/plain', body: text }]);
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.details[0].path).toEqual(['file']);

    const renamed = await restUpload(me.token, [{ name: 'song.mp3', type: 'audio/mpeg', body: text }]);
    expect(renamed.status).toBe(400);
    expect(renamed.body.details[0].message).toMatch(/not audio/);

    const big = Buffer.alloc(UPLOAD_LIMITS.MAX_BYTES + 1024);
    big.write('RIFF', 0, 'ascii');
    big.write('WAVE', 8, 'ascii');
    const oversize = await restUpload(me.token, [{ name: 'big.wav', type: 'audio/wav', body: big }]);
    expect(oversize.status).toBe(413);

    // All or nothing: a good file followed by a bad one leaves neither.
    const wav = await makeTone({ seconds: 0.5 });
    const mixed = await restUpload(me.token, [
      { name: 'good.wav', type: 'audio/wav', body: wav },
      { name: 'bad.mp3', type: 'audio/mpeg', body: text },
    ]);
    expect(mixed.status).toBe(400);

    expect(await objectsOf(me.user.id)).toEqual([]);
    expect(await db.selectFrom('tracks').select('id').where('owner_id', '=', me.user.id).execute()).toEqual([]);
  });

  it('takes at most five files and needs a signed-in caller', async () => {
    const me = await person();
    const wav = await makeTone({ seconds: 0.2 });
    const six = Array.from({ length: 6 }, (_, i) => ({ name: `t${i}.wav`, type: 'audio/wav', body: wav }));
    const res = await restUpload(me.token, six);
    expect(res.status).toBe(413);
    expect(await objectsOf(me.user.id)).toEqual([]);

    const anonymous = await fetch(`${api.base}/api/tracks/upload`, { method: 'POST', body: new FormData() });
    expect(anonymous.status).toBe(401);
  });
});
