/**
 * `notification.*`: the caller's in-app notices (budget alerts, billing problems), newest first, and marking them
 * read. Owner-scoped: ids of other users' notices are ignored.
 */
import { listNotifications, markNotificationsRead } from '@dawg/db';
import { listNotificationsInputSchema, markNotificationsReadInputSchema, notificationViewSchema } from '@dawg/shared';
import { z } from 'zod';
import { protectedProcedure, router } from '../trpc';

export const notificationRouter = router({
  list: protectedProcedure
    .input(listNotificationsInputSchema)
    .output(z.array(notificationViewSchema))
    .query(async ({ ctx, input }) => {
      const rows = await listNotifications(ctx.db, ctx.user.id, { unreadOnly: input.unreadOnly, limit: input.limit });
      return rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        title: r.title,
        body: r.body,
        payload: r.payload,
        readAt: r.read_at?.toISOString() ?? null,
        createdAt: r.created_at.toISOString(),
      }));
    }),

  markRead: protectedProcedure
    .input(markNotificationsReadInputSchema)
    .output(z.object({ updated: z.number().int() }))
    .mutation(async ({ ctx, input }) => ({ updated: await markNotificationsRead(ctx.db, ctx.user.id, input.ids) })),
});
