/**
 * `usage.*` (cost monitoring): the caller's own usage this period against plan and budget, the cost estimate shown
 * before a generation, and (admins) the ledger broken down by user, provider, model, kind and day. The same
 * services answer `GET /api/cost-monitoring/usage` and `/breakdown`.
 */
import {
  costEstimateSchema,
  createGenerationInputSchema,
  usageBreakdownInputSchema,
  usageBreakdownSchema,
  usageSummarySchema,
} from '@dawg/shared';
import { estimateGeneration, usageBreakdown, usageSummary } from '../services/cost-monitoring';
import { adminProcedure, protectedProcedure, router } from '../trpc';

export const usageRouter = router({
  get: protectedProcedure.output(usageSummarySchema).query(({ ctx }) => usageSummary(ctx.db, ctx.user.id)),

  /** What `generation.create` with this input would cost, and whether the budget admits it now. */
  estimateGeneration: protectedProcedure
    .input(createGenerationInputSchema)
    .output(costEstimateSchema)
    .query(({ ctx, input }) => estimateGeneration(ctx, ctx.user, input)),

  breakdown: adminProcedure
    .input(usageBreakdownInputSchema)
    .output(usageBreakdownSchema)
    .query(({ ctx, input }) => usageBreakdown(ctx.db, input)),
});
