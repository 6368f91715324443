/**
 * `maintenance.delete-track` and `purge-deleted-tracks` through real workers: deleting is idempotent (objects or a
 * row already gone are fine), never touches a live track, keeps an object another track row still points at, and a
 * job that failed for good (S3 unreachable for all its attempts) is started over by the sweeper until the track is
 * gone.
 */
import { randomUUID } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { softDeleteTrack, type Database } from '@dawg/db';
import { deleteTrackJobId, JOB_NAMES, parseEnv, QUEUE_NAMES, workerEnvSchema } from '@dawg/shared';
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
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerApp, type WorkerApp } from '../src/app';
import { jobs, registryOptions } from '../src/jobs';
import { createQueueConnection } from '../src/redis';
import { createJobRegistry } from '../src/registry';

let tdb: TestDatabase;
let db: Kysely<Database>;
let s3server: S3ServerHandle;
let s3: S3Client;
const apps: WorkerApp[] = [];
const prefix = uniqueRedisPrefix('delete-track');
let queue: Queue;
let events: QueueEvents;
const connections: Redis[] = [];

function connect(): Redis {
  const connection = createQueueConnection(env());
  connections.push(connection);
  return connection;
}

function env(s3Handle?: S3ServerHandle) {
  return parseEnv(
    workerEnvSchema,
    testEnv({ databaseUrl: tdb.url, redisPrefix: prefix, ...(s3Handle ? { s3: s3Handle } : {}) }),
  );
}

async function startApp(s3Handle?: S3ServerHandle): Promise<WorkerApp> {
  const app = createWorkerApp({
    env: env(s3Handle),
    jobs: createJobRegistry(jobs, registryOptions),
    logger: pino({ level: 'silent' }),
  });
  await app.start();
  apps.push(app);
  return app;
}

beforeAll(async () => {
  [tdb, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  db = tdb.db;
  s3 = createS3Client(s3server);
  queue = new Queue(QUEUE_NAMES.maintenance, { connection: connect(), prefix });
  events = new QueueEvents(QUEUE_NAMES.maintenance, { connection: connect(), prefix });
  await events.waitUntilReady();
});

afterAll(async () => {
  for (const app of apps) await app.close(1_000);
  await events?.close();
  await queue?.close();
  for (const connection of connections) connection.disconnect();
  s3?.destroy();
  await flushPrefix(defaultRedisUrl(), prefix);
  await Promise.all([s3server?.stop(), tdb?.drop()]);
});

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: s3server.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function rowExists(id: string): Promise<boolean> {
  return (await db.selectFrom('tracks').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

/** A ready track row; `put` also writes its objects. */
async function track(ownerId: string, opts: { put?: boolean; mp3Key?: string } = {}) {
  const id = randomUUID();
  const keys = {
    mp3: opts.mp3Key ?? `users/${ownerId}/tracks/${id}/audio.mp3`,
    wav: `users/${ownerId}/tracks/${id}/audio.wav`,
    peaks: `users/${ownerId}/tracks/${id}/peaks.json`,
  };
  if (opts.put) {
    for (const key of Object.values(keys)) {
      await s3.send(new PutObjectCommand({ Bucket: s3server.bucket, Key: key, Body: key }));
    }
  }
  await db
    .insertInto('tracks')
    .values({
      id,
      owner_id: ownerId,
      source: 'generated',
      title: 'T',
      mp3_key: keys.mp3,
      wav_key: keys.wav,
      peaks_key: keys.peaks,
      duration_sec: 10,
    })
    .execute();
  return { id, keys };
}

async function runDelete(trackId: string, jobId = `${deleteTrackJobId(trackId)}-${randomUUID()}`): Promise<unknown> {
  const job = await queue.add(JOB_NAMES.deleteTrack, { trackId }, { jobId });
  return job.waitUntilFinished(events, 20_000);
}

describe('maintenance.delete-track', () => {
  it('is idempotent, leaves live tracks alone and keeps objects another track still uses', async () => {
    await startApp(s3server);
    const { user } = await createUser(db);

    // Objects already gone (a previous attempt deleted them) are fine; the row goes.
    const bare = await track(user.id);
    await softDeleteTrack(db, user.id, bare.id);
    expect(await runDelete(bare.id)).toEqual({ trackDeleted: true, objectsDeleted: 3 });
    expect(await rowExists(bare.id)).toBe(false);
    // And once more, with the row gone too.
    expect(await runDelete(bare.id)).toEqual({ trackDeleted: false, objectsDeleted: 0 });

    // A track that is not marked deleted is never touched.
    const live = await track(user.id, { put: true });
    expect(await runDelete(live.id)).toEqual({ trackDeleted: false, objectsDeleted: 0 });
    expect(await rowExists(live.id)).toBe(true);
    for (const key of Object.values(live.keys)) expect(await exists(key), key).toBe(true);

    // Two rows sharing an object: deleting one keeps the shared key.
    const sharing = await track(user.id, { put: true, mp3Key: live.keys.mp3 });
    await softDeleteTrack(db, user.id, sharing.id);
    expect(await runDelete(sharing.id)).toEqual({ trackDeleted: true, objectsDeleted: 2 });
    expect(await exists(live.keys.mp3)).toBe(true);
    expect(await exists(sharing.keys.wav)).toBe(false);
    expect(await exists(sharing.keys.peaks)).toBe(false);
  });

  it('restarts a deletion that failed for good, through the purge sweeper', async () => {
    for (const app of apps.splice(0)) await app.close(1_000);
    const { user } = await createUser(db);
    const doomed = await track(user.id, { put: true });
    await softDeleteTrack(db, user.id, doomed.id);

    // A worker whose S3 endpoint answers nothing: one attempt, failed for good, the track still there.
    const broken = await startApp();
    const jobId = deleteTrackJobId(doomed.id);
    const job = await queue.add(JOB_NAMES.deleteTrack, { trackId: doomed.id }, { jobId, attempts: 1 });
    await expect(job.waitUntilFinished(events, 20_000)).rejects.toThrow();
    expect(await queue.getJobState(jobId)).toBe('failed');
    expect(await rowExists(doomed.id)).toBe(true);
    await broken.close(1_000);
    apps.splice(apps.indexOf(broken), 1);

    await startApp(s3server);
    await queue.add(JOB_NAMES.purgeDeletedTracks, { olderThanMs: 0 });
    await waitFor(
      async () => !(await rowExists(doomed.id)) && !(await exists(doomed.keys.mp3)) && !(await exists(doomed.keys.wav)),
      { timeoutMs: 20_000, description: 'the swept track gone' },
    );
    expect(await queue.getJobState(jobId)).toBe('completed');
  });
});
