/**
 * Cost monitoring over the ledger: usage of both kinds of paid work (music generations and chat turns, plus lyrics)
 * is written through `recordUsage` with costs from the price table, spread over the month's days; the user's own
 * summary (`usage.get`, `GET /api/cost-monitoring/usage`) and the admin breakdown (`usage.breakdown`,
 * `GET /api/cost-monitoring/breakdown`, with filters) must equal the sums of the per-call costs, by user, kind,
 * model and day. The breakdown is for admins only.
 */
import { insertGeneration, monthStart, recordUsage } from '@dawg/db';
import { costOf, type Provider, type UsageKind, type UsageUnits } from '@dawg/shared';
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, rest, startApi, trpcQuery, type TestApi } from './helpers/api';
import { httpClient } from './helpers/generation';

let database: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApi({ database, label: 'cost-monitoring', overrides: { WHITELISTED_IPS: '127.0.0.1' } });
});

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

interface Call {
  userId: string;
  provider: Provider;
  model: string;
  kind: UsageKind;
  units: UsageUnits;
  cost: number;
  at: Date;
}

const sum = (calls: Call[]) => calls.reduce((total, c) => total + c.cost, 0);
const dayOf = (d: Date) => d.toISOString().slice(0, 10);
function groupSum<K extends string>(calls: Call[], key: (c: Call) => K): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const c of calls) out[key(c)] = (out[key(c)] ?? 0) + c.cost;
  return out;
}

/** Pseudo-random but reproducible usage: generations (Suno clips), chat turns and lyrics, over this month's days. */
async function writeUsage(userId: string, seed: number): Promise<Call[]> {
  let s = seed;
  const rand = (n: number) => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31), s % n);
  const now = new Date();
  const start = monthStart(now).getTime();
  const calls: Call[] = [];
  for (let i = 0; i < 30; i += 1) {
    const at = new Date(start + Math.floor(((now.getTime() - start) * rand(1000)) / 1000));
    const which = i % 3;
    let call: Omit<Call, 'cost'>;
    let generationId: string | null = null;
    if (which === 0) {
      const gen = await insertGeneration(database.db, {
        ownerId: userId,
        projectId: null,
        kind: 'song',
        prompt: `ledger take ${i}`,
        params: { mode: 'simple', prompt: 'x', instrumental: true, durationSec: 30, seed: 1, variants: 1 },
        provider: 'suno',
        model: 'V4_5',
        estimatedCostMicro: 0,
        idempotencyKey: null,
      });
      generationId = gen.id;
      call = { userId, provider: 'suno', model: 'V4_5', kind: 'music', units: { unit: 'clips', clips: 2 }, at };
    } else if (which === 1) {
      const units: UsageUnits = {
        unit: 'tokens',
        inputTokens: 1_000 + rand(50_000),
        outputTokens: 10 + rand(4_000),
        cachedInputTokens: rand(10_000),
      };
      call = { userId, provider: 'anthropic', model: 'claude-sonnet-4-5-20250929', kind: 'chat', units, at };
    } else {
      const units: UsageUnits = { unit: 'tokens', inputTokens: 200 + rand(2_000), outputTokens: 50 + rand(800) };
      call = { userId, provider: 'openai', model: 'gpt-4o-mini', kind: 'lyrics', units, at };
    }
    const cost = costOf({ provider: call.provider, model: call.model, units: call.units });
    const key = `ledger-test:${userId}:${i}`;
    for (let attempt = 0; attempt < (i % 5 === 0 ? 2 : 1); attempt += 1) {
      // Some calls are written twice (a retried job): the ledger keeps one row per idempotency key.
      await recordUsage(database.db, {
        userId,
        provider: call.provider,
        model: call.model,
        kind: call.kind,
        units: call.units,
        costMicro: cost,
        generationId,
        idempotencyKey: key,
      });
    }
    await database.db.updateTable('usage_events').set({ occurred_at: at }).where('idempotency_key', '=', key).execute();
    calls.push({ ...call, cost });
  }
  return calls;
}

