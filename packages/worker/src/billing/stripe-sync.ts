/**
 * Applies one recorded Stripe webhook event (a `stripe_events` row) to our subscriptions and the user's plan.
 *
 * Order does not matter: the state written is the subscription object as Stripe has it now, re-read with
 * `subscriptions.retrieve` under the user's row lock (so of two events of one user processed at once, the one that
 * writes last also read last). Without STRIPE_SECRET_KEY the event's own subscription object is used, and only when
 * it is not older than the newest event already applied (`subscriptions.last_event_at`). The user's plan is the best
 * plan among their subscriptions whose status entitles them (trialing, active, past_due), else free.
 *
 * Shapes follow the API version the SDK pins (2026-10-28): periods come from the subscription items, and an
 * invoice's subscription is `parent.subscription_details.subscription` (the pre-2025 top-level `subscription` is
 * read too, for events recorded under an older version).
 */
import {
  findStripeEvent,
  findSubscription,
  findUserById,
  findUserIdByStripeCustomer,
  insertNotification,
  listUserSubscriptions,
  lockStripeEvent,
  lockUserRow,
  markStripeEventProcessed,
  setStripeCustomerId,
  setUserPlan,
  upsertSubscription,
  type Database,
} from '@dawg/db';
import {
  isEntitled,
  planForLookupKey,
  planIdSchema,
  PLAN_IDS,
  type PlanId,
  type SubscriptionStatus,
  subscriptionStatusSchema,
} from '@dawg/shared';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type Stripe from 'stripe';

type Obj = Record<string, unknown>;

/** What the sync needs from Stripe: one subscription by id, null when Stripe has none. */
export interface SubscriptionSource {
  retrieve(id: string): Promise<Obj | null>;
}

export function stripeSubscriptionSource(stripe: Stripe): SubscriptionSource {
  return {
    async retrieve(id) {
      try {
        return (await stripe.subscriptions.retrieve(id)) as unknown as Obj;
      } catch (err) {
        const e = err as { statusCode?: number; code?: string };
        if (e.statusCode === 404 || e.code === 'resource_missing') return null;
        throw err;
      }
    },
  };
}

const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
/** An expandable field: an id, or the expanded object's id. */
const idOf = (v: unknown): string | undefined => str(v) ?? str(obj(v)?.id);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const time = (v: unknown): Date | null => (typeof v === 'number' ? new Date(v * 1000) : null);

interface EventRefs {
  subscriptionId?: string | undefined;
  customerId?: string | undefined;
  userHint?: string | undefined;
  /** The subscription object the event carries, if it carries one. */
  payloadSubscription?: Obj | undefined;
}

/** The subscription, customer and user an event is about. */
export function refsOf(type: string, object: Obj): EventRefs | null {
  const metadata = obj(object.metadata);
  switch (type) {
    case 'checkout.session.completed':
      if (object.mode !== 'subscription') return null;
      return {
        subscriptionId: idOf(object.subscription),
        customerId: idOf(object.customer),
        userHint: str(object.client_reference_id) ?? str(metadata?.userId),
      };
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return {
        subscriptionId: idOf(object.id),
        customerId: idOf(object.customer),
        userHint: str(metadata?.userId),
        payloadSubscription: object,
      };
    case 'invoice.payment_succeeded':
    case 'invoice.payment_failed': {
      const details = obj(obj(object.parent)?.subscription_details);
      return {
        subscriptionId: idOf(details?.subscription) ?? idOf(object.subscription),
        customerId: idOf(object.customer),
        userHint: str(obj(details?.metadata)?.userId),
      };
    }
    default:
      return null;
  }
}

/** Our view of a Stripe subscription object. */
export function readSubscription(sub: Obj): {
  id: string;
  customerId: string | undefined;
  status: SubscriptionStatus;
  priceId: string | null;
  plan: PlanId;
  currentPeriodStart: Date | null;
  currentPeriodEnd: Date | null;
  cancelAtPeriodEnd: boolean;
  canceledAt: Date | null;
} {
  const items = (obj(sub.items)?.data as Obj[] | undefined) ?? [];
  const item = items[0];
  const price = obj(item?.price);
  const lookupKey = str(price?.lookup_key);
  const fromMetadata = planIdSchema.safeParse(obj(sub.metadata)?.plan);
  const plan = (lookupKey && planForLookupKey(lookupKey)?.id) || (fromMetadata.success ? fromMetadata.data : 'free');
  const status = subscriptionStatusSchema.safeParse(sub.status);
  // Periods moved onto the items (API 2025-03-31); a multi-item subscription spans its items' periods.
  const starts = items.map((i) => i.current_period_start).filter((v): v is number => typeof v === 'number');
  const ends = items.map((i) => i.current_period_end).filter((v): v is number => typeof v === 'number');
  return {
    id: String(sub.id),
    customerId: idOf(sub.customer),
    status: status.success ? status.data : 'incomplete',
    priceId: str(price?.id) ?? null,
    plan,
    currentPeriodStart: starts.length ? time(Math.min(...starts)) : time(sub.current_period_start),
    currentPeriodEnd: ends.length ? time(Math.max(...ends)) : time(sub.current_period_end),
    cancelAtPeriodEnd: sub.cancel_at_period_end === true,
    canceledAt: time(sub.canceled_at),
  };
}

