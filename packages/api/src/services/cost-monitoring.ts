/**
 * Cost monitoring (seed troubleshooting 5): a user's own usage this period against their plan and budget, the
 * admin's breakdown of the ledger by user, provider, model, kind and day, budgets set by admins (the seed's
 * `userBudget.upsert`), and the cost estimate shown before a generation. Every figure is a sum of ledger rows
 * (`usage_events.cost_micro`), so the pages and the ledger cannot disagree.
 */
import {
  countQuotaGenerationsSince,
  findUserById,
  monthStart,
  recentUsage,
  upsertBudgetLimit,
  usageBreakdownRows,
  usageByDay,
  usageByKind,
  usageByModel,
  usageByUser,
  usageTotals,
  type Database,
} from '@dawg/db';
import {
  AppError,
  type ApiEnv,
  type BudgetView,
  type CostEstimate,
  type CreateGenerationRequest,
  DEFAULT_MUSIC_MODELS,
  estimateGenerationSeconds,
  estimateMusicCost,
  getPlan,
  type Role,
  type UsageBreakdown,
  type UsageBreakdownInput,
  type UsageSummary,
  usdToMicro,
} from '@dawg/shared';
import type { Kysely } from 'kysely';
import { budgetState } from './budget';
import { planViews } from './billing';
import { chooseMusicProvider } from './generation';

const DAY_MS = 24 * 60 * 60 * 1000;
const RECENT_LIMIT = 20;

function nextMonth(start: Date): Date {
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
}

export async function usageSummary(db: Kysely<Database>, userId: string, now = new Date()): Promise<UsageSummary> {
  const user = await findUserById(db, userId);
  if (!user) throw new AppError('NOT_FOUND', 'User not found');
  const plan = getPlan(user.plan);
  const state = await budgetState(db, userId, user.plan, now);
  const from = state.periodStart;
  const to = nextMonth(from);
  const filter = { from, to, userId };
  const [totals, byDay, byKind, byModel, recent, used] = await Promise.all([
    usageTotals(db, filter),
    usageByDay(db, filter),
    usageByKind(db, filter),
    usageByModel(db, filter),
    recentUsage(db, userId, RECENT_LIMIT),
    countQuotaGenerationsSince(db, userId, from),
  ]);
  const committed = state.spentMicro + state.heldMicro;
  const usedPct = state.limitMicro > 0 ? (committed * 100) / state.limitMicro : committed > 0 ? 100 : 0;
  return {
    periodStart: from.toISOString(),
    periodEnd: to.toISOString(),
    plan: planViews().find((p) => p.id === plan.id)!,
    budget: {
      limitMicro: state.limitMicro,
      source: state.source,
      hardLimit: state.hardLimit,
      spentMicro: state.spentMicro,
      heldMicro: state.heldMicro,
      usedPct: Math.round(usedPct * 10) / 10,
    },
    generations: { used, quota: plan.generationsPerMonth },
    totalMicro: totals.costMicro,
    byDay,
    byKind,
    byModel,
    recent: recent.map((r) => ({
      id: r.id,
      occurredAt: r.occurred_at.toISOString(),
      provider: r.provider,
      model: r.model,
      kind: r.kind,
      costMicro: r.cost_micro,
      generationId: r.generation_id,
      conversationId: r.conversation_id,
    })),
  };
}

/** The UTC day range of a breakdown: [from 00:00, to + 1 day); the current month when neither is given. */
export function breakdownRange(input: Pick<UsageBreakdownInput, 'from' | 'to'>, now = new Date()) {
  const from = input.from ? new Date(`${input.from}T00:00:00Z`) : monthStart(now);
  const to = input.to ? new Date(new Date(`${input.to}T00:00:00Z`).getTime() + DAY_MS) : nextMonth(monthStart(now));
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
    throw new AppError('BAD_REQUEST', 'Validation failed', { details: [{ path: ['from'], message: 'invalid date' }] });
  }
  if (to <= from) {
    throw new AppError('BAD_REQUEST', 'Validation failed', {
      details: [{ path: ['to'], message: 'must not be before from' }],
    });
  }
  return { from, to };
}

export async function usageBreakdown(db: Kysely<Database>, input: UsageBreakdownInput): Promise<UsageBreakdown> {
  const { from, to } = breakdownRange(input);
  const filter = { from, to, userId: input.userId, provider: input.provider, model: input.model, kind: input.kind };
  const [totals, grouped, byUser, byDay, byKind, byModel] = await Promise.all([
    usageTotals(db, filter),
    usageBreakdownRows(db, filter, input.limit),
    usageByUser(db, filter),
    usageByDay(db, filter),
    usageByKind(db, filter),
    usageByModel(db, filter),
  ]);
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    totalMicro: totals.costMicro,
    calls: totals.calls,
    rows: grouped.rows,
    truncated: grouped.truncated,
    byUser,
    byDay,
    byKind,
    byModel,
  };
}

export async function budgetView(db: Kysely<Database>, userId: string): Promise<BudgetView> {
  const user = await findUserById(db, userId);
  if (!user)
    throw new AppError('NOT_FOUND', 'User not found', { details: [{ path: ['userId'], message: 'not found' }] });
  const state = await budgetState(db, userId, user.plan);
  return {
    userId,
    limitMicro: state.limitMicro,
    source: state.source,
    hardLimit: state.hardLimit,
    spentMicro: state.spentMicro,
    heldMicro: state.heldMicro,
    periodStart: state.periodStart.toISOString(),
    lastAlertPct: state.lastAlertPct,
  };
}

/** The seed's `userBudget.upsert`: an admin sets (or, with null, clears) a user's monthly limit in USD. */
export async function upsertUserBudget(
  db: Kysely<Database>,
  input: { userId: string; monthlyLimitUsd: number | null; hardLimit?: boolean | undefined },
): Promise<BudgetView> {
  if (!(await findUserById(db, input.userId))) {
    throw new AppError('NOT_FOUND', 'User not found', { details: [{ path: ['userId'], message: 'not found' }] });
  }
  await upsertBudgetLimit(db, input.userId, {
    monthlyLimitMicro: input.monthlyLimitUsd === null ? null : usdToMicro(input.monthlyLimitUsd),
    hardLimit: input.hardLimit,
  });
  return budgetView(db, input.userId);
}

/** What a generation with these parameters would cost, and whether the budget admits it now (cost before). */
export async function estimateGeneration(
  deps: { db: Kysely<Database>; env: ApiEnv },
  caller: { id: string; role: Role },
  input: CreateGenerationRequest,
): Promise<CostEstimate> {
  const provider = chooseMusicProvider(deps.env, caller, input.provider);
  const model = DEFAULT_MUSIC_MODELS[provider];
  const estimatedCostMicro = estimateMusicCost({
    provider,
    model,
    durationSec: input.duration,
    ...(provider === 'suno' ? {} : { clips: input.variants }),
  });
  const user = await findUserById(deps.db, caller.id);
  if (!user) throw new AppError('NOT_FOUND', 'User not found');
  const state = await budgetState(deps.db, caller.id, user.plan);
  const remaining = state.limitMicro - state.spentMicro - state.heldMicro;
  return {
    provider,
    model,
    estimatedCostMicro,
    estimatedTimeSec: estimateGenerationSeconds(provider, input.duration, input.variants),
    remainingMicro: state.hardLimit ? Math.max(0, remaining) : null,
    withinBudget: !state.hardLimit || estimatedCostMicro === 0 || estimatedCostMicro <= remaining,
  };
}