describe('ledger aggregations', () => {
  it('equal the sum of per-call costs across generation and chat, by user, kind, model and day', async () => {
    const a = await createUser(database.db);
    const b = await createUser(database.db);
    const admin = await createUser(database.db, { role: 'admin' });
    const callsA = await writeUsage(a.user.id, 7);
    const callsB = await writeUsage(b.user.id, 11);
    const all = [...callsA, ...callsB];
    expect(sum(callsA)).toBeGreaterThan(0);
    expect(new Set(callsA.map((c) => c.kind))).toEqual(new Set(['music', 'chat', 'lyrics']));

    // The user's own view.
    const own = await httpClient(api.base, a.token).usage.get.query();
    expect(own.totalMicro).toBe(sum(callsA));
    expect(own.budget.spentMicro).toBe(sum(callsA));
    expect(Object.fromEntries(own.byKind.map((k) => [k.kind, k.costMicro]))).toEqual(groupSum(callsA, (c) => c.kind));
    expect(Object.fromEntries(own.byDay.map((d) => [d.day, d.costMicro]))).toEqual(
      groupSum(callsA, (c) => dayOf(c.at)),
    );
    expect(Object.fromEntries(own.byModel.map((m) => [`${m.provider}/${m.model}`, m.costMicro]))).toEqual(
      groupSum(callsA, (c) => `${c.provider}/${c.model}`),
    );
    expect(own.byKind.reduce((n, k) => n + k.calls, 0)).toBe(callsA.length);
    expect(own.recent).toHaveLength(20);
    const restOwn = await rest(api.base, 'GET', '/api/cost-monitoring/usage', { headers: bearer(a.token) });
    expect(restOwn.status).toBe(200);
    expect(restOwn.body).toEqual(own);

    // The admin's breakdown: everything, then filtered.
    const adminClient = httpClient(api.base, admin.token);
    const everything = await adminClient.usage.breakdown.query({});
    expect(everything.totalMicro).toBe(sum(all));
    expect(everything.calls).toBe(all.length);
    expect(everything.truncated).toBe(false);
    expect(everything.rows.reduce((n, r) => n + r.costMicro, 0)).toBe(sum(all));
    expect(Object.fromEntries(everything.byUser.map((u) => [u.userId, u.costMicro]))).toEqual(
      groupSum(all, (c) => c.userId),
    );
    expect(everything.byUser.find((u) => u.userId === a.user.id)?.email).toBe(a.user.email);
    const rowKey = (r: { day: string; userId: string; provider: string; model: string; kind: string }) =>
      `${r.day}|${r.userId}|${r.provider}|${r.model}|${r.kind}`;
    const byRow: Record<string, number> = {};
    for (const r of everything.rows) byRow[rowKey(r)] = r.costMicro;
    expect(byRow).toEqual(groupSum(all, (c) => rowKey({ ...c, day: dayOf(c.at) })));

    const chatOnly = await adminClient.usage.breakdown.query({ kind: 'chat' });
    expect(chatOnly.totalMicro).toBe(sum(all.filter((c) => c.kind === 'chat')));
    const onlyB = await adminClient.usage.breakdown.query({ userId: b.user.id, provider: 'suno' });
    expect(onlyB.totalMicro).toBe(sum(callsB.filter((c) => c.provider === 'suno')));
    const today = dayOf(new Date());
    const todayOnly = await adminClient.usage.breakdown.query({ from: today, to: today });
    expect(todayOnly.totalMicro).toBe(sum(all.filter((c) => dayOf(c.at) === today)));

    const restAll = await rest(api.base, 'GET', `/api/cost-monitoring/breakdown?kind=music&limit=5`, {
      headers: bearer(admin.token),
    });
    expect(restAll.status).toBe(200);
    expect(restAll.body.totalMicro).toBe(sum(all.filter((c) => c.kind === 'music')));
    expect(restAll.body.rows.length).toBeLessThanOrEqual(5);
  });

  it('keeps the breakdown to admins', async () => {
    const user = await createUser(database.db);
    const trpc = await trpcQuery(api.base, 'usage.breakdown', {}, bearer(user.token));
    expect(trpc.body.error.data.code).toBe('FORBIDDEN');
    const restAnswer = await rest(api.base, 'GET', '/api/cost-monitoring/breakdown', { headers: bearer(user.token) });
    expect(restAnswer.status).toBe(403);
    const anonymous = await rest(api.base, 'GET', '/api/cost-monitoring/breakdown');
    expect(anonymous.status).toBe(401);
  });

  it('names the bad filter', async () => {
    const admin = await createUser(database.db, { role: 'admin' });
    const backwards = await rest(api.base, 'GET', '/api/cost-monitoring/breakdown?from=2026-11-20&to=2026-11-01', {
      headers: bearer(admin.token),
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.details).toEqual([{ path: ['to'], message: 'must not be before from' }]);
    const badKind = await rest(api.base, 'GET', '/api/cost-monitoring/breakdown?kind=everything', {
      headers: bearer(admin.token),
    });
    expect(badKind.status).toBe(400);
    expect(badKind.body.details[0].path).toEqual(['kind']);
  });
});
