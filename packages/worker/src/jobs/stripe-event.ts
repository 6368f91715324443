/**
 * `billing.stripe-event`: applies one recorded Stripe webhook event (the api verified its signature and stored it in
 * `stripe_events` before answering Stripe). Idempotent: a processed event is skipped, and what is written is derived
 * from the subscription as Stripe has it now (see billing/stripe-sync).
 */
import { JOB_NAMES, QUEUE_NAMES, stripeClientConfig, stripeEventJobSchema, type WorkerEnv } from '@dawg/shared';
import { markStripeEventFailed } from '@dawg/db';
import Stripe from 'stripe';
import { applyStripeEvent, stripeSubscriptionSource, type SubscriptionSource } from '../billing/stripe-sync';
import { defineJob } from '../registry';

const sources = new WeakMap<WorkerEnv, SubscriptionSource | null>();

function sourceFor(env: WorkerEnv): SubscriptionSource | null {
  if (!sources.has(env)) {
    const stripe = env.STRIPE_SECRET_KEY
      ? new Stripe(env.STRIPE_SECRET_KEY, { ...stripeClientConfig(env), maxNetworkRetries: 2, timeout: 20_000 })
      : null;
    sources.set(env, stripe ? stripeSubscriptionSource(stripe) : null);
  }
  return sources.get(env) ?? null;
}

export const stripeEventJob = defineJob({
  name: JOB_NAMES.stripeEvent,
  queue: QUEUE_NAMES.billing,
  schema: stripeEventJobSchema,
  handler: async ({ eventId }, { db, env, log }) => {
    try {
      const outcome = await applyStripeEvent(db, sourceFor(env), eventId, log);
      log.info({ eventId, outcome }, 'stripe event handled');
      return { outcome };
    } catch (err) {
      // Counted on the row (a redelivery after the job gave up queues a fresh one) and retried by BullMQ.
      await markStripeEventFailed(db, eventId, err instanceof Error ? err.message : String(err)).catch(() => undefined);
      throw err;
    }
  },
});
