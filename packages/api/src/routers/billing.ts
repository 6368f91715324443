/**
 * `billing.*`: the caller's plan and subscription (and whether billing is configured at all), Stripe Checkout for a
 * paid plan, and the Stripe billing portal. Thin: each procedure calls services/billing.
 */
import { billingRedirectSchema, billingStatusSchema, createCheckoutSessionInputSchema } from '@dawg/shared';
import { billingStatus, createCheckoutSession, createPortalSession, type BillingDeps } from '../services/billing';
import { refuseDemoAccount } from '../services/demo';
import { protectedProcedure, router, sessionProcedure, type Context } from '../trpc';

export function billingDeps(ctx: Context): BillingDeps {
  return { db: ctx.db, env: ctx.env, log: ctx.log, stripe: ctx.stripe, billingQueue: ctx.billingQueue };
}

export const billingRouter = router({
  get: protectedProcedure.output(billingStatusSchema).query(({ ctx }) => billingStatus(ctx, ctx.user.id)),

  /** A Checkout Session in subscription mode; the browser goes to `url`. Account management: sessions only. */
  createCheckoutSession: sessionProcedure
    .input(createCheckoutSessionInputSchema)
    .output(billingRedirectSchema)
    .mutation(({ ctx, input }) => {
      refuseDemoAccount(ctx.user, 'Billing');
      return createCheckoutSession(billingDeps(ctx), ctx.user.id, input.plan);
    }),

  createPortalSession: sessionProcedure
    .output(billingRedirectSchema)
    .mutation(({ ctx }) => createPortalSession(billingDeps(ctx), ctx.user.id)),
});
