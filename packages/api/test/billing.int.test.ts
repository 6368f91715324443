/**
 * Billing end to end with the real `stripe` SDK against the local Stripe server (packages/testing fakes/stripe):
 * checkout through `billing.createCheckoutSession`, the completed checkout's events signed with
 * `webhooks.generateTestHeaderString` and delivered to `POST /api/stripe/webhook`, applied by the real
 * `billing.stripe-event` job in an in-process worker → the plan changes and generation admission sees the new quota.
 * Then 200 events, each delivered 3 times in shuffled order: exactly 200 rows, every delivery 2xx, and every user's
 * plan equal to what the fake's subscription says. Bad signatures (tampered body, wrong secret, old timestamp) → 400.
 */
import { countStripeEvents, insertGeneration } from '@dawg/db';
import { isEntitled, planForLookupKey, type PlanId, type SubscriptionStatus } from '@dawg/shared';
import type { WorkerApp } from '@dawg/worker';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  type FakeStripe,
  type FakeStripeEvent,
  flushPrefix,
  startFakeStripe,
  startS3Server,
  uniqueRedisPrefix,
  waitFor,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, rest, startApi, trpcMutation, trpcQuery, type TestApi } from './helpers/api';
import { httpClient, startWorker } from './helpers/generation';

const SECRET_KEY = 'sk_test_billing_suite';
const WEBHOOK_SECRET = 'whsec_billing_suite_secret';

let database: TestDatabase;
let s3server: S3ServerHandle;
let fake: FakeStripe;
let api: TestApi;
let worker: WorkerApp | undefined;
let sdk: Stripe;
const prefix = uniqueRedisPrefix('billing');

beforeAll(async () => {
  [database, s3server, fake] = await Promise.all([createTestDatabase(), startS3Server(), startFakeStripe()]);
  const stripeEnv = { STRIPE_SECRET_KEY: SECRET_KEY, STRIPE_API_BASE_URL: fake.url };
  api = await startApi({
    database,
    prefix,
    s3: s3server,
    overrides: {
      ...stripeEnv,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      STRIPE_PUBLISHABLE_KEY: 'pk_test_billing_suite',
      MUSIC_PROVIDER: 'test',
      WHITELISTED_IPS: '127.0.0.1',
      PUBLIC_URL: 'http://studio.test',
    },
  });
  worker = await startWorker({ database, prefix, s3: s3server, overrides: { ...stripeEnv, WORKER_CONCURRENCY: '4' } });
  sdk = new Stripe(SECRET_KEY, { host: fake.host, port: fake.port, protocol: 'http' });
});

afterAll(async () => {
  await worker?.close(2_000);
  await api?.close();
  await flushPrefix(defaultRedisUrl(), prefix);
  await fake?.close();
  await s3server?.stop();
  await database?.drop();
});

function sign(payload: string, opts: { secret?: string; timestamp?: number } = {}): string {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: opts.secret ?? WEBHOOK_SECRET,
    ...(opts.timestamp === undefined ? {} : { timestamp: opts.timestamp }),
  });
}

