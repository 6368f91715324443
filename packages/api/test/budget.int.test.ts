/**
 * Budgets and their alerts. Generation admission (Suno configured, so every generation holds its estimate) runs up to
 * an admin-set budget: the 80 % alert fires once (an in-app notice and a `budget alert` log line), 100 % fires once,
 * the next generation is refused with a message naming the budget, and the admin raising the budget
 * (`userBudget.upsert`) lets it through. The chat path's check is the same function, `assertWithinBudget`: it is
 * exercised directly, as a chat turn would call it, under the user's row lock.
 */
import { lockUserForAdmission, recordUsage } from '@dawg/db';
import { costOf, DEFAULT_MUSIC_MODELS, estimateMusicCost, formatUsd, isAppError } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  uniqueRedisPrefix,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertWithinBudget, noteBudgetRefusal } from '../src/services/budget';
import { bearer, rest, startApi, trpcMutation, trpcQuery, type TestApi } from './helpers/api';
import { httpClient } from './helpers/generation';

let database: TestDatabase;
let api: TestApi;
const prefix = uniqueRedisPrefix('budget');
const ESTIMATE = estimateMusicCost({ provider: 'suno', model: DEFAULT_MUSIC_MODELS.suno, durationSec: 30 });

beforeAll(async () => {
  database = await createTestDatabase();
  // No worker: admitted generations stay queued with their holds (what is reserved counts against the budget).
  api = await startApi({ database, prefix, overrides: { SUNO_API_KEY: 'sk-suno-test', WHITELISTED_IPS: '127.0.0.1' } });
});

