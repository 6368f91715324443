/**
 * `maintenance.delete-account` through a real worker: a closed account's S3 objects (under `users/<id>/` and any
 * key its tracks point at) and its rows are gone, audit rows stay with a null user, and another user's data is
 * untouched. A second run of the same job is a no-op success.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createApiKey, json, setUserDisabled } from '@dawg/db';
import { JOB_NAMES, QUEUE_NAMES, parseEnv, workerEnvSchema } from '@dawg/shared';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { Queue, QueueEvents } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerApp, type WorkerApp } from '../src/app';
import { jobs, registryOptions } from '../src/jobs';
import { createQueueConnection } from '../src/redis';
import { createJobRegistry } from '../src/registry';

let tdb: TestDatabase;
let s3server: S3ServerHandle;
let s3: S3Client;
let app: WorkerApp;
const prefix = uniqueRedisPrefix('delete-account');

beforeAll(async () => {
  [tdb, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  s3 = createS3Client(s3server);
  const env = parseEnv(workerEnvSchema, testEnv({ databaseUrl: tdb.url, redisPrefix: prefix, s3: s3server }));
  app = createWorkerApp({ env, jobs: createJobRegistry(jobs, registryOptions), logger: pino({ level: 'silent' }) });
  await app.start();
});

afterAll(async () => {
  await app?.close(1_000);
  s3?.destroy();
  await flushPrefix(defaultRedisUrl(), prefix);
  await Promise.all([s3server?.stop(), tdb?.drop()]);
});

async function put(key: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: s3server.bucket, Key: key, Body: `data of ${key}` }));
}

async function exists(key: string): Promise<boolean> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: s3server.bucket, Key: key }));
    await res.Body?.transformToString();
    return true;
  } catch {
    return false;
  }
}

async function runJob(userId: string, jobId: string): Promise<unknown> {
  const env = parseEnv(workerEnvSchema, testEnv({ redisPrefix: prefix }));
  const connection = createQueueConnection(env);
  const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix });
  const events = new QueueEvents(QUEUE_NAMES.maintenance, { connection: createQueueConnection(env), prefix });
  try {
    await events.waitUntilReady();
    const job = await queue.add(JOB_NAMES.deleteAccount, { userId }, { jobId });
    return await job.waitUntilFinished(events, 20_000);
  } finally {
    await events.close();
    await queue.close();
    connection.disconnect();
  }
}

describe('maintenance.delete-account', () => {
  it('removes the account’s objects and rows, keeps the audit trail and everyone else’s data', async () => {
    const { user } = await createUser(tdb.db);
    const { user: other } = await createUser(tdb.db);
    const db = tdb.db;
    const project = await db
      .insertInto('projects')
      .values({ owner_id: user.id, name: 'Doomed' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const mine = [`users/${user.id}/generations/g1/0.mp3`, `users/${user.id}/uploads/u1.wav`, `legacy/${user.id}.mp3`];
    const theirs = [`users/${other.id}/generations/g2/0.mp3`];
    for (const key of [...mine, ...theirs]) await put(key);
    await db
      .insertInto('tracks')
      .values([
        {
          owner_id: user.id,
          project_id: project.id,
          source: 'uploaded',
          title: 'mine',
          mp3_key: mine[2]!,
          wav_key: mine[1]!,
        },
        { owner_id: other.id, source: 'generated', title: 'theirs', mp3_key: theirs[0]! },
      ])
      .execute();
    await createApiKey(db, user.id, { name: 'k' });
    await db
      .insertInto('audit_logs')
      .values({ user_id: user.id, action: 'auth.delete_account', metadata: json({}) })
      .execute();
    await setUserDisabled(db, user.id, true);

    const result = await runJob(user.id, `delete-account-${user.id}`);
    expect(result).toEqual({ userDeleted: true, objectsDeleted: 3 });

    for (const key of mine) expect(await exists(key), key).toBe(false);
    for (const key of theirs) expect(await exists(key), key).toBe(true);
    for (const table of ['users', 'projects', 'tracks', 'sessions', 'api_keys'] as const) {
      const column = table === 'users' ? 'id' : table === 'projects' || table === 'tracks' ? 'owner_id' : 'user_id';
      const rows = await db.selectFrom(table).select(column).where(column, '=', user.id).execute();
      expect(rows, table).toEqual([]);
    }
    expect(await db.selectFrom('users').select('id').where('id', '=', other.id).execute()).toHaveLength(1);
    expect(await db.selectFrom('tracks').select('id').where('owner_id', '=', other.id).execute()).toHaveLength(1);
    const audit = await db.selectFrom('audit_logs').selectAll().where('action', '=', 'auth.delete_account').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.user_id).toBeNull();

    // Idempotent: the account is gone; running again finds nothing and succeeds.
    expect(await runJob(user.id, `delete-account-${user.id}-again`)).toEqual({ userDeleted: false, objectsDeleted: 0 });
  });
});
