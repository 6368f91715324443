/**
 * REST for billing and cost monitoring: the Stripe webhook (seed post-deploy 5.1) and the seed's cost-monitoring
 * endpoints (troubleshooting 5).
 *
 * The webhook is registered in its own encapsulated plugin whose only content-type parser hands the handler the raw
 * bytes: the signature is an HMAC over exactly those bytes, so nothing may parse (and re-serialise) the body before
 * it is verified. It is outside the perimeter (no auth, rate limit or CSRF: PERIMETER_EXEMPT_ROUTES) because
 * Stripe's signature is the credential and its retries must never be limited.
 */
import {
  STRIPE_HANDLED_EVENTS,
  usageBreakdownInputSchema,
  usageBreakdownSchema,
  usageSummarySchema,
} from '@dawg/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { receiveStripeWebhook } from '../services/billing';
import { usageBreakdown, usageSummary } from '../services/cost-monitoring';
import { defineRestRoute } from './define';

/** Stripe's events are a few kB; anything near this is not one of them. */
const WEBHOOK_BODY_LIMIT = 1024 * 1024;

export function registerBillingRoutes(app: FastifyInstance, deps: AppDeps): void {
  void app.register(async (webhook) => {
    webhook.removeAllContentTypeParsers();
    webhook.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) =>
      done(null, body),
    );
    defineRestRoute(
      webhook,
      {
        method: 'POST',
        url: '/api/stripe/webhook',
        auth: 'public',
        response: z.object({ received: z.literal(true), duplicate: z.boolean() }),
        summary: 'Stripe webhook',
        description:
          `Verifies \`Stripe-Signature\` on the raw body (tolerance 300 s), records the event once by id and queues ` +
          `its processing. Handled: ${STRIPE_HANDLED_EVENTS.join(', ')}. A redelivered event answers 200 too.`,
        tags: ['billing'],
        bodyLimit: WEBHOOK_BODY_LIMIT,
        config: { rateLimit: false },
        errors: { 400: 'Missing or invalid signature, tampered body or old timestamp', 503: 'Not configured' },
      },
      async ({ request }) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const signature = request.headers['stripe-signature'];
        return receiveStripeWebhook(
          { db: deps.db, env: deps.env, log: request.log, stripe: deps.stripe, billingQueue: deps.billingQueue },
          raw,
          typeof signature === 'string' ? signature : undefined,
        );
      },
    );
  });

  defineRestRoute(
    app,
    {
      method: 'GET',
      url: '/api/cost-monitoring/usage',
      auth: 'user',
      response: usageSummarySchema,
      summary: 'Your AI usage this month against your plan and budget',
      tags: ['cost-monitoring'],
    },
    ({ user }) => usageSummary(deps.db, user.id),
  );

  defineRestRoute(
    app,
    {
      method: 'GET',
      url: '/api/cost-monitoring/breakdown',
      auth: 'admin',
      query: usageBreakdownInputSchema,
      response: usageBreakdownSchema,
      summary: 'AI costs by user, provider, model, kind and day (admins)',
      description:
        'Filters: `from`, `to` (UTC days, inclusive; default this month), `userId`, `provider`, `model`, `kind`.',
      tags: ['cost-monitoring'],
    },
    ({ query }) => usageBreakdown(deps.db, query),
  );
}
