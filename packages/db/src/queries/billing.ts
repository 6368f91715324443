/**
 * Billing rows: Stripe customers (users.stripe_customer_id, one per user), subscriptions mirrored from Stripe, the
 * webhook events received (`stripe_events`, idempotent by event id), budgets set by admins with their alert state,
 * and in-app notifications.
 */
import type { NotificationKind, PlanId, SubscriptionStatus } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { json, type Database, type JsonObject, type NotificationsTable, type SubscriptionsTable } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type SubscriptionRow = Selectable<SubscriptionsTable>;
export type NotificationRow = Selectable<NotificationsTable>;

// ---- customers ------------------------------------------------------------------------------------------------------

export async function findStripeCustomerId(db: DbOrTx, userId: string): Promise<string | null | undefined> {
  const row = await db.selectFrom('users').select('stripe_customer_id').where('id', '=', userId).executeTakeFirst();
  return row?.stripe_customer_id;
}

/** Stores the customer id unless one is already there; returns the id in force (the first one wins). */
export async function setStripeCustomerId(db: DbOrTx, userId: string, customerId: string): Promise<string | null> {
  await db
    .updateTable('users')
    .set({ stripe_customer_id: customerId })
    .where('id', '=', userId)
    .where('stripe_customer_id', 'is', null)
    .execute();
  return (await findStripeCustomerId(db, userId)) ?? null;
}

export async function findUserIdByStripeCustomer(db: DbOrTx, customerId: string): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('id').where('stripe_customer_id', '=', customerId).executeTakeFirst();
  return row?.id;
}

/** Locks a user's row for the rest of the transaction (billing changes of one user apply one at a time). */
export async function lockUserRow(db: Transaction<Database>, userId: string): Promise<{ plan: PlanId } | undefined> {
  return db.selectFrom('users').select('plan').where('id', '=', userId).forUpdate().executeTakeFirst();
}

// ---- subscriptions ------------------------------------------------------------------------------------------------

export interface SubscriptionState {
  userId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string;
  stripePriceId: string | null;
  plan: PlanId;
  status: SubscriptionStatus;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: Date | null;
  lastEventAt: Date | null;
}

export async function findSubscription(db: DbOrTx, stripeSubscriptionId: string): Promise<SubscriptionRow | undefined> {
  return db
    .selectFrom('subscriptions')
    .selectAll()
    .where('stripe_subscription_id', '=', stripeSubscriptionId)
    .executeTakeFirst();
}

export async function upsertSubscription(db: DbOrTx, s: SubscriptionState): Promise<void> {
  const values = {
    user_id: s.userId,
    stripe_customer_id: s.stripeCustomerId,
    stripe_subscription_id: s.stripeSubscriptionId,
    stripe_price_id: s.stripePriceId,
    plan: s.plan,
    status: s.status,
    current_period_start: s.currentPeriodStart,
    current_period_end: s.currentPeriodEnd,
    cancel_at_period_end: s.cancelAtPeriodEnd,
    canceled_at: s.canceledAt,
    last_event_at: s.lastEventAt,
  };
  await db
    .insertInto('subscriptions')
    .values(values)
    .onConflict((oc) => oc.column('stripe_subscription_id').doUpdateSet(values))
    .execute();
}

export async function listUserSubscriptions(db: DbOrTx, userId: string): Promise<SubscriptionRow[]> {
  return db
    .selectFrom('subscriptions')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .execute();
}

// ---- stripe_events ------------------------------------------------------------------------------------------------

export interface StripeEventRecord {
  id: string;
  type: string;
  livemode: boolean;
  createdAt: Date;
  payload: JsonObject;
}