const PLAN_RANK: Record<PlanId, number> = Object.fromEntries(PLAN_IDS.map((p, i) => [p, i])) as Record<PlanId, number>;

async function resolveUser(db: Kysely<Database>, refs: EventRefs): Promise<string | undefined> {
  if (refs.customerId) {
    const byCustomer = await findUserIdByStripeCustomer(db, refs.customerId);
    if (byCustomer) return byCustomer;
  }
  if (refs.userHint && UUID.test(refs.userHint) && (await findUserById(db, refs.userHint))) {
    // A customer made outside our checkout (dashboard, support) but tagged with the user: remember it.
    if (refs.customerId) await setStripeCustomerId(db, refs.userHint, refs.customerId);
    return refs.userHint;
  }
  return undefined;
}

export type StripeEventOutcome = 'applied' | 'ignored' | 'already-processed' | 'unknown-user' | 'missing';

export async function applyStripeEvent(
  db: Kysely<Database>,
  source: SubscriptionSource | null,
  eventId: string,
  log: Pick<Logger, 'info' | 'warn'>,
): Promise<StripeEventOutcome> {
  const row = await findStripeEvent(db, eventId);
  if (!row) return 'missing';
  if (row.processed_at) return 'already-processed';
  const payload = row.payload as Obj;
  const object = obj(obj(payload.data)?.object) ?? {};
  const refs = refsOf(row.type, object);
  if (!refs?.subscriptionId) {
    await markStripeEventProcessed(db, eventId);
    return 'ignored';
  }
  const userId = await resolveUser(db, refs);
  if (!userId) {
    log.warn({ eventId, type: row.type, customerId: refs.customerId }, 'stripe event for an unknown customer');
    await markStripeEventProcessed(db, eventId, `no user for customer ${refs.customerId ?? '(none)'}`);
    return 'unknown-user';
  }
  const subscriptionId = refs.subscriptionId;
  const eventAt = row.stripe_created_at;

  let applied = true;
  await db.transaction().execute(async (trx) => {
    const user = await lockUserRow(trx, userId);
    if (!user) {
      // The account was deleted meanwhile: nothing to apply.
      await markStripeEventProcessed(trx, eventId, 'user deleted');
      applied = false;
      return;
    }
    // A second job of the same event (a redelivery while the first was retrying) applies nothing twice.
    if ((await lockStripeEvent(trx, eventId))?.processed !== false) {
      applied = false;
      return;
    }
    const existing = await findSubscription(trx, subscriptionId);
    let current: Obj | null | undefined;
    if (source) {
      current = await source.retrieve(subscriptionId);
    } else if (refs.payloadSubscription && !(existing?.last_event_at && existing.last_event_at > eventAt)) {
      current = refs.payloadSubscription;
    }
    if (current) {
      const sub = readSubscription(current);
      await upsertSubscription(trx, {
        userId,
        stripeCustomerId: sub.customerId ?? refs.customerId ?? existing?.stripe_customer_id ?? '',
        stripeSubscriptionId: sub.id,
        stripePriceId: sub.priceId,
        plan: sub.plan,
        status: sub.status,
        currentPeriodStart: sub.currentPeriodStart,
        currentPeriodEnd: sub.currentPeriodEnd,
        cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
        canceledAt: sub.canceledAt,
        lastEventAt: existing?.last_event_at && existing.last_event_at > eventAt ? existing.last_event_at : eventAt,
      });
    } else if (current === null && existing) {
      // Stripe no longer knows it: it has ended.
      await upsertSubscription(trx, {
        userId,
        stripeCustomerId: existing.stripe_customer_id,
        stripeSubscriptionId: existing.stripe_subscription_id,
        stripePriceId: existing.stripe_price_id,
        plan: existing.plan,
        status: 'canceled',
        currentPeriodStart: existing.current_period_start,
        currentPeriodEnd: existing.current_period_end,
        cancelAtPeriodEnd: existing.cancel_at_period_end,
        canceledAt: existing.canceled_at ?? new Date(),
        lastEventAt: eventAt,
      });
    }

    const subscriptions = await listUserSubscriptions(trx, userId);
    const plan = subscriptions
      .filter((s) => isEntitled(s.status))
      .reduce<PlanId>((best, s) => (PLAN_RANK[s.plan] > PLAN_RANK[best] ? s.plan : best), 'free');
    if (plan !== user.plan) {
      await setUserPlan(trx, userId, plan);
      log.info({ userId, from: user.plan, to: plan, eventId }, 'plan changed by a subscription');
    }
    if (row.type === 'invoice.payment_failed') {
      await insertNotification(trx, {
        userId,
        kind: 'billing',
        title: 'Payment failed',
        body: 'Your last subscription payment did not go through. Update your payment method in the billing portal.',
        payload: { eventId, subscriptionId },
      });
    }
    await markStripeEventProcessed(trx, eventId);
  });
  return applied ? 'applied' : 'already-processed';
}
