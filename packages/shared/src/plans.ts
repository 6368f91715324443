/**
 * Plans and their entitlements, as data. Quota checks, budget defaults, billing pages and the Stripe mapping all read
 * this table; a plan's AI budget is the default monthly limit when a user has set no budget of their own.
 */
import { z } from 'zod';
import { usdToMicro } from './prices';

export const PLAN_IDS = ['free', 'pro', 'studio'] as const;
export const planIdSchema = z.enum(PLAN_IDS);
export type PlanId = z.infer<typeof planIdSchema>;

export const PLAN_FEATURES = [
  'chat_to_create',
  'voice_control',
  'ai_mixing',
  'collaboration',
  'uploads',
  'wav_export',
  'stem_export',
  'api_access',
  'priority_queue',
  'commercial_license',
] as const;
export const planFeatureSchema = z.enum(PLAN_FEATURES);
export type PlanFeature = z.infer<typeof planFeatureSchema>;

export interface Plan {
  id: PlanId;
  name: string;
  /** Price of one month in US cents (Stripe's unit). */
  monthlyPriceCents: number;
  /** Stripe price lookup key; null for the free plan, which has no subscription. */
  stripeLookupKey: string | null;
  generationsPerMonth: number;
  aiBudgetUsd: number;
  /** aiBudgetUsd in micro-dollars, the ledger's unit. */
  aiBudgetMicroUsd: number;
  maxSongSeconds: number;
  concurrentJobs: number;
  /** Storage for uploads and generated audio. */
  storageBytes: number;
  maxProjects: number;
  features: readonly PlanFeature[];
}

const GiB = 1024 * 1024 * 1024;

function plan(p: Omit<Plan, 'aiBudgetMicroUsd'>): Plan {
  return Object.freeze({ ...p, aiBudgetMicroUsd: usdToMicro(p.aiBudgetUsd), features: Object.freeze([...p.features]) });
}

export const PLANS: Readonly<Record<PlanId, Plan>> = {
  free: plan({
    id: 'free',
    name: 'Free',
    monthlyPriceCents: 0,
    stripeLookupKey: null,
    generationsPerMonth: 10,
    aiBudgetUsd: 1,
    maxSongSeconds: 60,
    concurrentJobs: 1,
    storageBytes: 1 * GiB,
    maxProjects: 3,
    features: ['chat_to_create', 'uploads'],
  }),
  pro: plan({
    id: 'pro',
    name: 'Pro',
    monthlyPriceCents: 2900,
    stripeLookupKey: 'dawg_pro_monthly',
    generationsPerMonth: 200,
    aiBudgetUsd: 20,
    maxSongSeconds: 240,
    concurrentJobs: 3,
    storageBytes: 50 * GiB,
    maxProjects: 100,
    features: ['chat_to_create', 'voice_control', 'ai_mixing', 'collaboration', 'uploads', 'wav_export', 'api_access'],
  }),
  studio: plan({
    id: 'studio',
    name: 'Studio',
    monthlyPriceCents: 9900,
    stripeLookupKey: 'dawg_studio_monthly',
    generationsPerMonth: 1000,
    aiBudgetUsd: 100,
    maxSongSeconds: 300,
    concurrentJobs: 6,
    storageBytes: 500 * GiB,
    maxProjects: 1000,
    features: [...PLAN_FEATURES],
  }),
};

export function getPlan(id: PlanId): Plan {
  return PLANS[id];
}

export function hasFeature(planId: PlanId, feature: PlanFeature): boolean {
  return PLANS[planId].features.includes(feature);
}

/** The plan a Stripe price lookup key buys, if any. */
export function planForLookupKey(lookupKey: string): Plan | undefined {
  return Object.values(PLANS).find((p) => p.stripeLookupKey === lookupKey);
}

/** Stripe subscription statuses (the `subscriptions.status` column). */
export const SUBSCRIPTION_STATUSES = [
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'canceled',
  'unpaid',
  'paused',
] as const;
export const subscriptionStatusSchema = z.enum(SUBSCRIPTION_STATUSES);
export type SubscriptionStatus = z.infer<typeof subscriptionStatusSchema>;

/** Statuses under which the subscribed plan's entitlements apply; anything else falls back to free. */
export const ENTITLED_SUBSCRIPTION_STATUSES = [
  'trialing',
  'active',
  'past_due',
] as const satisfies readonly SubscriptionStatus[];

export function isEntitled(status: SubscriptionStatus): boolean {
  return (ENTITLED_SUBSCRIPTION_STATUSES as readonly SubscriptionStatus[]).includes(status);
}
