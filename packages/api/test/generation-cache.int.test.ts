/**
 * The generation cache on real Postgres, Redis and an S3-protocol server, with the local Suno fake and the real worker
 * job in process: a finished song is offered again to an identical request (normalised prompt, same options, seed,
 * provider and model) of the same user with the saving; accepting answers the existing generation with no provider
 * call (the fake's counters stay put), no hold and no ledger entry; another user is never offered it nor may reuse it.
 */
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
import { startApi, type TestApi } from './helpers/api';
import { codeOf, httpClient, startWorker } from './helpers/generation';

let database: TestDatabase;
let s3server: S3ServerHandle;
let suno: FakeSuno;
let api: TestApi;
let worker: WorkerApp | undefined;
const prefix = uniqueRedisPrefix('gen-cache');

beforeAll(async () => {
  [database, s3server, suno] = await Promise.all([createTestDatabase(), startS3Server(), startFakeSuno()]);
  const sunoEnv = { SUNO_API_KEY: suno.apiKey, SUNO_BASE_URL: suno.url };
  api = await startApi({
    database,
    prefix,
    s3: s3server,
    overrides: { ...sunoEnv, MUSIC_PROVIDER: 'suno', WHITELISTED_IPS: '127.0.0.1' },
  });
  worker = await startWorker({
    database,
    prefix,
    s3: s3server,
    overrides: { ...sunoEnv, SUNO_POLL_INTERVAL_MS: '334' },
  });
});

afterAll(async () => {
  await worker?.close(2_000);
  await api?.close();
  await Promise.all([s3server?.stop(), suno?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

async function ledgerOf(userId: string) {
  const [usage, holds, generations] = await Promise.all([
    database.db.selectFrom('usage_events').select('id').where('user_id', '=', userId).execute(),
    database.db.selectFrom('budget_holds').select('id').where('user_id', '=', userId).execute(),
    database.db.selectFrom('generations').select('id').where('owner_id', '=', userId).execute(),
  ]);
  return { usage: usage.length, holds: holds.length, generations: generations.length };
}

describe('generation cache', () => {
  it('offers an identical request the finished song; accepting calls no provider and charges nothing', async () => {
    const { user, token } = await createUser(database.db, { plan: 'pro' });
    const trpc = httpClient(api.base, token);
    const request = { prompt: 'Lo-fi beat   for late night studying', duration: 30, seed: 4242 } as const;

    // Nothing to offer before the first song exists.
    expect(await trpc.generation.cacheLookup.query(request)).toEqual({ offer: null });

    const { jobId } = await trpc.generation.create.mutate(request);
    await waitFor(
      async () => {
        const view = await trpc.generation.get.query({ id: jobId });
        if (view.status === 'failed') throw new Error(`generation failed: ${view.error}`);
        return view.status === 'succeeded' ? view : undefined;
      },
      { timeoutMs: 60_000, description: 'first generation succeeded' },
    );
    const sunoBefore = { ...suno.counts };
    const ledgerBefore = await ledgerOf(user.id);
    expect(ledgerBefore.usage).toBeGreaterThan(0);

    // The same request, differently cased and spaced: offered, with what it would cost.
    const { offer } = await trpc.generation.cacheLookup.query({
      ...request,
      prompt: '  lo-fi BEAT for late night   studying ',
    });
    expect(offer).toMatchObject({ generationId: jobId, savingMicro: expect.any(Number), saving: expect.any(String) });
    expect(offer!.savingMicro).toBeGreaterThan(0);
    expect(offer!.saving).toMatch(/^\$\d/);
    // No seed named: any seed of the same request matches.
    const { seed: _seed, ...seedless } = request;
    expect((await trpc.generation.cacheLookup.query(seedless)).offer?.generationId).toBe(jobId);

    // A different seed, length or prompt is a different request.
    expect((await trpc.generation.cacheLookup.query({ ...request, seed: 4243 })).offer).toBeNull();
    expect((await trpc.generation.cacheLookup.query({ ...request, duration: 45 })).offer).toBeNull();
    expect(
      (await trpc.generation.cacheLookup.query({ ...request, prompt: 'lo-fi beat for mornings' })).offer,
    ).toBeNull();

    // Accepting: the existing generation answers, finished; no provider call, no hold, no charge, no new row.
    const reused = await trpc.generation.reuse.mutate({ generationId: offer!.generationId });
    expect(reused).toEqual({ jobId, status: 'succeeded', estimatedTime: 0 });
    expect(suno.counts).toEqual(sunoBefore);
    expect(await ledgerOf(user.id)).toEqual(ledgerBefore);
    const view = await trpc.generation.get.query({ id: reused.jobId });
    expect(view.tracks[0]?.mp3Url).toMatch(/^http/);
  });

  it('never crosses users: another user is not offered the song and may not reuse it', async () => {
    const alice = await createUser(database.db, { plan: 'pro' });
    const bob = await createUser(database.db, { plan: 'pro' });
    const request = { prompt: 'private piano sketch', duration: 30, seed: 7 } as const;
    const mine = httpClient(api.base, alice.token);
    const { jobId } = await mine.generation.create.mutate(request);
    await waitFor(
      async () => ((await mine.generation.get.query({ id: jobId })).status === 'succeeded' ? true : undefined),
      { timeoutMs: 60_000, description: 'alice generation succeeded' },
    );
    expect((await mine.generation.cacheLookup.query(request)).offer?.generationId).toBe(jobId);

    const theirs = httpClient(api.base, bob.token);
    expect(await theirs.generation.cacheLookup.query(request)).toEqual({ offer: null });
    expect(await codeOf(theirs.generation.reuse.mutate({ generationId: jobId }))).toBe('NOT_FOUND');
    expect(await ledgerOf(bob.user.id)).toEqual({ usage: 0, holds: 0, generations: 0 });
  });

  it('refuses to reuse a generation that has no audio to offer', async () => {
    const { user, token } = await createUser(database.db);
    const row = await database.db
      .insertInto('generations')
      .values({ owner_id: user.id, prompt: 'not finished yet', provider: 'suno', model: 'V4_5' })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(await codeOf(httpClient(api.base, token).generation.reuse.mutate({ generationId: row.id }))).toBe(
      'CONFLICT',
    );
  });
});
