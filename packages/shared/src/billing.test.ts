import { describe, expect, it } from 'vitest';
import { stripeClientConfig, usageBreakdownInputSchema, upsertBudgetInputSchema } from './billing';

describe('billing', () => {
  it('turns STRIPE_API_BASE_URL into the SDK host, port and protocol', () => {
    expect(stripeClientConfig({ STRIPE_API_BASE_URL: 'http://127.0.0.1:12111' })).toEqual({
      host: '127.0.0.1',
      port: 12111,
      protocol: 'http',
    });
    expect(stripeClientConfig({ STRIPE_API_BASE_URL: 'https://stripe.internal' })).toEqual({
      host: 'stripe.internal',
      port: 443,
      protocol: 'https',
    });
    expect(stripeClientConfig({ STRIPE_API_HOST: 'api.example.com' })).toEqual({
      host: 'api.example.com',
      port: 443,
      protocol: 'https',
    });
    expect(stripeClientConfig({})).toEqual({});
  });

  it('validates breakdown filters and budgets', () => {
    expect(usageBreakdownInputSchema.parse({ limit: '10', kind: 'chat' })).toEqual({ limit: 10, kind: 'chat' });
    expect(usageBreakdownInputSchema.safeParse({ from: '2026-13' }).success).toBe(false);
    const id = '5a7f3c1e-8d2b-4f6a-9c0e-1b2d3e4f5a6b';
    expect(upsertBudgetInputSchema.parse({ userId: id, monthlyLimitUsd: null })).toEqual({
      userId: id,
      monthlyLimitUsd: null,
    });
    expect(upsertBudgetInputSchema.safeParse({ userId: id, monthlyLimitUsd: -1 }).success).toBe(false);
  });
});
