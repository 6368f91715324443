/**
 * Reading Stripe objects of the pinned API version (2026-10-28): an invoice names its subscription under
 * `parent.subscription_details`, periods come from the subscription items, and the plan from the price's lookup key.
 */
import { describe, expect, it } from 'vitest';
import { readSubscription, refsOf } from '../src/billing/stripe-sync';

const subscription = {
  id: 'sub_1',
  object: 'subscription',
  customer: 'cus_1',
  status: 'active',
  cancel_at_period_end: true,
  canceled_at: null,
  metadata: { userId: '9d7f0c3e-5b1a-4c2d-8e9f-0a1b2c3d4e5f', plan: 'studio' },
  items: {
    object: 'list',
    data: [
      {
        id: 'si_1',
        current_period_start: 1_764_000_000,
        current_period_end: 1_766_592_000,
        price: { id: 'price_pro', lookup_key: 'dawg_pro_monthly' },
      },
    ],
  },
};

describe('stripe sync: object shapes', () => {
  it('finds the subscription of an invoice under parent.subscription_details, and under the old field', () => {
    const invoice = {
      object: 'invoice',
      customer: 'cus_1',
      parent: {
        type: 'subscription_details',
        subscription_details: { subscription: 'sub_1', metadata: { userId: 'u' } },
      },
    };
    expect(refsOf('invoice.payment_failed', invoice)).toEqual({
      subscriptionId: 'sub_1',
      customerId: 'cus_1',
      userHint: 'u',
    });
    expect(refsOf('invoice.payment_succeeded', { customer: 'cus_1', subscription: 'sub_old' })?.subscriptionId).toBe(
      'sub_old',
    );
  });

  it('reads checkout sessions in subscription mode only, and expanded ids', () => {
    expect(
      refsOf('checkout.session.completed', {
        mode: 'subscription',
        subscription: { id: 'sub_2' },
        customer: 'cus_2',
        client_reference_id: 'user-2',
      }),
    ).toEqual({ subscriptionId: 'sub_2', customerId: 'cus_2', userHint: 'user-2' });
    expect(refsOf('checkout.session.completed', { mode: 'payment' })).toBeNull();
    expect(refsOf('customer.created', { id: 'cus_3' })).toBeNull();
  });

  it('takes periods from the items and the plan from the lookup key (metadata only as a fallback)', () => {
    expect(readSubscription(subscription)).toEqual({
      id: 'sub_1',
      customerId: 'cus_1',
      status: 'active',
      priceId: 'price_pro',
      plan: 'pro',
      currentPeriodStart: new Date(1_764_000_000 * 1000),
      currentPeriodEnd: new Date(1_766_592_000 * 1000),
      cancelAtPeriodEnd: true,
      canceledAt: null,
    });
    const unknownPrice = {
      ...subscription,
      items: { data: [{ ...subscription.items.data[0], price: { id: 'price_x', lookup_key: 'legacy' } }] },
    };
    expect(readSubscription(unknownPrice).plan).toBe('studio');
    expect(readSubscription({ ...unknownPrice, metadata: {} }).plan).toBe('free');
  });
});
