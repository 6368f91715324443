/**
 * `demo.*` (demo mode, DEMO_MODE): `status` says whether this server runs it; `start` gives a visitor who is not
 * signed in an ephemeral account of their own with a sample project (and its session cookie); `keep` turns the
 * caller's demo account into a normal one (sign-up's fields and checks). With demo mode off, start refuses; keep
 * still serves accounts made while it was on.
 */
import { authResultSchema, demoStartOutputSchema, demoStatusSchema, keepDemoWorkInputSchema } from '@dawg/shared';
import { setSessionCookie } from '../auth/cookies';
import { callMeta } from '../services/audit';
import { toPublicUser } from '../services/auth';
import { createDemoGenerationLimiter, type DemoDeps, demoStatus, keepDemoWork, startDemo } from '../services/demo';
import { newPasswordSchema } from '../services/password-policy';
import { type Context, publicProcedure, router, sessionProcedure } from '../trpc';
import { generationDeps } from './generation';

export const keepDemoWorkInput = keepDemoWorkInputSchema.extend({ password: newPasswordSchema });

function demoDeps(ctx: Context): DemoDeps {
  return {
    ...generationDeps(ctx),
    redis: ctx.redis,
    redisKey: ctx.redisKey,
    revocations: ctx.revocations,
    progress: ctx.progress,
    demoLimiter: createDemoGenerationLimiter(ctx),
  };
}

export const demoRouter = router({
  status: publicProcedure.output(demoStatusSchema).query(({ ctx }) => demoStatus(ctx.env)),

  start: publicProcedure.output(demoStartOutputSchema).mutation(async ({ ctx }) => {
    const started = await startDemo(demoDeps(ctx), ctx.user, callMeta(ctx.req));
    if (ctx.reply) setSessionCookie(ctx.reply, ctx.env, started.token, started.session.expires_at);
    const user = toPublicUser(started.user);
    return {
      user,
      token: started.token,
      projectId: started.projectId,
      expiresAt: user.demo?.expiresAt ?? started.session.expires_at.toISOString(),
    };
  }),

  keep: sessionProcedure
    .input(keepDemoWorkInput)
    .output(authResultSchema)
    .mutation(async ({ ctx, input }) => {
      const kept = await keepDemoWork(demoDeps(ctx), ctx.user, input, callMeta(ctx.req));
      if (ctx.reply) setSessionCookie(ctx.reply, ctx.env, kept.token, kept.session.expires_at);
      return { user: toPublicUser(kept.user), token: kept.token };
    }),
});
