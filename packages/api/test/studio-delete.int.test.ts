/**
 * Track deletion end to end: `track.delete` on the api hides the track and its clips at once, and the real
 * `maintenance.delete-track` job in a worker removes the S3 objects and then the row. The worker reaches S3 through
 * a fault proxy that is cut midway (after the first object went): the attempt fails, BullMQ retries with backoff
 * while the cut lasts, and once the network is restored the retries finish the job — rows and objects both gone.
 * And the safety net: a track left soft-deleted with no job (its enqueue was lost) is finished by the
 * `purge-deleted-tracks` sweeper.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { softDeleteTrack } from '@dawg/db';
import { deleteTrackJobId, JOB_NAMES, QUEUE_NAMES } from '@dawg/shared';
import type { WorkerApp } from '@dawg/worker';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  DEFAULT_QUEUE_DB,
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
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { httpClient, startWorker } from './helpers/generation';
import { insertReadyTrack, type ReadyTrack } from './helpers/studio';

let database: TestDatabase;
let s3server: S3ServerHandle;
let s3: S3Client;
let proxy: FaultProxy;
let api: TestApi;
let worker: WorkerApp | undefined;
let connection: Redis;
let queue: Queue;
const prefix = uniqueRedisPrefix('studio-delete');

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  s3 = createS3Client(s3server);
  const { hostname, port } = new URL(s3server.endpoint);
  proxy = await startFaultProxy({ host: hostname, port: Number(port) });
  api = await startApi({ database, prefix, s3: s3server });
  worker = await startWorker({ database, prefix, s3: { ...s3server, endpoint: proxy.url(s3server.endpoint) } });
  connection = new Redis(defaultRedisUrl(), { db: DEFAULT_QUEUE_DB, maxRetriesPerRequest: null });
  queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix });
});

afterAll(async () => {
  await worker?.close(2_000);
  await api?.close();
  await queue?.close();
  connection?.disconnect();
  await proxy?.close();
  await flushPrefix(defaultRedisUrl(), prefix);
  s3?.destroy();
  await s3server?.stop();
  await database?.drop();
});

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: s3server.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function rowExists(trackId: string): Promise<boolean> {
  return (
    (await database.db.selectFrom('tracks').select('id').where('id', '=', trackId).executeTakeFirst()) !== undefined
  );
}

async function allGone(track: ReadyTrack): Promise<boolean> {
  if (await rowExists(track.id)) return false;
  for (const key of Object.values(track.keys)) if (await exists(key)) return false;
  return true;
}

describe('track deletion', () => {
  it('is retried with backoff while S3 is cut midway, until the row and the objects are both gone', async () => {
    const { user, token } = await createUser(database.db);
    const client = httpClient(api.base, token);
    const track = await insertReadyTrack(database.db, user.id, { s3: { client: s3, bucket: s3server.bucket } });
    const { project } = await client.project.create.mutate({ name: 'Doomed clip' });
    await client.arrangement.applyOps.mutate({
      projectId: project.id,
      expectedVersion: 1,
      ops: [
        { type: 'addLane', lane: { id: '6a0c9a4e-3f1b-4b8e-9d55-0c7f2a1b3c4d', name: 'Lane' } },
        { type: 'addClip', clip: { laneId: '6a0c9a4e-3f1b-4b8e-9d55-0c7f2a1b3c4d', trackId: track.id, startSec: 1 } },
      ],
    });
    for (const key of Object.values(track.keys)) expect(await exists(key), key).toBe(true);

    // Slow S3 down so the job is caught between objects: the first is deleted, the next requests are in flight.
    proxy.setDelay(400);
    await client.track.delete.mutate({ id: track.id });
    expect((await client.track.list.query({})).items).toEqual([]);
    expect((await client.project.get.query({ id: project.id })).clips).toEqual([]);

    await waitFor(async () => !(await exists(track.keys.mp3)), {
      timeoutMs: 15_000,
      description: 'first object deleted',
    });
    proxy.cut();
    const jobId = deleteTrackJobId(track.id);
    // Two failed attempts: the first cut midway, the second after a backoff delay, S3 still unreachable.
    const failing = await waitFor(
      async () => {
        const job = await queue.getJob(jobId);
        return job && job.attemptsMade >= 2 ? job : undefined;
      },
      { timeoutMs: 20_000, description: 'two failed attempts' },
    );
    expect(failing.failedReason).toBeTruthy();
    expect(await queue.getJobState(jobId)).toMatch(/delayed|waiting|active/);
    expect(await rowExists(track.id)).toBe(true);
    expect(await exists(track.keys.peaks)).toBe(true);

    proxy.setDelay(0);
    proxy.restore();
    await waitFor(() => allGone(track), { timeoutMs: 30_000, description: 'track row and objects gone' });
    expect(await queue.getJobState(jobId)).toBe('completed');
    const done = await queue.getJob(jobId);
    expect(done?.returnvalue).toEqual({ trackDeleted: true, objectsDeleted: 3 });
  });

  it('finishes a deletion whose job was never enqueued, through the purge sweeper', async () => {
    const { user } = await createUser(database.db);
    const track = await insertReadyTrack(database.db, user.id, { s3: { client: s3, bucket: s3server.bucket } });
    const untouched = await insertReadyTrack(database.db, user.id, { s3: { client: s3, bucket: s3server.bucket } });
    // As if the api crashed (or Redis was away) right after hiding the track.
    await softDeleteTrack(database.db, user.id, track.id);
    await database.db
      .updateTable('tracks')
      .set({ deleted_at: new Date(Date.now() - 60 * 60_000) })
      .where('id', '=', track.id)
      .execute();
    expect(await queue.getJobState(deleteTrackJobId(track.id))).toBe('unknown');

    await queue.add(JOB_NAMES.purgeDeletedTracks, { olderThanMs: 30 * 60_000 });
    await waitFor(() => allGone(track), { timeoutMs: 20_000, description: 'swept track gone' });
    expect(await rowExists(untouched.id)).toBe(true);
    for (const key of Object.values(untouched.keys)) expect(await exists(key), key).toBe(true);
  });
});
