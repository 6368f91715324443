/**
 * Demo mode on a real api and worker: `demo.start` gives each visitor an ephemeral account of their own (a session
 * cookie, a sample project whose two local-synth takes sit on two lanes, their audio in S3 under the account's own
 * prefix), and one visitor sees nothing of another's. Demo accounts generate with the local synth only, a few times
 * per address per day (the sample does not count), with a clear 429 when the day's allowance is used. "Keep my work"
 * turns the account into a normal one under sign-up's checks, keeping its projects. The expiry job removes expired
 * demo accounts with their objects and leaves every other account (and its objects) alone, and a second run finds
 * nothing. With demo mode off, starting one is refused saying so.
 */
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { JOB_NAMES, QUEUE_NAMES } from '@dawg/shared';
import type { WorkerApp } from '@dawg/worker';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  DEFAULT_QUEUE_DB,
  defaultRedisUrl,
  flushPrefix,
  startS3Server,
  uniqueRedisPrefix,
  waitFor,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, startApi, trpcMutation, trpcQuery, type TestApi } from './helpers/api';
import { startWorker } from './helpers/generation';
import { insertReadyTrack } from './helpers/studio';

let database: TestDatabase;
let s3server: S3ServerHandle;
let s3: S3Client;
let api: TestApi;
let apiOff: TestApi;
let worker: WorkerApp | undefined;
let connection: Redis;
let queue: Queue;
const prefix = uniqueRedisPrefix('demo');

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  s3 = createS3Client(s3server);
  api = await startApi({
    database,
    prefix,
    s3: s3server,
    overrides: { DEMO_MODE: 'true', DEMO_GENERATIONS_PER_IP: '2', REQUEST_TIMEOUT_MS: '60000' },
  });
  apiOff = await startApi({ database, label: 'demo-off', s3: s3server });
  worker = await startWorker({ database, prefix, s3: s3server });
  connection = new Redis(defaultRedisUrl(), { db: DEFAULT_QUEUE_DB, maxRetriesPerRequest: null });
  queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix });
}, 60_000);

afterAll(async () => {
  await worker?.close(2_000);
  await api?.close();
  await apiOff?.close();
  await queue?.close();
  connection?.disconnect();
  await flushPrefix(defaultRedisUrl(), prefix);
  s3?.destroy();
  await s3server?.stop();
  await database?.drop();
});

interface Visitor {
  userId: string;
  token: string;
  cookie: string;
  projectId: string;
  expiresAt: string;
}

async function startVisitor(): Promise<Visitor> {
  const res = await trpcMutation(api.base, 'demo.start');
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const data = res.body.result.data;
  const cookie = res.headers.get('set-cookie') ?? '';
  return {
    userId: data.user.id,
    token: data.token,
    cookie: cookie.split(';')[0]!,
    projectId: data.projectId,
    expiresAt: data.expiresAt,
  };
}

async function objectsUnder(prefixKey: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: s3server.bucket, Prefix: prefixKey }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: s3server.bucket, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function runExpiryJob(): Promise<{ removed: number; objectsDeleted: number }> {
  const job = await queue.add(JOB_NAMES.purgeExpiredDemoAccounts, {});
  let state = '';
  await waitFor(
    async () => {
      state = await job.getState();
      return state === 'completed' || state === 'failed';
    },
    { timeoutMs: 30_000, description: 'the expiry job to finish' },
  );
  const done = await queue.getJob(job.id!);
  expect(state, done?.failedReason).toBe('completed');
  return done!.returnvalue as { removed: number; objectsDeleted: number };
}

const generate = (token: string, extra: Record<string, unknown> = {}) =>
  trpcMutation(api.base, 'generation.create', { prompt: 'demo lofi beat', duration: 5, ...extra }, bearer(token));

let first: Visitor;
let second: Visitor;

