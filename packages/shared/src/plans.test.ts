import { describe, expect, it } from 'vitest';
import { LIMITS } from './constants';
import { PLANS, PLAN_IDS, getPlan, hasFeature, isEntitled, planForLookupKey } from './plans';

describe('plans', () => {
  it('has the agreed entitlements', () => {
    expect(getPlan('free')).toMatchObject({
      generationsPerMonth: 10,
      aiBudgetUsd: 1,
      maxSongSeconds: 60,
      concurrentJobs: 1,
    });
    expect(getPlan('pro')).toMatchObject({
      generationsPerMonth: 200,
      aiBudgetUsd: 20,
      maxSongSeconds: 240,
      concurrentJobs: 3,
    });
    expect(getPlan('studio')).toMatchObject({
      generationsPerMonth: 1000,
      aiBudgetUsd: 100,
      maxSongSeconds: 300,
      concurrentJobs: 6,
    });
    expect(getPlan('pro').aiBudgetMicroUsd).toBe(20_000_000);
  });

  it('grows monotonically from free to studio and stays within the global limits', () => {
    const keys = [
      'generationsPerMonth',
      'aiBudgetUsd',
      'maxSongSeconds',
      'concurrentJobs',
      'monthlyPriceCents',
    ] as const;
    for (let i = 1; i < PLAN_IDS.length; i++) {
      const lower = PLANS[PLAN_IDS[i - 1]!];
      const higher = PLANS[PLAN_IDS[i]!];
      for (const k of keys) expect(higher[k]).toBeGreaterThan(lower[k]);
      for (const f of lower.features) expect(higher.features).toContain(f);
    }
    for (const id of PLAN_IDS) expect(PLANS[id].maxSongSeconds).toBeLessThanOrEqual(LIMITS.DURATION_MAX_SEC);
  });

  it('answers feature and Stripe lookups', () => {
    expect(hasFeature('free', 'api_access')).toBe(false);
    expect(hasFeature('studio', 'api_access')).toBe(true);
    expect(planForLookupKey('dawg_pro_monthly')?.id).toBe('pro');
    expect(planForLookupKey('nope')).toBeUndefined();
    expect(isEntitled('active')).toBe(true);
    expect(isEntitled('canceled')).toBe(false);
  });
});
