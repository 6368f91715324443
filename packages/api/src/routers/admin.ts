/**
 * `admin.*`: operator tools, admins only (every call, allowed or refused, is in the audit log). Reading the audit
 * trail, disabling or re-enabling an account (disabling ends its sessions and closes its sockets at once), and
 * setting a user's plan (billing without Stripe, or a correction; `pnpm --filter @dawg/db set-plan` does the same).
 */
import { invalidateUserSessions, listAuditLogs, setUserDisabled, findUserById } from '@dawg/db';
import { AppError, planIdSchema, setUserPlanInputSchema, successSchema } from '@dawg/shared';
import { z } from 'zod';
import { adminSetUserPlan } from '../services/billing';
import { adminProcedure, router } from '../trpc';

export const auditLogEntrySchema = z.object({
  id: z.uuid(),
  userId: z.uuid().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  statusCode: z.number().nullable(),
  durationMs: z.number().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

export const adminRouter = router({
  auditLogs: adminProcedure
    .input(
      z.object({
        limit: z.number().int().min(1).max(200).default(50),
        before: z.iso.datetime().optional(),
        userId: z.uuid().optional(),
        action: z.string().min(1).max(200).optional(),
      }),
    )
    .output(z.array(auditLogEntrySchema))
    .query(async ({ ctx, input }) => {
      const rows = await listAuditLogs(ctx.db, {
        limit: input.limit,
        ...(input.before ? { before: new Date(input.before) } : {}),
        ...(input.userId ? { userId: input.userId } : {}),
        ...(input.action ? { action: input.action } : {}),
      });
      return rows.map((r) => ({
        id: r.id,
        userId: r.user_id,
        action: r.action,
        targetType: r.target_type,
        targetId: r.target_id,
        ip: r.ip,
        userAgent: r.user_agent,
        statusCode: r.status_code,
        durationMs: r.duration_ms,
        metadata: r.metadata,
        createdAt: r.created_at.toISOString(),
      }));
    }),

  setUserDisabled: adminProcedure
    .input(z.object({ userId: z.uuid(), disabled: z.boolean() }))
    .output(successSchema)
    .mutation(async ({ ctx, input }) => {
      if (input.userId === ctx.user.id) throw new AppError('CONFLICT', 'Admins cannot disable their own account');
      if (!(await findUserById(ctx.db, input.userId))) throw new AppError('NOT_FOUND', 'User not found');
      await ctx.db.transaction().execute(async (trx) => {
        await setUserDisabled(trx, input.userId, input.disabled);
        if (input.disabled) await invalidateUserSessions(trx, input.userId);
      });
      if (input.disabled) await ctx.revocations.revoke({ kind: 'user', userId: input.userId });
      return { success: true as const };
    }),

  setUserPlan: adminProcedure
    .input(setUserPlanInputSchema)
    .output(z.object({ userId: z.uuid(), plan: planIdSchema }))
    .mutation(({ ctx, input }) => adminSetUserPlan(ctx.db, input.userId, input.plan)),
});
