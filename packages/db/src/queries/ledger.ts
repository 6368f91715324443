/**
 * The money side of AI work: the usage ledger (append-only, idempotent by key), budget holds (money reserved by
 * queued work, settled into the ledger on success or released on failure) and what a user may still spend this
 * month. Amounts are integer micro-dollars. Callers that check-then-hold run inside one transaction holding the
 * user's row lock (see lockUserForAdmission), so concurrent requests cannot overspend.
 */
import type { Provider, UsageKind, UsageUnits } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { json, type BudgetHoldsTable, type Database } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type BudgetHoldRow = Selectable<BudgetHoldsTable>;

/** The first instant of the calendar month (UTC) that `now` falls in: budgets and quotas reset there. */
export function monthStart(now: Date = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** Ledger total of a user since `since`. */
export async function spentSince(db: DbOrTx, userId: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('usage_events')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('cost_micro'), eb.lit(0)).as('total'))
    .where('user_id', '=', userId)
    .where('occurred_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

/** Money currently reserved by a user's unfinished work. */
export async function activeHoldsTotal(db: DbOrTx, userId: string): Promise<number> {
  const row = await db
    .selectFrom('budget_holds')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount_micro'), eb.lit(0)).as('total'))
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(row.total);
}

/** A user's budget row, if any. A null limit means the plan's default applies (the row only keeps alert state). */
export interface BudgetRow {
  monthlyLimitMicro: number | null;
  hardLimit: boolean;
  alertThresholdPct: number;
  lastAlertPeriod: string | null;
  lastAlertPct: number | null;
}

export async function findBudget(db: DbOrTx, userId: string): Promise<BudgetRow | undefined> {
  const row = await db
    .selectFrom('budgets')
    .select(['monthly_limit_micro', 'hard_limit', 'alert_threshold_pct', 'last_alert_period', 'last_alert_pct'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row
    ? {
        monthlyLimitMicro: row.monthly_limit_micro,
        hardLimit: row.hard_limit,
        alertThresholdPct: row.alert_threshold_pct,
        lastAlertPeriod: row.last_alert_period,
        lastAlertPct: row.last_alert_pct,
      }
    : undefined;
}

export async function createHold(
  db: DbOrTx,
  hold: { userId: string; kind: UsageKind; amountMicro: number; generationId: string; expiresAt: Date },
): Promise<BudgetHoldRow> {
  return db
    .insertInto('budget_holds')
    .values({
      user_id: hold.userId,
      kind: hold.kind,
      amount_micro: hold.amountMicro,
      generation_id: hold.generationId,
      expires_at: hold.expiresAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Resolve a generation's active hold: `settled` when the work was paid for, `released` when it was not. */
export async function resolveGenerationHold(
  db: DbOrTx,
  generationId: string,
  outcome: 'settled' | 'released',
): Promise<boolean> {
  const result = await db
    .updateTable('budget_holds')
    .set({ status: outcome, resolved_at: new Date() })
    .where('generation_id', '=', generationId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function findGenerationHold(db: DbOrTx, generationId: string): Promise<BudgetHoldRow | undefined> {
  return db.selectFrom('budget_holds').selectAll().where('generation_id', '=', generationId).executeTakeFirst();
}

/** The ledger key of a generation's usage of one kind: a retried write of the same usage is a no-op. */
export function generationUsageKey(generationId: string, kind: UsageKind): string {
  return `generation:${generationId}:${kind}`;
}

/** One usage record for the ledger. */
export interface UsageInput {
  userId: string;
  provider: Provider;
  model: string;
  kind: UsageKind;
  units: UsageUnits;
  costMicro: number;
  generationId?: string | null;
  conversationId?: string | null;
  idempotencyKey: string;
}

/** The ledger row a usage record becomes (what `recordUsage` and `commitGenerationSuccess` insert). */
export function usageValues(usage: UsageInput) {
  return {
    user_id: usage.userId,
    provider: usage.provider,
    model: usage.model,
    kind: usage.kind,
    units: usage.units,
    cost_micro: usage.costMicro,
    generation_id: usage.generationId ?? null,
    conversation_id: usage.conversationId ?? null,
    idempotency_key: usage.idempotencyKey,
  };
}

/** Append a usage record; false when a record with the same idempotency key already exists. */
export async function recordUsage(db: DbOrTx, usage: UsageInput): Promise<boolean> {
  const values = usageValues(usage);
  const inserted = await db
    .insertInto('usage_events')
    .values({ ...values, units: json(values.units) })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}
