/**
 * The api's Stripe client: null without STRIPE_SECRET_KEY (billing is then "not configured" and admins set plans).
 * STRIPE_API_BASE_URL points the SDK at a local Stripe-compatible server (tests, local development). The SDK's own
 * pinned API version is used (2026-10-28 for stripe@23.1.0).
 */
import { type ApiEnv, STRIPE_WEBHOOK_TOLERANCE_SEC, stripeClientConfig } from '@dawg/shared';
import Stripe from 'stripe';

export type StripeClient = Stripe;

export function createStripeClient(env: ApiEnv): Stripe | null {
  if (!env.STRIPE_SECRET_KEY) return null;
  return new Stripe(env.STRIPE_SECRET_KEY, { ...stripeClientConfig(env), maxNetworkRetries: 2, timeout: 20_000 });
}

/**
 * Verifies a webhook on its raw bytes (HMAC-SHA256 of "t.<body>" with the endpoint secret, timestamp within 300 s)
 * and returns the parsed event; throws on a bad signature, a tampered body or an old timestamp.
 */
export function verifyStripeWebhook(raw: Buffer, signature: string, secret: string): Stripe.Event {
  return Stripe.webhooks.constructEvent(raw, signature, secret, STRIPE_WEBHOOK_TOLERANCE_SEC);
}
