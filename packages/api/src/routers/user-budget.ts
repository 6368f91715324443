/**
 * `userBudget.*` (the seed's `userBudget.upsert`): admins read and set a user's monthly AI budget. A limit of null
 * returns the user to their plan's default. Every call is on the audit trail (adminProcedure).
 */
import { budgetViewSchema, getBudgetInputSchema, upsertBudgetInputSchema } from '@dawg/shared';
import { budgetView, upsertUserBudget } from '../services/cost-monitoring';
import { adminProcedure, router } from '../trpc';

export const userBudgetRouter = router({
  get: adminProcedure
    .input(getBudgetInputSchema)
    .output(budgetViewSchema)
    .query(({ ctx, input }) => budgetView(ctx.db, input.userId)),

  upsert: adminProcedure
    .input(upsertBudgetInputSchema)
    .output(budgetViewSchema)
    .mutation(({ ctx, input }) => upsertUserBudget(ctx.db, input)),
});
