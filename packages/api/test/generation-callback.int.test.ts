/**
 * Suno callbacks: with SUNO_CALLBACK_URL and SUNO_CALLBACK_SECRET the worker gives Suno a URL signed for the
 * generation; the fake Suno POSTs each status change there, the api verifies the signature and wakes the worker's
 * poll loop, which reads the new status at once instead of after its pause (a minute here: without the wake-ups the
 * task could not finish in this test). A callback with a wrong or missing signature is refused and wakes nothing.
 */
import { SUNO_CALLBACK_PATH } from '@dawg/shared';
import type { WorkerApp } from '@dawg/worker';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  startFakeSuno,
  startS3Server,
  uniqueRedisPrefix,
  waitFor,
  type FakeSuno,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, startApi, type TestApi } from './helpers/api';
import { httpClient, startWorker } from './helpers/generation';

const SECRET = 'callback-secret-0123456789abcdef0123456789abcdef';

let database: TestDatabase;
let s3server: S3ServerHandle;
let suno: FakeSuno;
let api: TestApi;
let worker: WorkerApp;
const prefix = uniqueRedisPrefix('suno-callback');

beforeAll(async () => {
  [database, s3server, suno] = await Promise.all([
    createTestDatabase(),
    startS3Server(),
    startFakeSuno({ callbackEveryMs: 300 }),
  ]);
  const sunoEnv = { SUNO_API_KEY: suno.apiKey, SUNO_BASE_URL: suno.url, SUNO_CALLBACK_SECRET: SECRET };
  api = await startApi({
    database,
    prefix,
    s3: s3server,
    overrides: {
      ...sunoEnv,
      MUSIC_PROVIDER: 'suno',
      SUNO_CALLBACK_URL: `http://127.0.0.1${SUNO_CALLBACK_PATH}`,
      WHITELISTED_IPS: '127.0.0.1',
    },
  });
  worker = await startWorker({
    database,
    prefix,
    s3: s3server,
    overrides: { ...sunoEnv, SUNO_POLL_INTERVAL_MS: '60000', SUNO_CALLBACK_URL: `${api.base}${SUNO_CALLBACK_PATH}` },
  });
});

afterAll(async () => {
  await worker?.close(2_000);
  await api?.close();
  await Promise.all([s3server?.stop(), suno?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

describe('Suno callbacks', () => {
  it('wake the polling at each status change, so a task finishes long before the next scheduled poll', async () => {
    const { token } = await createUser(database.db, { plan: 'pro' });
    const { jobId } = await httpClient(api.base, token).generation.create.mutate({
      prompt: 'called back',
      duration: 30,
      instrumental: true,
    });
    await waitFor(
      async () =>
        (await database.db.selectFrom('generations').select('status').where('id', '=', jobId).executeTakeFirst())
          ?.status === 'succeeded',
      { timeoutMs: 30_000, description: 'the generation finished by callbacks' },
    );
    const row = await database.db
      .selectFrom('generations')
      .selectAll()
      .where('id', '=', jobId)
      .executeTakeFirstOrThrow();
    const task = suno.tasks.get(row.provider_task_id!)!;
    const callback = new URL(String(task.body.callBackUrl));
    expect(`${callback.origin}${callback.pathname}`).toBe(`${api.base}${SUNO_CALLBACK_PATH}`);
    expect(callback.searchParams.get('g')).toBe(jobId);
    expect(callback.searchParams.get('sig')).toMatch(/^[0-9a-f]{64}$/);
    expect(suno.counts.callback).toBe(3);
    // One poll right after submitting, then one per callback: the minute-long pause never ran out.
    expect(task.reported).toEqual(['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS']);
  });

  it('refuses a callback with a wrong or missing signature', async () => {
    const g = '7f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b';
    const wrong = await rest(api.base, 'POST', `${SUNO_CALLBACK_PATH}?g=${g}&sig=${'0'.repeat(64)}`, {
      body: { code: 200, data: { callbackType: 'complete', task_id: 'x' } },
    });
    expect(wrong.status).toBe(403);
    const missing = await rest(api.base, 'POST', `${SUNO_CALLBACK_PATH}?g=${g}`, { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.details).toEqual([expect.objectContaining({ path: ['sig'] })]);
  });
});