afterAll(async () => {
  await api?.close();
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

async function alertsOf(userId: string) {
  const rows = await database.db
    .selectFrom('notifications')
    .select(['kind', 'title', 'payload'])
    .where('user_id', '=', userId)
    .where('kind', '=', 'budget_alert')
    .orderBy('created_at')
    .execute();
  return rows.map((r) => (r.payload as { pct: number }).pct);
}

async function generate(token: string) {
  return trpcMutation(api.base, 'generation.create', { prompt: 'a budget test take', duration: 30 }, bearer(token));
}

describe('budget alerts and refusal on the generation path', () => {
  it('alerts at 80 % once and at 100 % once, refuses past 100 %, and admits again when an admin raises the budget', async () => {
    const { user, token } = await createUser(database.db);
    const { token: adminToken } = await createUser(database.db, { role: 'admin' });
    const admin = httpClient(api.base, adminToken);
    // Pro's quota (200) so the budget, not the quota, binds; ten generations' worth of budget.
    await admin.admin.setUserPlan.mutate({ userId: user.id, plan: 'pro' });
    const set = await admin.userBudget.upsert.mutate({ userId: user.id, monthlyLimitUsd: (10 * ESTIMATE) / 1e6 });
    expect(set).toMatchObject({ limitMicro: 10 * ESTIMATE, source: 'custom', hardLimit: true, spentMicro: 0 });

    // The estimate is shown before: the same amount the admission then holds.
    const estimate = await trpcQuery(
      api.base,
      'usage.estimateGeneration',
      { prompt: 'a budget test take', duration: 30 },
      bearer(token),
    );
    expect(estimate.body.result.data).toMatchObject({
      provider: 'suno',
      estimatedCostMicro: ESTIMATE,
      remainingMicro: 10 * ESTIMATE,
      withinBudget: true,
    });

    const seen: number[][] = [];
    for (let i = 1; i <= 10; i += 1) {
      expect((await generate(token)).status, `generation ${i}`).toBe(200);
      seen.push(await alertsOf(user.id));
    }
    // Nothing below 80 %; the 80 % alert at the 8th, not again at the 9th; 100 % at the 10th.
    expect(seen.slice(0, 7).every((a) => a.length === 0)).toBe(true);
    expect(seen[7]).toEqual([80]);
    expect(seen[8]).toEqual([80]);
    expect(seen[9]).toEqual([80, 100]);

    const refused = await generate(token);
    expect(refused.status).toBe(402);
    expect(refused.body.error.data.code).toBe('PAYMENT_REQUIRED');
    const limit = formatUsd(10 * ESTIMATE);
    expect(refused.body.error.message).toBe(
      `Monthly AI budget exceeded: ${limit} of ${limit} is spent or reserved and this generation may cost ` +
        formatUsd(ESTIMATE),
    );
    // Refusals do not repeat the alert.
    expect(await generate(token).then((r) => r.status)).toBe(402);
    expect(await alertsOf(user.id)).toEqual([80, 100]);
    const denied = await trpcQuery(api.base, 'usage.estimateGeneration', { prompt: 'x', duration: 30 }, bearer(token));
    expect(denied.body.result.data).toMatchObject({ withinBudget: false, remainingMicro: 0 });

    // The user sees where they stand; only admins may change it.
    const mine = await rest(api.base, 'GET', '/api/cost-monitoring/usage', { headers: bearer(token) });
    expect(mine.body.budget).toMatchObject({ limitMicro: 10 * ESTIMATE, heldMicro: 10 * ESTIMATE, usedPct: 100 });
    const notMine = await trpcMutation(
      api.base,
      'userBudget.upsert',
      { userId: user.id, monthlyLimitUsd: 1000 },
      bearer(token),
    );
    expect(notMine.body.error.data.code).toBe('FORBIDDEN');

    await admin.userBudget.upsert.mutate({ userId: user.id, monthlyLimitUsd: (20 * ESTIMATE) / 1e6 });
    expect((await generate(token)).status).toBe(200);
    // 11 of 20: below the new limit's 80 %, so no new alert.
    expect(await alertsOf(user.id)).toEqual([80, 100]);
    const notices = await httpClient(api.base, token).notification.list.query({});
    expect(notices.map((n) => n.title)).toEqual(['Monthly AI budget reached', '80% of your monthly AI budget used']);
  });

  it('fires the 100 % alert once when a refusal comes before any alert', async () => {
    const { user, token } = await createUser(database.db, { plan: 'pro' });
    await database.db
      .insertInto('budgets')
      .values({ user_id: user.id, monthly_limit_micro: ESTIMATE - 1 })
      .execute();
    expect((await generate(token)).status).toBe(402);
    expect((await generate(token)).status).toBe(402);
    expect(await alertsOf(user.id)).toEqual([100]);
  });
});

describe('assertWithinBudget (the check chat turns share)', () => {
  it('refuses a chat turn at 100 % with a clear error and passes it after the budget is raised', async () => {
    const { user } = await createUser(database.db);
    const { token: adminToken } = await createUser(database.db, { role: 'admin' });
    const turnCost = costOf({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      units: { unit: 'tokens', inputTokens: 20_000, outputTokens: 2_000 },
    });
    // Spend the free plan's $1 on chat turns recorded through the ledger.
    const turns = Math.floor(1_000_000 / turnCost);
    for (let i = 0; i < turns; i += 1) {
      await recordUsage(database.db, {
        userId: user.id,
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        kind: 'chat',
        units: { unit: 'tokens', inputTokens: 20_000, outputTokens: 2_000 },
        costMicro: turnCost,
        idempotencyKey: `budget-test:${user.id}:${i}`,
      });
    }
    const lines: { obj: object; msg: string }[] = [];
    const log = { warn: (obj: object, msg: string) => lines.push({ obj, msg }) };
    const turn = () =>
      database.db.transaction().execute(async (trx) => {
        const locked = await lockUserForAdmission(trx, user.id);
        return assertWithinBudget(trx, user.id, locked!.plan, turnCost, 'this chat turn', { log });
      });

    const refusal = await turn().catch((err: unknown) => err);
    expect(isAppError(refusal) && refusal.code).toBe('PAYMENT_REQUIRED');
    expect((refusal as Error).message).toMatch(/^Monthly AI budget exceeded: .* and this chat turn may cost \$/);
    await noteBudgetRefusal(database.db, user.id, refusal, log);
    expect(await alertsOf(user.id)).toEqual([100]);
    expect(lines).toEqual([
      {
        obj: expect.objectContaining({ event: 'budget_alert', userId: user.id, pct: 100, limitMicro: 1_000_000 }),
        msg: 'budget alert',
      },
    ]);

    const admin = httpClient(api.base, adminToken);
    await admin.userBudget.upsert.mutate({ userId: user.id, monthlyLimitUsd: 5 });
    const state = await turn();
    expect(state).toMatchObject({ limitMicro: 5_000_000, source: 'custom', spentMicro: turns * turnCost });
    // Back to the plan's default: refused again.
    await admin.userBudget.upsert.mutate({ userId: user.id, monthlyLimitUsd: null });
    expect(await turn().catch((err: unknown) => (isAppError(err) ? err.code : 'other'))).toBe('PAYMENT_REQUIRED');
  });

  it('alerts once at 80 % on the chat path too, with the log line', async () => {
    const { user } = await createUser(database.db);
    const lines: object[] = [];
    const log = { warn: (obj: object) => lines.push(obj) };
    const turn = (estimate: number) =>
      database.db.transaction().execute(async (trx) => {
        await lockUserForAdmission(trx, user.id);
        return assertWithinBudget(trx, user.id, 'free', estimate, 'this chat turn', { log });
      });
    await turn(700_000);
    expect(await alertsOf(user.id)).toEqual([]);
    await recordUsage(database.db, {
      userId: user.id,
      provider: 'openai',
      model: 'gpt-4o',
      kind: 'chat',
      units: { unit: 'tokens', inputTokens: 100, outputTokens: 100 },
      costMicro: 800_000,
      idempotencyKey: `budget-80:${user.id}`,
    });
    await turn(10_000);
    await turn(10_000);
    expect(await alertsOf(user.id)).toEqual([80]);
    expect(lines).toEqual([expect.objectContaining({ event: 'budget_alert', pct: 80, userId: user.id })]);
  });
});