describe('demo mode', () => {
  it('is refused with a clear error when demo mode is off', async () => {
    const status = await trpcQuery(apiOff.base, 'demo.status');
    expect(status.body.result.data.enabled).toBe(false);
    const res = await trpcMutation(apiOff.base, 'demo.start');
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/Demo mode is off/);
    expect(await database.db.selectFrom('users').select('id').where('ephemeral', '=', true).execute()).toEqual([]);

    // A normal account has nothing to keep.
    const normal = await createUser(database.db);
    const keep = await trpcMutation(
      apiOff.base,
      'demo.keep',
      { email: 'keep-normal@example.com', password: 'Kept-Demo-Work-Owl-71' },
      bearer(normal.token),
    );
    expect(keep.status).toBe(409);
    expect(keep.body.error.message).toMatch(/not a demo account/);
  });

  it('gives each visitor an ephemeral account of their own with a playable sample project', async () => {
    first = await startVisitor();
    second = await startVisitor();
    expect(first.userId).not.toBe(second.userId);
    expect(first.cookie).toMatch(/=/);

    const rows = await database.db
      .selectFrom('users')
      .select(['id', 'ephemeral', 'ephemeral_expires_at', 'password_hash'])
      .where('id', 'in', [first.userId, second.userId])
      .execute();
    for (const row of rows) {
      expect(row.ephemeral).toBe(true);
      expect(row.password_hash).toBeNull();
      const hours = (row.ephemeral_expires_at!.getTime() - Date.now()) / 3_600_000;
      expect(hours).toBeGreaterThan(23.9);
      expect(hours).toBeLessThanOrEqual(24);
    }

    // The session cookie alone identifies the visitor, and says it is a demo.
    const me = await trpcQuery(api.base, 'auth.me', undefined, { cookie: first.cookie });
    expect(me.body.result.data.id).toBe(first.userId);
    expect(me.body.result.data.demo.expiresAt).toBe(first.expiresAt);

    for (const visitor of [first, second]) {
      const state = (await trpcQuery(api.base, 'project.get', { id: visitor.projectId }, bearer(visitor.token))).body
        .result.data;
      expect(state.lanes.map((l: { name: string }) => l.name)).toEqual(['Beat', 'Keys']);
      expect(state.clips).toHaveLength(2);
      const tracks = await database.db
        .selectFrom('tracks')
        .select(['id', 'owner_id', 'status', 'provider', 'mp3_key', 'wav_key', 'peaks_key'])
        .where(
          'id',
          'in',
          state.clips.map((c: { trackId: string }) => c.trackId),
        )
        .execute();
      expect(tracks).toHaveLength(2);
      for (const track of tracks) {
        expect(track).toMatchObject({ owner_id: visitor.userId, status: 'ready', provider: 'local' });
        for (const key of [track.mp3_key, track.wav_key, track.peaks_key]) {
          expect(key?.startsWith(`users/${visitor.userId}/`), key ?? 'no key').toBe(true);
          expect(await exists(key!), key!).toBe(true);
        }
      }
    }

    // Neither sees the other's work.
    const list = (await trpcQuery(api.base, 'project.list', undefined, bearer(second.token))).body.result.data;
    expect(list.map((p: { id: string }) => p.id)).toEqual([second.projectId]);
    const peek = await trpcQuery(api.base, 'project.get', { id: first.projectId }, bearer(second.token));
    expect(['NOT_FOUND', 'FORBIDDEN']).toContain(peek.body.error.data.code);
  }, 120_000);

  it('limits demo generations per address, with the local synth only', async () => {
    const suno = await generate(first.token, { provider: 'suno' });
    expect(suno.status).toBe(403);
    expect(suno.body.error.data.details).toEqual([{ path: ['provider'], message: 'only "local" in the demo' }]);

    // Two per address per day here, shared by every demo account of the address; the samples did not count.
    const a = await generate(first.token);
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    const b = await generate(second.token);
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    const rows = await database.db
      .selectFrom('generations')
      .select('provider')
      .where('id', 'in', [a.body.result.data.jobId, b.body.result.data.jobId])
      .execute();
    expect(rows.map((r) => r.provider)).toEqual(['local', 'local']);

    const refused = await generate(first.token);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/2 generations per day from one address/);
    // A refusal takes nothing: still refused, and no row was added.
    expect((await generate(second.token)).status).toBe(429);
    const count = await database.db
      .selectFrom('generations')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner_id', 'in', [first.userId, second.userId])
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(6);

    // Paid features are not part of the demo.
    const key = await trpcMutation(api.base, 'apiKeys.create', { name: 'demo' }, bearer(first.token));
    expect(key.status).toBe(403);
    expect(key.body.error.message).toMatch(/API keys is not part of the demo/);
    const lyrics = await generate(first.token, {
      mode: 'custom',
      style: 'synthwave',
      instrumental: false,
      writeLyrics: true,
    });
    expect(lyrics.status).toBe(403);

    // A normal account is not counted against the address.
    const normal = await createUser(database.db);
    expect((await generate(normal.token, { provider: 'test' })).status).toBe(200);
  });

  it('keeps the work: the account becomes a normal one under sign-up checks, with its projects', async () => {
    const taken = await createUser(database.db);
    const conflict = await trpcMutation(
      api.base,
      'demo.keep',
      { email: taken.user.email.toUpperCase(), password: 'Kept-Demo-Work-Owl-71' },
      bearer(first.token),
    );
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.data.details).toEqual([{ path: ['email'], message: 'already registered' }]);
    const weak = await trpcMutation(
      api.base,
      'demo.keep',
      { email: 'keeper@example.com', password: 'short' },
      bearer(first.token),
    );
    expect(weak.status).toBe(400);
    expect(weak.body.error.data.details.map((d: { path: string[] }) => d.path.join('.'))).toContain('password');

    const kept = await trpcMutation(
      api.base,
      'demo.keep',
      { email: 'Keeper@Example.com', password: 'Kept-Demo-Work-Owl-71', name: 'Keeper' },
      bearer(first.token),
    );
    expect(kept.status, JSON.stringify(kept.body)).toBe(200);
    expect(kept.body.result.data.user).toMatchObject({ id: first.userId, email: 'keeper@example.com', name: 'Keeper' });
    expect(kept.body.result.data.user.demo).toBeUndefined();
    expect(kept.headers.get('set-cookie')).toMatch(/=/);
    const row = await database.db
      .selectFrom('users')
      .select(['ephemeral', 'ephemeral_expires_at', 'ephemeral_ip'])
      .where('id', '=', first.userId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ ephemeral: false, ephemeral_expires_at: null, ephemeral_ip: null });

    // The demo session is replaced; the new one and a password sign-in both reach the same work.
    expect((await trpcQuery(api.base, 'project.list', undefined, bearer(first.token))).status).toBe(401);
    const login = await trpcMutation(api.base, 'auth.login', {
      email: 'keeper@example.com',
      password: 'Kept-Demo-Work-Owl-71',
    });
    expect(login.status).toBe(200);
    const list = (await trpcQuery(api.base, 'project.list', undefined, bearer(login.body.result.data.token))).body
      .result.data;
    expect(list.map((p: { id: string }) => p.id)).toEqual([first.projectId]);

    // Keeping twice: nothing left to keep.
    const again = await trpcMutation(
      api.base,
      'demo.keep',
      { email: 'keeper2@example.com', password: 'Kept-Demo-Work-Owl-71' },
      bearer(kept.body.result.data.token),
    );
    expect(again.status).toBe(409);
  });

  it('removes expired demo accounts with their objects, and nothing else', async () => {
    // Every generation of the file has ended, so no object is still being written.
    await waitFor(
      async () =>
        (
          await database.db
            .selectFrom('generations')
            .select('id')
            .where('status', 'in', ['queued', 'running'])
            .execute()
        ).length === 0,
      { timeoutMs: 60_000, description: 'generations to end' },
    );
    const normal = await createUser(database.db);
    const normalTrack = await insertReadyTrack(database.db, normal.user.id, {
      s3: { client: s3, bucket: s3server.bucket },
    });
    const secondObjects = await objectsUnder(`users/${second.userId}/`);
    const firstObjects = await objectsUnder(`users/${first.userId}/`);
    expect(secondObjects.length).toBeGreaterThan(0);
    expect(firstObjects.length).toBeGreaterThan(0);

    // Not yet expired: the job leaves the demo account alone.
    expect((await runExpiryJob()).removed).toBe(0);
    expect(await objectsUnder(`users/${second.userId}/`)).toEqual(secondObjects);

    await database.db
      .updateTable('users')
      .set({ ephemeral_expires_at: new Date(Date.now() - 1_000) })
      .where('id', '=', second.userId)
      .execute();
    // Expired: its session stops working at once, before the job runs.
    expect((await trpcQuery(api.base, 'auth.me', undefined, bearer(second.token))).body.result.data).toBeNull();

    const result = await runExpiryJob();
    expect(result.removed).toBe(1);
    expect(result.objectsDeleted).toBeGreaterThanOrEqual(secondObjects.length);
    expect(await objectsUnder(`users/${second.userId}/`)).toEqual([]);
    for (const table of ['projects', 'tracks', 'generations'] as const) {
      const rows = await database.db.selectFrom(table).select('id').where('owner_id', '=', second.userId).execute();
      expect(rows, table).toEqual([]);
    }
    expect(await database.db.selectFrom('users').select('id').where('id', '=', second.userId).execute()).toEqual([]);

    // Everyone else keeps their rows and objects: the kept demo account and a normal user.
    expect(await objectsUnder(`users/${first.userId}/`)).toEqual(firstObjects);
    for (const key of Object.values(normalTrack.keys)) expect(await exists(key), key).toBe(true);
    const others = await database.db
      .selectFrom('users')
      .select('id')
      .where('id', 'in', [first.userId, normal.user.id])
      .execute();
    expect(others).toHaveLength(2);

    // Idempotent: a second run finds nothing.
    expect(await runExpiryJob()).toEqual({ removed: 0, objectsDeleted: 0 });
  }, 60_000);
});
