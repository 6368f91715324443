/**
 * Admission under concurrency: one user fires 20 `generation.create` calls at once through two api instances (same
 * database and Redis, separate HTTP connections). The user's row lock serialises admissions, so exactly as many are
 * accepted as the plan's monthly quota (or the AI budget) still allows, each holding the estimated cost; the others
 * get PAYMENT_REQUIRED naming the quota (or the budget). No worker runs here: accepted jobs stay queued.
 */
import { insertGeneration } from '@dawg/db';
import { DEFAULT_MUSIC_MODELS, estimateMusicCost, getPlan } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  uniqueRedisPrefix,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { httpClient } from './helpers/generation';

let database: TestDatabase;
let apiA: TestApi;
let apiB: TestApi;
const prefix = uniqueRedisPrefix('admission');
// Suno is configured, so generations cost money and hold it (the local synth is free).
const ESTIMATE = estimateMusicCost({ provider: 'suno', model: DEFAULT_MUSIC_MODELS.suno, durationSec: 30 });

beforeAll(async () => {
  database = await createTestDatabase();
  const opts = { database, prefix, overrides: { SUNO_API_KEY: 'sk-suno-test' } };
  [apiA, apiB] = await Promise.all([startApi(opts), startApi(opts)]);
});

afterAll(async () => {
  await Promise.all([apiA?.close(), apiB?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

/** 20 creates at once, alternating instances; each settles to its result or its error. */
async function stampede(token: string) {
  const clients = [httpClient(apiA.base, token), httpClient(apiB.base, token)];
  return Promise.allSettled(
    Array.from({ length: 20 }, (_, i) =>
      clients[i % 2]!.generation.create.mutate({ prompt: `take ${i}`, duration: 30, genre: 'house' }),
    ),
  );
}

function errorsOf(results: PromiseSettledResult<unknown>[]) {
  return results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as { message: string; data?: { code?: string } });
}

async function holdsOf(userId: string) {
  return database.db.selectFrom('budget_holds').selectAll().where('user_id', '=', userId).execute();
}

describe('concurrent admission', () => {
  it('accepts exactly the quota that is left, holding 5 × the estimate, and refuses the rest naming the quota', async () => {
    expect(ESTIMATE).toBeGreaterThan(0);
    const { user, token } = await createUser(database.db);
    const plan = getPlan('free');
    // Used this month: all but 5 of the plan's generations.
    for (let i = 0; i < plan.generationsPerMonth - 5; i++) {
      const row = await insertGeneration(database.db, {
        ownerId: user.id,
        projectId: null,
        kind: 'song',
        prompt: `earlier ${i}`,
        params: {},
        provider: 'suno',
        model: 'V4_5',
        estimatedCostMicro: 0,
        idempotencyKey: null,
      });
      await database.db
        .updateTable('generations')
        .set({ status: 'succeeded', stage: 'done', progress: 100 })
        .where('id', '=', row.id)
        .execute();
    }

    const results = await stampede(token);
    const accepted = results.filter((r) => r.status === 'fulfilled');
    expect(accepted).toHaveLength(5);
    const errors = errorsOf(results);
    expect(errors).toHaveLength(15);
    for (const err of errors) {
      expect(err.data?.code).toBe('PAYMENT_REQUIRED');
      expect(err.message).toMatch(/Monthly generation quota reached: your Free plan includes 10 generations/);
    }

    const holds = await holdsOf(user.id);
    expect(holds).toHaveLength(5);
    expect(holds.every((h) => h.status === 'active' && h.amount_micro === ESTIMATE)).toBe(true);
    expect(holds.reduce((sum, h) => sum + h.amount_micro, 0)).toBe(5 * ESTIMATE);
    const queued = await database.db
      .selectFrom('generations')
      .select(['id', 'provider', 'estimated_cost_micro'])
      .where('owner_id', '=', user.id)
      .where('status', '=', 'queued')
      .execute();
    expect(queued).toHaveLength(5);
    expect(queued.every((g) => g.provider === 'suno' && g.estimated_cost_micro === ESTIMATE)).toBe(true);
    expect(new Set(accepted.map((r) => (r as PromiseFulfilledResult<{ jobId: string }>).value.jobId))).toEqual(
      new Set(queued.map((g) => g.id)),
    );
  });

  it('accepts only what the AI budget can hold when the budget binds first', async () => {
    const { user, token } = await createUser(database.db);
    await database.db
      .insertInto('budgets')
      .values({ user_id: user.id, monthly_limit_micro: Math.floor(2.5 * ESTIMATE) })
      .execute();

    const results = await stampede(token);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const errors = errorsOf(results);
    expect(errors).toHaveLength(18);
    for (const err of errors) {
      expect(err.data?.code).toBe('PAYMENT_REQUIRED');
      expect(err.message).toMatch(/Monthly AI budget exceeded/);
    }
    const holds = await holdsOf(user.id);
    expect(holds.reduce((sum, h) => sum + h.amount_micro, 0)).toBe(2 * ESTIMATE);
  });
});
