/**
 * The generate job's two statements on a real Postgres: the claim (read + start of a run, stall counted on a
 * takeover, first stage from the params) and the one-statement success (row, tracks, ledger, settled hold — all or
 * nothing, only for the current uncanceled attempt, exactly once under concurrent and repeated commits).
 */
import { STAGE_PROGRESS } from '@dawg/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimGenerationAttempt,
  commitGenerationSuccess,
  createDb,
  createHold,
  createUser,
  generationUsageKey,
  insertGeneration,
  type Db,
  type GeneratedTrackInput,
  type GenerationSuccess,
  type UsageInput,
} from '../src/index';
import { createFreshDatabase } from './fresh-database';
import { migrateToLatest } from '../src/migrate';

let db: Db;
let drop: () => Promise<void>;
let n = 0;

beforeAll(async () => {
  const fresh = await createFreshDatabase('generation-commit');
  drop = fresh.drop;
  db = createDb({ connectionString: fresh.url, max: 4 });
  await migrateToLatest(db);
});

afterAll(async () => {
  await db?.destroy();
  await drop?.();
});

async function admit(params: Record<string, unknown> = { mode: 'simple', prompt: 'p', variants: 2 }) {
  const user = await createUser(db, { email: `gen-commit-${++n}@example.com` });
  const row = await insertGeneration(db, {
    ownerId: user.id,
    projectId: null,
    kind: 'song',
    prompt: 'p',
    params: { instrumental: true, durationSec: 5, seed: 1, ...params },
    provider: 'test',
    model: 'test-tone-1',
    estimatedCostMicro: 1000,
    idempotencyKey: null,
  });
  await createHold(db, {
    userId: user.id,
    kind: 'music',
    amountMicro: 1000,
    generationId: row.id,
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  return { userId: user.id, id: row.id };
}

function success(userId: string, id: string, attempt: number, lyrics = false): GenerationSuccess {
  const track = (clipIndex: number): GeneratedTrackInput => ({
    ownerId: userId,
    projectId: null,
    generationId: id,
    clipIndex,
    title: `take ${clipIndex + 1}`,
    mp3Key: `users/${userId}/generations/${id}/${clipIndex}.mp3`,
    wavKey: `users/${userId}/generations/${id}/${clipIndex}.wav`,
    peaksKey: `users/${userId}/generations/${id}/${clipIndex}.peaks.json`,
    sizeBytes: 1234,
    durationSec: 5.5,
    loudnessLufs: -14.1,
    bpm: 120,
    musicalKey: 'C major',
    sampleRate: 44_100,
    channels: 2,
    provider: 'test',
    model: 'test-tone-1',
    prompt: 'p',
    lyrics: null,
    params: { take: clipIndex, nested: { ok: true } },
    seed: 2 ** 40 + clipIndex,
  });
  const usage: UsageInput[] = [
    {
      userId,
      provider: 'test',
      model: 'test-tone-1',
      kind: 'music',
      units: { unit: 'clips', clips: 2 },
      costMicro: 700,
      generationId: id,
      idempotencyKey: generationUsageKey(id, 'music'),
    },
  ];
  if (lyrics) {
    usage.push({
      userId,
      provider: 'openai',
      model: 'gpt-test',
      kind: 'lyrics',
      units: { unit: 'tokens', inputTokens: 10, cachedInputTokens: 0, outputTokens: 20 },
      costMicro: 5,
      generationId: id,
      idempotencyKey: generationUsageKey(id, 'lyrics'),
    });
  }
  // Clip order in the input is not clip order: the ids come back sorted by clip.
  return { attempt, tracks: [track(1), track(0)], usage, actualCostMicro: lyrics ? 705 : 700, durationMs: 42 };
}

async function written(id: string) {
  const [row, tracks, usage, hold] = await Promise.all([
    db.selectFrom('generations').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
    db.selectFrom('tracks').selectAll().where('generation_id', '=', id).orderBy('clip_index').execute(),
    db.selectFrom('usage_events').selectAll().where('generation_id', '=', id).orderBy('kind').execute(),
    db.selectFrom('budget_holds').selectAll().where('generation_id', '=', id).executeTakeFirstOrThrow(),
  ]);
  return { row, tracks, usage, hold };
}

describe('claimGenerationAttempt', () => {
  it('starts a run on a queued row, counts a stall on a takeover and refuses a finished or missing row', async () => {
    const { id } = await admit();
    const first = await claimGenerationAttempt(db, id);
    expect(first).toMatchObject({
      outcome: 'claimed',
      row: { id, status: 'running', stage: 'generating', progress: STAGE_PROGRESS.generating, attempts: 1, stalls: 0 },
    });
    // Still running: its attempt was lost; the takeover is the next attempt and a stall.
    const second = await claimGenerationAttempt(db, id);
    expect(second).toMatchObject({ outcome: 'claimed', row: { attempts: 2, stalls: 1 } });
    await db
      .updateTable('generations')
      .set({ status: 'failed', error: 'x', error_code: 'x', completed_at: new Date() })
      .where('id', '=', id)
      .execute();
    expect(await claimGenerationAttempt(db, id)).toEqual({ outcome: 'not_runnable', status: 'failed' });
    expect(await claimGenerationAttempt(db, '00000000-0000-4000-8000-000000000000')).toEqual({ outcome: 'missing' });
  });

  it('starts at writing_lyrics exactly when a custom request asks for lyrics it does not have', async () => {
    const cases = [
      [{ mode: 'custom', style: 's', writeLyrics: true, variants: 1 }, 'writing_lyrics'],
      [{ mode: 'custom', style: 's', writeLyrics: true, lyrics: '', variants: 1 }, 'writing_lyrics'],
      [{ mode: 'custom', style: 's', writeLyrics: true, lyrics: 'la la', variants: 1 }, 'generating'],
      [{ mode: 'custom', style: 's', writeLyrics: false, variants: 1 }, 'generating'],
      [{ mode: 'simple', prompt: 'p', writeLyrics: true, variants: 1 }, 'generating'],
    ] as const;
    for (const [params, stage] of cases) {
      const { id } = await admit(params);
      const claim = await claimGenerationAttempt(db, id);
      expect(claim, JSON.stringify(params)).toMatchObject({
        outcome: 'claimed',
        row: { stage, progress: STAGE_PROGRESS[stage] },
      });
    }
  });
});

describe('commitGenerationSuccess', () => {
  it('writes the row, the tracks in clip order, the ledger and the settled hold in one go', async () => {
    const { userId, id } = await admit();
    await claimGenerationAttempt(db, id);
    const result = await commitGenerationSuccess(db, id, success(userId, id, 1, true));
    expect(result.outcome).toBe('committed');
    const { row, tracks, usage, hold } = await written(id);
    expect(result).toEqual({ outcome: 'committed', trackIds: tracks.map((t) => t.id) });
    expect(row).toMatchObject({
      status: 'succeeded',
      stage: 'done',
      progress: 100,
      actual_cost_micro: 705,
      duration_ms: 42,
      error: null,
    });
    expect(row.completed_at).toBeInstanceOf(Date);
    expect(tracks.map((t) => [t.clip_index, t.title, t.status, t.source])).toEqual([
      [0, 'take 1', 'ready', 'generated'],
      [1, 'take 2', 'ready', 'generated'],
    ]);
    expect(tracks[0]).toMatchObject({
      owner_id: userId,
      duration_sec: 5.5,
      loudness_lufs: -14.1,
      musical_key: 'C major',
      sample_rate: 44_100,
      params: { take: 0, nested: { ok: true } },
      content_type: 'audio/mpeg',
    });
    expect(Number(tracks[1]!.seed)).toBe(2 ** 40 + 1);
    expect(usage.map((u) => [u.kind, Number(u.cost_micro), u.idempotency_key])).toEqual([
      ['lyrics', 5, generationUsageKey(id, 'lyrics')],
      ['music', 700, generationUsageKey(id, 'music')],
    ]);
    expect(usage[1]!.units).toEqual({ unit: 'clips', clips: 2 });
    expect(hold.status).toBe('settled');
    expect(hold.resolved_at).toBeInstanceOf(Date);

    // The same commit again (a retried job whose first commit landed): nothing more is written.
    expect(await commitGenerationSuccess(db, id, success(userId, id, 1, true))).toEqual({ outcome: 'stale' });
    const again = await written(id);
    expect(again.tracks).toHaveLength(2);
    expect(again.usage).toHaveLength(2);
  });

  it('writes nothing for an attempt that was taken over, and commits the newer one once', async () => {
    const { userId, id } = await admit();
    await claimGenerationAttempt(db, id);
    await claimGenerationAttempt(db, id);
    expect(await commitGenerationSuccess(db, id, success(userId, id, 1))).toEqual({ outcome: 'stale' });
    let state = await written(id);
    expect(state.row.status).toBe('running');
    expect(state.tracks).toEqual([]);
    expect(state.usage).toEqual([]);
    expect(state.hold.status).toBe('active');
    expect((await commitGenerationSuccess(db, id, success(userId, id, 2))).outcome).toBe('committed');
    state = await written(id);
    expect(state.tracks).toHaveLength(2);
    expect(state.usage).toHaveLength(1);
    expect(state.hold.status).toBe('settled');
  });

  it('says canceled and writes nothing when a cancel was requested before the result landed', async () => {
    const { userId, id } = await admit();
    await claimGenerationAttempt(db, id);
    await db.updateTable('generations').set({ cancel_requested_at: new Date() }).where('id', '=', id).execute();
    expect(await commitGenerationSuccess(db, id, success(userId, id, 1))).toEqual({ outcome: 'canceled' });
    const state = await written(id);
    expect(state.row.status).toBe('running');
    expect(state.tracks).toEqual([]);
    expect(state.usage).toEqual([]);
    expect(state.hold.status).toBe('active');
  });

  it('commits exactly once when the same attempt commits concurrently, or a cancel holds the row lock', async () => {
    const { userId, id } = await admit();
    await claimGenerationAttempt(db, id);
    const results = await Promise.all(
      Array.from({ length: 4 }, () => commitGenerationSuccess(db, id, success(userId, id, 1))),
    );
    expect(results.filter((r) => r.outcome === 'committed')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'stale')).toHaveLength(3);
    const state = await written(id);
    expect(state.tracks).toHaveLength(2);
    expect(state.usage).toHaveLength(1);

    // A cancel that holds the row lock when the commit arrives wins: the commit waits, then finds it canceled.
    const other = await admit();
    await claimGenerationAttempt(db, other.id);
    let commit: Promise<unknown> | undefined;
    await db.transaction().execute(async (trx) => {
      await trx.selectFrom('generations').select('id').where('id', '=', other.id).forUpdate().execute();
      commit = commitGenerationSuccess(db, other.id, success(other.userId, other.id, 1));
      await new Promise((r) => setTimeout(r, 200));
      await trx
        .updateTable('generations')
        .set({ cancel_requested_at: new Date() })
        .where('id', '=', other.id)
        .execute();
    });
    expect(await commit).toEqual({ outcome: 'canceled' });
    expect((await written(other.id)).tracks).toEqual([]);
  });
});
