/**
 * Billing and cost monitoring: the inputs and answers of `billing.*`, `usage.*`, `userBudget.*`, the Stripe client
 * settings, and the budget alert thresholds. Amounts are integer micro-dollars unless a name says USD.
 */
import { z } from 'zod';
import { planIdSchema, subscriptionStatusSchema } from './plans';
import { providerSchema, usageKindSchema } from './prices';

// ---- Stripe client settings ----------------------------------------------------------------------------------------

/**
 * Where the Stripe SDK sends its requests. STRIPE_API_BASE_URL (`http://127.0.0.1:12111`) is parsed into the SDK's
 * `{ host, port, protocol }`, so tests and local development can point the real SDK at a local server; unset means
 * api.stripe.com. STRIPE_API_HOST (a bare host name, https on 443) is accepted too.
 */
export function stripeClientConfig(env: {
  STRIPE_API_BASE_URL?: string | undefined;
  STRIPE_API_HOST?: string | undefined;
}): { host?: string; port?: number; protocol?: 'http' | 'https' } {
  if (env.STRIPE_API_BASE_URL) {
    const url = new URL(env.STRIPE_API_BASE_URL);
    const protocol = url.protocol === 'http:' ? 'http' : 'https';
    const port = url.port ? Number(url.port) : protocol === 'http' ? 80 : 443;
    return { host: url.hostname, port, protocol };
  }
  if (env.STRIPE_API_HOST) return { host: env.STRIPE_API_HOST, port: 443, protocol: 'https' };
  return {};
}

/** Stripe's default signature tolerance: a signed webhook older than this is refused. */
export const STRIPE_WEBHOOK_TOLERANCE_SEC = 300;

/** The events the webhook acts on (seed post-deploy 5.1); others are recorded and marked processed. */
export const STRIPE_HANDLED_EVENTS = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.payment_succeeded',
  'invoice.payment_failed',
] as const;

// ---- billing.* ------------------------------------------------------------------------------------------------------

/** Plans that can be bought (free has no subscription). */
export const paidPlanIdSchema = z.enum(['pro', 'studio']);

export const createCheckoutSessionInputSchema = z.object({ plan: paidPlanIdSchema });
export const billingRedirectSchema = z.object({ url: z.string().url() });

export const subscriptionViewSchema = z.object({
  plan: planIdSchema,
  status: subscriptionStatusSchema,
  currentPeriodStart: z.string().nullable(),
  currentPeriodEnd: z.string().nullable(),
  cancelAtPeriodEnd: z.boolean(),
});
export type SubscriptionView = z.infer<typeof subscriptionViewSchema>;

export const planViewSchema = z.object({
  id: planIdSchema,
  name: z.string(),
  monthlyPriceCents: z.number().int(),
  generationsPerMonth: z.number().int(),
  aiBudgetMicro: z.number().int(),
  maxSongSeconds: z.number().int(),
  purchasable: z.boolean(),
});

export const billingStatusSchema = z.object({
  /** False without STRIPE_SECRET_KEY: the page says billing is not configured, and admins set plans. */
  configured: z.boolean(),
  plan: planIdSchema,
  /** Whether the caller has a Stripe customer (the portal link needs one). */
  hasCustomer: z.boolean(),
  subscription: subscriptionViewSchema.nullable(),
  plans: z.array(planViewSchema),
});
export type BillingStatus = z.infer<typeof billingStatusSchema>;

export const setUserPlanInputSchema = z.object({ userId: z.uuid(), plan: planIdSchema });

// ---- budgets ------------------------------------------------------------------------------------------------------

/** Alert thresholds, in percent of the monthly limit; each fires at most once per period. */
export const BUDGET_ALERT_THRESHOLDS = [80, 100] as const;

/** `userBudget.upsert` (the seed's `userBudget.upsert`): null = back to the plan's default limit. */
export const upsertBudgetInputSchema = z.object({
  userId: z.uuid(),
  monthlyLimitUsd: z.number().min(0).max(1_000_000).nullable(),
  hardLimit: z.boolean().optional(),
});

export const budgetViewSchema = z.object({
  userId: z.uuid(),
  /** The limit in force. */
  limitMicro: z.number().int(),
  /** 'custom' when an admin set a limit, else the plan's default. */
  source: z.enum(['custom', 'plan']),
  hardLimit: z.boolean(),
  spentMicro: z.number().int(),
  heldMicro: z.number().int(),
  periodStart: z.string(),
  lastAlertPct: z.number().int().nullable(),
});
export type BudgetView = z.infer<typeof budgetViewSchema>;

export const getBudgetInputSchema = z.object({ userId: z.uuid() });

