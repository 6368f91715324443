/**
 * Billing: plans bought through Stripe Checkout (subscription mode, the price found by its lookup key), the Stripe
 * billing portal, the billing page's status, the webhook's durable receipt, and the admin's plan override.
 *
 * One Stripe customer per user, stored in `users.stripe_customer_id` (unique) before any checkout: customer creation
 * carries an idempotency key derived from the user, and the first stored id wins. Subscriptions, and the plan they
 * buy, are written only by the `billing.stripe-event` job, from the subscription as Stripe has it.
 */
import {
  findStripeCustomerId,
  findStripeEvent,
  findUserById,
  insertStripeEvent,
  listUserSubscriptions,
  setStripeCustomerId,
  setUserPlan,
  type Database,
  type JsonObject,
} from '@dawg/db';
import {
  AppError,
  type ApiEnv,
  type BillingStatus,
  getPlan,
  isEntitled,
  PLANS,
  type PlanId,
  type SubscriptionView,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { BillingQueue } from './billing-queue';
import { type StripeClient, verifyStripeWebhook } from './stripe';

export interface BillingDeps {
  db: Kysely<Database>;
  env: ApiEnv;
  log: FastifyBaseLogger;
  stripe: StripeClient | null;
  billingQueue: BillingQueue;
}

export function planViews() {
  return Object.values(PLANS).map((p) => ({
    id: p.id,
    name: p.name,
    monthlyPriceCents: p.monthlyPriceCents,
    generationsPerMonth: p.generationsPerMonth,
    aiBudgetMicro: p.aiBudgetMicroUsd,
    maxSongSeconds: p.maxSongSeconds,
    purchasable: p.stripeLookupKey !== null,
  }));
}

function notConfigured(): AppError {
  return new AppError('SERVICE_UNAVAILABLE', 'Billing is not configured on this server');
}

/** Stripe's own failures (network, 5xx, configuration) are ours, not the caller's: a 503 that names the provider. */
function providerError(log: FastifyBaseLogger, err: unknown, what: string): AppError {
  log.error({ err }, `stripe: ${what} failed`);
  return new AppError('SERVICE_UNAVAILABLE', 'The payment provider is unavailable; try again shortly', { cause: err });
}

/** The web app's origin, where Stripe sends the browser back. */
export function publicOrigin(env: ApiEnv): string {
  return (env.PUBLIC_URL ?? env.CORS_ORIGINS[0] ?? 'http://localhost:5173').replace(/\/+$/, '');
}

export async function billingStatus(deps: Pick<BillingDeps, 'db' | 'stripe'>, userId: string): Promise<BillingStatus> {
  const user = await findUserById(deps.db, userId);
  if (!user) throw new AppError('NOT_FOUND', 'User not found');
  const [customerId, subscriptions] = await Promise.all([
    findStripeCustomerId(deps.db, userId),
    listUserSubscriptions(deps.db, userId),
  ]);
  // The subscription that entitles the user, else the most recent one.
  const shown = subscriptions.find((s) => isEntitled(s.status)) ?? subscriptions[0];
  const subscription: SubscriptionView | null = shown
    ? {
        plan: shown.plan,
        status: shown.status,
        currentPeriodStart: shown.current_period_start?.toISOString() ?? null,
        currentPeriodEnd: shown.current_period_end?.toISOString() ?? null,
        cancelAtPeriodEnd: shown.cancel_at_period_end,
      }
    : null;
  return {
    configured: deps.stripe !== null,
    plan: user.plan,
    hasCustomer: Boolean(customerId),
    subscription,
    plans: planViews(),
  };
}

async function ensureCustomer(deps: BillingDeps, stripe: StripeClient, userId: string): Promise<string> {
  const existing = await findStripeCustomerId(deps.db, userId);
  if (existing) return existing;
  const user = await findUserById(deps.db, userId);
  if (!user) throw new AppError('NOT_FOUND', 'User not found');
  let created: { id: string };
  try {
    created = await stripe.customers.create(
      { email: user.email, ...(user.name ? { name: user.name } : {}), metadata: { userId } },
      { idempotencyKey: `dawg-customer-${userId}` },
    );
  } catch (err) {
    throw providerError(deps.log, err, 'creating a customer');
  }
  const stored = await setStripeCustomerId(deps.db, userId, created.id);
  return stored ?? created.id;
}

export async function createCheckoutSession(
  deps: BillingDeps,
  userId: string,
  planId: Exclude<PlanId, 'free'>,
): Promise<{ url: string }> {
  const { stripe } = deps;
  if (!stripe) throw notConfigured();
  const plan = getPlan(planId);
  const lookupKey = plan.stripeLookupKey;
  if (!lookupKey) {
    throw new AppError('BAD_REQUEST', `The ${plan.name} plan cannot be bought`, {
      details: [{ path: ['plan'], message: 'not purchasable' }],
    });
  }
  const subscriptions = await listUserSubscriptions(deps.db, userId);
  if (subscriptions.some((s) => isEntitled(s.status))) {
    throw new AppError('CONFLICT', 'You already have a subscription; change plans in the billing portal');
  }
  const customer = await ensureCustomer(deps, stripe, userId);
  let priceId: string | undefined;
  try {
    const prices = await stripe.prices.list({ lookup_keys: [lookupKey], active: true, limit: 1 });
    priceId = prices.data[0]?.id;
  } catch (err) {
    throw providerError(deps.log, err, 'finding the price');
  }
  if (!priceId) {
    deps.log.error({ lookupKey }, 'stripe: no active price with this lookup key');
    throw new AppError('SERVICE_UNAVAILABLE', `The ${plan.name} plan is not for sale right now`);
  }
  const origin = publicOrigin(deps.env);
  try {
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer,
      client_reference_id: userId,
      line_items: [{ price: priceId, quantity: 1 }],
      success_url: `${origin}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${origin}/billing?checkout=canceled`,
      metadata: { userId, plan: planId },
      subscription_data: { metadata: { userId, plan: planId } },
    });
    if (!session.url) throw new Error('checkout session without a url');
    return { url: session.url };
  } catch (err) {
    throw providerError(deps.log, err, 'creating a checkout session');
  }
}