async function deliver(event: FakeStripeEvent, opts: { secret?: string; timestamp?: number; body?: string } = {}) {
  const payload = JSON.stringify(event, null, 2);
  const res = await fetch(`${api.base}/api/stripe/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', 'stripe-signature': sign(payload, opts) },
    body: opts.body ?? payload,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function planOf(userId: string): Promise<PlanId> {
  const row = await database.db.selectFrom('users').select('plan').where('id', '=', userId).executeTakeFirstOrThrow();
  return row.plan;
}

async function allProcessed(count: number) {
  return waitFor(
    async () => {
      const { total, processed } = await countStripeEvents(database.db);
      return total === count && processed === count ? { total, processed } : undefined;
    },
    { timeoutMs: 60_000, description: `${count} stripe events processed` },
  );
}

/** What the fake's subscription entitles its user to, by the same rules as ours. */
function expectedPlan(sub: Record<string, any>): PlanId {
  if (!isEntitled(sub.status as SubscriptionStatus)) return 'free';
  return planForLookupKey(sub.items.data[0].price.lookup_key as string)?.id ?? 'free';
}

/** Fills a user's monthly quota with generations already made this month. */
async function useQuota(userId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    // Queued rows count against the quota like finished ones (the sweeper may run them later; that changes nothing).
    await insertGeneration(database.db, {
      ownerId: userId,
      projectId: null,
      kind: 'song',
      prompt: `earlier take ${i}`,
      params: { mode: 'simple', prompt: 'x', instrumental: true, durationSec: 10, seed: 1, variants: 1 },
      provider: 'test',
      model: 'test-tone-1',
      estimatedCostMicro: 0,
      idempotencyKey: null,
    });
  }
}

describe('checkout → webhook → plan', () => {
  it('turns a completed checkout into the Pro plan, and admission sees the Pro quota', async () => {
    const { user, token } = await createUser(database.db);
    await useQuota(user.id, 10); // the Free plan's 10 generations this month
    const client = httpClient(api.base, token);
    const refused = await client.generation.create
      .mutate({ prompt: 'one more', duration: 10 })
      .catch((err: { data?: { code?: string }; message: string }) => err);
    expect((refused as { data?: { code?: string } }).data?.code).toBe('PAYMENT_REQUIRED');
    expect((refused as { message: string }).message).toMatch(/Monthly generation quota reached/);

    const before = await client.billing.get.query();
    expect(before).toMatchObject({ configured: true, plan: 'free', hasCustomer: false, subscription: null });

    const { url } = await client.billing.createCheckoutSession.mutate({ plan: 'pro' });
    const sessionId = /\/checkout\/(cs_test_[0-9a-f]+)$/.exec(url)?.[1];
    expect(sessionId).toBeDefined();
    const session = fake.checkoutSessions.get(sessionId!)!;
    // One customer per user, stored before checkout; subscription mode, the price found by its lookup key.
    const stored = await database.db
      .selectFrom('users')
      .select('stripe_customer_id')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(session).toMatchObject({
      mode: 'subscription',
      customer: stored.stripe_customer_id,
      client_reference_id: user.id,
      success_url: 'http://studio.test/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}',
    });
    expect(fake.prices.get(session.__price as string)?.lookup_key).toBe('dawg_pro_monthly');
    // A second checkout reuses the customer.
    await client.billing.createCheckoutSession.mutate({ plan: 'studio' });
    expect(fake.customers.size).toBe(1);

    const events = fake.completeCheckout(sessionId!);
    const wanted = events.filter((e) => e.type === 'checkout.session.completed' || e.type.startsWith('customer.'));
    expect(wanted.map((e) => e.type)).toEqual(['checkout.session.completed', 'customer.subscription.created']);
    for (const event of wanted) expect((await deliver(event)).status).toBe(200);
    await waitFor(async () => (await planOf(user.id)) === 'pro', { timeoutMs: 20_000, description: 'plan pro' });

    const after = await client.billing.get.query();
    const item = fake.subscriptions.get(session.subscription as string)!.items.data[0];
    expect(after).toMatchObject({
      plan: 'pro',
      hasCustomer: true,
      subscription: {
        plan: 'pro',
        status: 'active',
        cancelAtPeriodEnd: false,
        currentPeriodStart: new Date(item.current_period_start * 1000).toISOString(),
        currentPeriodEnd: new Date(item.current_period_end * 1000).toISOString(),
      },
    });
    // The quota follows the plan: the 11th generation of the month is admitted now.
    const admitted = await client.generation.create.mutate({ prompt: 'one more', duration: 10 });
    expect(admitted.status).toBe('queued');

    // The portal link goes to Stripe for this customer.
    const portal = await client.billing.createPortalSession.mutate();
    expect(portal.url).toMatch(new RegExp(`^${fake.url}/portal/bps_`));
    // Already subscribed: a second checkout is refused (plans change in the portal).
    const again = await trpcMutation(api.base, 'billing.createCheckoutSession', { plan: 'studio' }, bearer(token));
    expect(again.body.error.data.code).toBe('CONFLICT');
  });

  it('follows an invoice event to its subscription under parent.subscription_details (API 2026-10-28)', async () => {
    const { user } = await createUser(database.db);
    const customer = await sdk.customers.create({ email: user.email });
    await database.db.updateTable('users').set({ stripe_customer_id: customer.id }).where('id', '=', user.id).execute();
    const { subscription } = fake.createSubscription({ customer: customer.id, lookupKey: 'dawg_studio_monthly' });
    // Only the renewal's events arrive (the creation event is lost): the plan still follows the subscription.
    const events = fake.payRenewal(subscription.id as string);
    const invoice = events.find((e) => e.type === 'invoice.payment_succeeded')!;
    expect(invoice.data.object.parent.subscription_details.subscription).toBe(subscription.id);
    expect(invoice.data.object.subscription).toBeUndefined();
    expect((await deliver(invoice)).status).toBe(200);
    await waitFor(async () => (await planOf(user.id)) === 'studio', { timeoutMs: 20_000, description: 'studio' });
  });
});

describe('webhook delivery', () => {
  it('records 200 events once each from 600 shuffled deliveries and ends in the fake subscriptions state', async () => {
    const before = await countStripeEvents(database.db);
    const USERS = 40;
    const users: { id: string; subscriptionId: string }[] = [];
    const events: FakeStripeEvent[] = [];
    for (let i = 0; i < USERS; i += 1) {
      const { user } = await createUser(database.db);
      const customer = await sdk.customers.create({ email: user.email, metadata: { userId: user.id } });
      await database.db
        .updateTable('users')
        .set({ stripe_customer_id: customer.id })
        .where('id', '=', user.id)
        .execute();
      // Five events per user: created (pro), upgraded to studio, a failed renewal (2 events), then either the
      // subscription ends or it moves back to pro while past due.
      const created = fake.createSubscription({ customer: customer.id, lookupKey: 'dawg_pro_monthly' });
      const id = created.subscription.id as string;
      events.push(...created.events);
      events.push(...fake.updateSubscription(id, { lookupKey: 'dawg_studio_monthly' }));
      events.push(...fake.failPayment(id));
      events.push(
        ...(i % 2 === 0 ? fake.cancelSubscription(id) : fake.updateSubscription(id, { lookupKey: 'dawg_pro_monthly' })),
      );
      users.push({ id: user.id, subscriptionId: id });
    }
    expect(events).toHaveLength(200);

    // Each event three times, all 600 deliveries shuffled (seeded, so a failure can be replayed).
    const deliveries = events.flatMap((e) => [e, e, e]);
    let seed = 0x2f6e2b1;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = deliveries.length - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
    }
    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < deliveries.length) {
          const event = deliveries[next++]!;
          statuses.push((await deliver(event)).status);
        }
      }),
    );
    expect(statuses).toHaveLength(600);
    expect(statuses.filter((s) => s < 200 || s >= 300)).toEqual([]);

    await allProcessed(before.total + 200);
    const rows = await database.db
      .selectFrom('stripe_events')
      .select(['id', 'error'])
      .where(
        'id',
        'in',
        events.map((e) => e.id),
      )
      .execute();
    expect(rows).toHaveLength(200);
    expect(rows.filter((r) => r.error !== null)).toEqual([]);

    for (const { id, subscriptionId } of users) {
      const sub = fake.subscriptions.get(subscriptionId)!;
      expect(await planOf(id), `plan of ${id}`).toBe(expectedPlan(sub));
      const mirrored = await database.db
        .selectFrom('subscriptions')
        .select(['status', 'plan', 'stripe_price_id'])
        .where('stripe_subscription_id', '=', subscriptionId)
        .executeTakeFirstOrThrow();
      expect(mirrored).toEqual({
        status: sub.status,
        plan: planForLookupKey(sub.items.data[0].price.lookup_key as string)!.id,
        stripe_price_id: sub.items.data[0].price.id,
      });
    }
    // Both endings occurred: half the users are back on free, half on pro while past due.
    const plans = await Promise.all(users.map((u) => planOf(u.id)));
    expect(plans.filter((p) => p === 'free')).toHaveLength(USERS / 2);
    expect(plans.filter((p) => p === 'pro')).toHaveLength(USERS / 2);
  });

  it('refuses a tampered body, a wrong secret, an old timestamp and a missing signature with 400, recording nothing', async () => {
    const { user } = await createUser(database.db);
    const customer = await sdk.customers.create({ email: user.email });
    const [event] = fake.createSubscription({ customer: customer.id, lookupKey: 'dawg_pro_monthly' }).events;
    const before = await countStripeEvents(database.db);

    const payload = JSON.stringify(event, null, 2);
    const tampered = payload.replace('"status": "active"', '"status": "trialing"');
    expect(tampered).not.toBe(payload);
    const answers = [
      await deliver(event!, { body: tampered }),
      await deliver(event!, { secret: 'whsec_not_the_endpoint_secret' }),
      await deliver(event!, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('Invalid Stripe signature');
    }
    const unsigned = await rest(api.base, 'POST', '/api/stripe/webhook', { body: payload });
    expect(unsigned.status).toBe(400);
    expect(await countStripeEvents(database.db)).toEqual(before);

    // The same event, correctly signed and inside the tolerance, is accepted (so the refusals were the signature's).
    expect((await deliver(event!, { timestamp: Math.floor(Date.now() / 1000) - 200 })).status).toBe(200);
    expect((await countStripeEvents(database.db)).total).toBe(before.total + 1);
  });
});

describe('when Stripe is down', () => {
  it('answers the webhook, records why the job failed, and applies the event once Stripe is back', async () => {
    const { user } = await createUser(database.db);
    const customer = await sdk.customers.create({ email: user.email });
    await database.db.updateTable('users').set({ stripe_customer_id: customer.id }).where('id', '=', user.id).execute();
    const [event] = fake.createSubscription({ customer: customer.id, lookupKey: 'dawg_studio_monthly' }).events;
    fake.setFailing(true);
    try {
      expect((await deliver(event!)).status).toBe(200);
      const failed = await waitFor(
        async () => {
          const row = await database.db
            .selectFrom('stripe_events')
            .select(['attempts', 'error', 'processed_at'])
            .where('id', '=', event!.id)
            .executeTakeFirst();
          return row && row.attempts > 0 ? row : undefined;
        },
        { timeoutMs: 30_000, description: 'a failed try recorded' },
      );
      expect(failed.processed_at).toBeNull();
      expect(failed.error).toMatch(/error/i);
      expect(await planOf(user.id)).toBe('free');
    } finally {
      fake.setFailing(false);
    }
    // BullMQ's retry (or Stripe's redelivery) applies it.
    expect((await deliver(event!)).status).toBe(200);
    await waitFor(async () => (await planOf(user.id)) === 'studio', { timeoutMs: 30_000, description: 'plan studio' });
  });
});

describe('without Stripe keys', () => {
  it('says billing is not configured, and an admin sets the plan', async () => {
    const bare = await startApi({ database, label: 'billing-bare' });
    try {
      const { user, token } = await createUser(database.db);
      const { token: adminToken } = await createUser(database.db, { role: 'admin' });
      const status = await trpcQuery(bare.base, 'billing.get', undefined, bearer(token));
      expect(status.body.result.data).toMatchObject({ configured: false, plan: 'free' });
      const checkout = await trpcMutation(bare.base, 'billing.createCheckoutSession', { plan: 'pro' }, bearer(token));
      expect(checkout.status).toBe(503);
      expect(checkout.body.error.message).toBe('Billing is not configured on this server');
      const webhook = await rest(bare.base, 'POST', '/api/stripe/webhook', { body: '{}' });
      expect(webhook.status).toBe(503);

      const denied = await trpcMutation(
        bare.base,
        'admin.setUserPlan',
        { userId: user.id, plan: 'studio' },
        bearer(token),
      );
      expect(denied.body.error.data.code).toBe('FORBIDDEN');
      const set = await trpcMutation(
        bare.base,
        'admin.setUserPlan',
        { userId: user.id, plan: 'studio' },
        bearer(adminToken),
      );
      expect(set.body.result.data).toEqual({ userId: user.id, plan: 'studio' });
      expect(await planOf(user.id)).toBe('studio');
    } finally {
      await bare.close();
    }
  });
});