// ---- usage.* / cost monitoring ------------------------------------------------------------------------------------

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date (YYYY-MM-DD)');

export const usageDaySchema = z.object({ day: z.string(), costMicro: z.number().int(), calls: z.number().int() });
export const usageKindTotalSchema = z.object({
  kind: usageKindSchema,
  costMicro: z.number().int(),
  calls: z.number().int(),
});
export const usageModelTotalSchema = z.object({
  provider: providerSchema,
  model: z.string(),
  costMicro: z.number().int(),
  calls: z.number().int(),
});
export const usageEventViewSchema = z.object({
  id: z.uuid(),
  occurredAt: z.string(),
  provider: providerSchema,
  model: z.string(),
  kind: usageKindSchema,
  costMicro: z.number().int(),
  generationId: z.uuid().nullable(),
  conversationId: z.uuid().nullable(),
});

/** The caller's own usage this period against their plan and budget (GET /api/cost-monitoring/usage). */
export const usageSummarySchema = z.object({
  periodStart: z.string(),
  periodEnd: z.string(),
  plan: planViewSchema,
  budget: z.object({
    limitMicro: z.number().int(),
    source: z.enum(['custom', 'plan']),
    hardLimit: z.boolean(),
    spentMicro: z.number().int(),
    heldMicro: z.number().int(),
    /** (spent + held) / limit, in percent (0 when the limit is 0 and nothing was spent). */
    usedPct: z.number(),
  }),
  generations: z.object({ used: z.number().int(), quota: z.number().int() }),
  totalMicro: z.number().int(),
  byDay: z.array(usageDaySchema),
  byKind: z.array(usageKindTotalSchema),
  byModel: z.array(usageModelTotalSchema),
  recent: z.array(usageEventViewSchema),
});
export type UsageSummary = z.infer<typeof usageSummarySchema>;

/** Admin filters of the breakdown (GET /api/cost-monitoring/breakdown); days are UTC and `to` is inclusive. */
export const usageBreakdownInputSchema = z.object({
  from: isoDay.optional(),
  to: isoDay.optional(),
  userId: z.uuid().optional(),
  provider: providerSchema.optional(),
  model: z.string().min(1).max(200).optional(),
  kind: usageKindSchema.optional(),
  limit: z.coerce.number().int().min(1).max(5_000).default(1_000),
});
export type UsageBreakdownInput = z.infer<typeof usageBreakdownInputSchema>;

export const usageBreakdownRowSchema = z.object({
  day: z.string(),
  userId: z.uuid(),
  email: z.string().nullable(),
  provider: providerSchema,
  model: z.string(),
  kind: usageKindSchema,
  calls: z.number().int(),
  costMicro: z.number().int(),
});
export type UsageBreakdownRow = z.infer<typeof usageBreakdownRowSchema>;

export const usageBreakdownSchema = z.object({
  from: z.string(),
  to: z.string(),
  totalMicro: z.number().int(),
  calls: z.number().int(),
  rows: z.array(usageBreakdownRowSchema),
  /** True when more groups matched than `limit` (totals still cover everything). */
  truncated: z.boolean(),
  byUser: z.array(
    z.object({ userId: z.uuid(), email: z.string().nullable(), calls: z.number().int(), costMicro: z.number().int() }),
  ),
  byDay: z.array(usageDaySchema),
  byKind: z.array(usageKindTotalSchema),
  byModel: z.array(usageModelTotalSchema),
});
export type UsageBreakdown = z.infer<typeof usageBreakdownSchema>;

/** What a generation would cost before it is asked for (`usage.estimateGeneration`). */
export const costEstimateSchema = z.object({
  provider: providerSchema,
  model: z.string(),
  estimatedCostMicro: z.number().int(),
  estimatedTimeSec: z.number(),
  /** What the budget leaves after spent + held; null when the limit is not enforced. */
  remainingMicro: z.number().int().nullable(),
  /** Whether the budget admits it now. */
  withinBudget: z.boolean(),
});
export type CostEstimate = z.infer<typeof costEstimateSchema>;

// ---- notifications --------------------------------------------------------------------------------------------------

export const notificationViewSchema = z.object({
  id: z.uuid(),
  kind: z.string(),
  title: z.string(),
  body: z.string(),
  payload: z.record(z.string(), z.unknown()),
  readAt: z.string().nullable(),
  createdAt: z.string(),
});
export type NotificationView = z.infer<typeof notificationViewSchema>;

export const listNotificationsInputSchema = z.object({
  unreadOnly: z.boolean().default(false),
  limit: z.number().int().min(1).max(100).default(20),
});
export const markNotificationsReadInputSchema = z.object({ ids: z.array(z.uuid()).min(1).max(100) });