export async function createPortalSession(deps: BillingDeps, userId: string): Promise<{ url: string }> {
  const { stripe } = deps;
  if (!stripe) throw notConfigured();
  const customer = await findStripeCustomerId(deps.db, userId);
  if (!customer) throw new AppError('NOT_FOUND', 'No billing account yet: choose a plan first');
  try {
    const session = await stripe.billingPortal.sessions.create({
      customer,
      return_url: `${publicOrigin(deps.env)}/billing`,
    });
    return { url: session.url };
  } catch (err) {
    throw providerError(deps.log, err, 'creating a portal session');
  }
}

/** An admin sets a user's plan (without Stripe, or to correct one); a later Stripe event may set it again. */
export async function adminSetUserPlan(db: Kysely<Database>, userId: string, plan: PlanId) {
  const user = await setUserPlan(db, userId, plan);
  if (!user) throw new AppError('NOT_FOUND', 'User not found');
  return { userId: user.id, plan: user.plan };
}

/**
 * `POST /api/stripe/webhook`: verify the signature on the raw bytes (before anything parses them), record the event
 * (idempotent by id), queue the job that applies it, answer. A redelivery of an event not yet processed is queued
 * again (same job id). If queueing fails the answer is 503 and Stripe retries; the row is already recorded.
 */
export async function receiveStripeWebhook(
  deps: BillingDeps,
  raw: Buffer,
  signature: string | undefined,
): Promise<{ received: true; duplicate: boolean }> {
  const secret = deps.env.STRIPE_WEBHOOK_SECRET;
  if (!secret) throw notConfigured();
  if (!signature) {
    throw new AppError('BAD_REQUEST', 'Missing Stripe-Signature header', {
      details: [{ path: ['stripe-signature'], message: 'required' }],
    });
  }
  let event: { id: string; type: string; livemode: boolean; created: number };
  try {
    event = verifyStripeWebhook(raw, signature, secret);
  } catch (err) {
    deps.log.warn({ err: (err as Error).message }, 'stripe webhook refused');
    throw new AppError('BAD_REQUEST', 'Invalid Stripe signature', {
      details: [{ path: ['stripe-signature'], message: (err as Error).message.split('\n')[0] ?? 'invalid' }],
    });
  }
  if (typeof event.id !== 'string' || !/^evt_[A-Za-z0-9_]+$/.test(event.id) || typeof event.type !== 'string') {
    throw new AppError('BAD_REQUEST', 'Not a Stripe event', { details: [{ path: ['id'], message: 'invalid' }] });
  }
  const inserted = await insertStripeEvent(deps.db, {
    id: event.id,
    type: event.type,
    livemode: event.livemode === true,
    createdAt: new Date((Number(event.created) || Math.floor(Date.now() / 1000)) * 1000),
    payload: event as unknown as JsonObject,
  });
  let failedTries = 0;
  if (!inserted) {
    const row = await findStripeEvent(deps.db, event.id);
    if (row?.processed_at) return { received: true, duplicate: true };
    failedTries = row?.attempts ?? 0;
  }
  try {
    await deps.billingQueue.enqueueStripeEvent(event.id, failedTries);
  } catch (err) {
    deps.log.error({ err, eventId: event.id }, 'queueing a stripe event failed');
    throw new AppError('SERVICE_UNAVAILABLE', 'Event recorded but not queued; retry', { cause: err });
  }
  return { received: true, duplicate: !inserted };
}