/** Durable record of a received event; false when it was already there (a redelivery). */
export async function insertStripeEvent(db: DbOrTx, event: StripeEventRecord): Promise<boolean> {
  const row = await db
    .insertInto('stripe_events')
    .values({
      id: event.id,
      type: event.type,
      livemode: event.livemode,
      stripe_created_at: event.createdAt,
      payload: json(event.payload),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function findStripeEvent(db: DbOrTx, id: string) {
  return db.selectFrom('stripe_events').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Locks an event's row and tells whether it was processed meanwhile (two jobs of one event apply it once). */
export async function lockStripeEvent(
  db: Transaction<Database>,
  id: string,
): Promise<{ processed: boolean } | undefined> {
  const row = await db
    .selectFrom('stripe_events')
    .select('processed_at')
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  return row ? { processed: row.processed_at !== null } : undefined;
}

export async function markStripeEventProcessed(db: DbOrTx, id: string, error: string | null = null): Promise<void> {
  await db
    .updateTable('stripe_events')
    .set((eb) => ({ processed_at: new Date(), error, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

export async function markStripeEventFailed(db: DbOrTx, id: string, error: string): Promise<void> {
  await db
    .updateTable('stripe_events')
    .set((eb) => ({ error: error.slice(0, 2000), attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .execute();
}

export async function countStripeEvents(db: DbOrTx): Promise<{ total: number; processed: number }> {
  const row = await db
    .selectFrom('stripe_events')
    .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.count<number>('processed_at').as('processed')])
    .executeTakeFirstOrThrow();
  return { total: Number(row.total), processed: Number(row.processed) };
}

// ---- budgets ------------------------------------------------------------------------------------------------------

/**
 * An admin's limit for a user (null = back to the plan's default). A changed limit starts the period's alerts
 * afresh, so crossing 80 % of the new limit is announced.
 */
export async function upsertBudgetLimit(
  db: DbOrTx,
  userId: string,
  limit: { monthlyLimitMicro: number | null; hardLimit?: boolean | undefined },
): Promise<void> {
  const values = {
    monthly_limit_micro: limit.monthlyLimitMicro,
    ...(limit.hardLimit === undefined ? {} : { hard_limit: limit.hardLimit }),
    last_alert_period: null,
    last_alert_pct: null,
  };
  await db
    .insertInto('budgets')
    .values({ user_id: userId, ...values })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
    .execute();
}

/**
 * Claims the alert for `pct` in `period` ('YYYY-MM'): true exactly once per period and threshold (a lower threshold
 * is never claimed after a higher one in the same period). Creates an alert-only row (limit null) when the user has
 * no budget row.
 */
export async function claimBudgetAlert(db: DbOrTx, userId: string, period: string, pct: number): Promise<boolean> {
  await db
    .insertInto('budgets')
    .values({ user_id: userId, monthly_limit_micro: null })
    .onConflict((oc) => oc.column('user_id').doNothing())
    .execute();
  const result = await db
    .updateTable('budgets')
    .set({ last_alert_period: period, last_alert_pct: pct })
    .where('user_id', '=', userId)
    .where((eb) =>
      eb.or([
        eb('last_alert_period', 'is', null),
        eb('last_alert_period', '<>', period),
        eb('last_alert_pct', 'is', null),
        eb('last_alert_pct', '<', pct),
      ]),
    )
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

// ---- notifications ------------------------------------------------------------------------------------------------

export async function insertNotification(
  db: DbOrTx,
  n: { userId: string; kind: NotificationKind; title: string; body?: string; payload?: JsonObject },
): Promise<NotificationRow> {
  return db
    .insertInto('notifications')
    .values({
      user_id: n.userId,
      kind: n.kind,
      title: n.title,
      ...(n.body === undefined ? {} : { body: n.body }),
      ...(n.payload === undefined ? {} : { payload: json(n.payload) }),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listNotifications(
  db: DbOrTx,
  userId: string,
  opts: { unreadOnly?: boolean; limit?: number; kind?: NotificationKind } = {},
): Promise<NotificationRow[]> {
  let q = db.selectFrom('notifications').selectAll().where('user_id', '=', userId);
  if (opts.unreadOnly) q = q.where('read_at', 'is', null);
  if (opts.kind) q = q.where('kind', '=', opts.kind);
  return q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(opts.limit ?? 20)
    .execute();
}

export async function markNotificationsRead(db: DbOrTx, userId: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .updateTable('notifications')
    .set({ read_at: new Date() })
    .where('user_id', '=', userId)
    .where('id', 'in', ids)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
