/**
 * Cost monitoring: the usage ledger aggregated by user, provider, model, kind and day (UTC). Every sum is over
 * `usage_events.cost_micro`, so totals here are the ledger's totals by construction.
 */
import type { Provider, UsageKind } from '@dawg/shared';
import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Database } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export interface UsageFilter {
  /** Inclusive lower bound. */
  from: Date;
  /** Exclusive upper bound. */
  to: Date;
  userId?: string | undefined;
  provider?: Provider | undefined;
  model?: string | undefined;
  kind?: UsageKind | undefined;
}

const DAY = sql<string>`to_char(usage_events.occurred_at at time zone 'UTC', 'YYYY-MM-DD')`;

function filtered(db: DbOrTx, f: UsageFilter): SelectQueryBuilder<Database, 'usage_events', object> {
  let q = db
    .selectFrom('usage_events')
    .where('usage_events.occurred_at', '>=', f.from)
    .where('usage_events.occurred_at', '<', f.to);
  if (f.userId) q = q.where('usage_events.user_id', '=', f.userId);
  if (f.provider) q = q.where('usage_events.provider', '=', f.provider);
  if (f.model) q = q.where('usage_events.model', '=', f.model);
  if (f.kind) q = q.where('usage_events.kind', '=', f.kind);
  return q;
}

const COST = sql<string>`coalesce(sum(usage_events.cost_micro), 0)`;
const CALLS = sql<string>`count(*)`;

export async function usageTotals(db: DbOrTx, f: UsageFilter): Promise<{ costMicro: number; calls: number }> {
  const row = await filtered(db, f)
    .select([COST.as('cost'), CALLS.as('calls')])
    .executeTakeFirstOrThrow();
  return { costMicro: Number(row.cost), calls: Number(row.calls) };
}

export async function usageByDay(db: DbOrTx, f: UsageFilter) {
  const rows = await filtered(db, f)
    .select([DAY.as('day'), COST.as('cost'), CALLS.as('calls')])
    .groupBy(DAY)
    .orderBy(DAY)
    .execute();
  return rows.map((r) => ({ day: r.day, costMicro: Number(r.cost), calls: Number(r.calls) }));
}

export async function usageByKind(db: DbOrTx, f: UsageFilter) {
  const rows = await filtered(db, f)
    .select(['usage_events.kind', COST.as('cost'), CALLS.as('calls')])
    .groupBy('usage_events.kind')
    .orderBy('usage_events.kind')
    .execute();
  return rows.map((r) => ({ kind: r.kind, costMicro: Number(r.cost), calls: Number(r.calls) }));
}

export async function usageByModel(db: DbOrTx, f: UsageFilter) {
  const rows = await filtered(db, f)
    .select(['usage_events.provider', 'usage_events.model', COST.as('cost'), CALLS.as('calls')])
    .groupBy(['usage_events.provider', 'usage_events.model'])
    .orderBy('usage_events.provider')
    .orderBy('usage_events.model')
    .execute();
  return rows.map((r) => ({ provider: r.provider, model: r.model, costMicro: Number(r.cost), calls: Number(r.calls) }));
}

export async function usageByUser(db: DbOrTx, f: UsageFilter) {
  const rows = await filtered(db, f)
    .leftJoin('users', 'users.id', 'usage_events.user_id')
    .select(['usage_events.user_id', 'users.email', COST.as('cost'), CALLS.as('calls')])
    .groupBy(['usage_events.user_id', 'users.email'])
    .orderBy(sql`sum(usage_events.cost_micro)`, 'desc')
    .orderBy('usage_events.user_id')
    .execute();
  return rows.map((r) => ({
    userId: r.user_id,
    email: r.email ?? null,
    costMicro: Number(r.cost),
    calls: Number(r.calls),
  }));
}

/** One row per (day, user, provider, model, kind), newest day first; `limit + 1` rows tell whether more matched. */
export async function usageBreakdownRows(db: DbOrTx, f: UsageFilter, limit: number) {
  const rows = await filtered(db, f)
    .leftJoin('users', 'users.id', 'usage_events.user_id')
    .select([
      DAY.as('day'),
      'usage_events.user_id',
      'users.email',
      'usage_events.provider',
      'usage_events.model',
      'usage_events.kind',
      COST.as('cost'),
      CALLS.as('calls'),
    ])
    .groupBy([
      DAY,
      'usage_events.user_id',
      'users.email',
      'usage_events.provider',
      'usage_events.model',
      'usage_events.kind',
    ])
    .orderBy(DAY, 'desc')
    .orderBy(sql`sum(usage_events.cost_micro)`, 'desc')
    .orderBy('usage_events.user_id')
    .orderBy('usage_events.provider')
    .orderBy('usage_events.model')
    .orderBy('usage_events.kind')
    .limit(limit + 1)
    .execute();
  return {
    truncated: rows.length > limit,
    rows: rows.slice(0, limit).map((r) => ({
      day: r.day,
      userId: r.user_id,
      email: r.email ?? null,
      provider: r.provider,
      model: r.model,
      kind: r.kind,
      costMicro: Number(r.cost),
      calls: Number(r.calls),
    })),
  };
}

export async function recentUsage(db: DbOrTx, userId: string, limit: number) {
  return db
    .selectFrom('usage_events')
    .select(['id', 'occurred_at', 'provider', 'model', 'kind', 'cost_micro', 'generation_id', 'conversation_id'])
    .where('user_id', '=', userId)
    .orderBy('occurred_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
