/**
 * `auth.*`: accounts and sessions over tRPC (the web app's path; the seed's REST routes call the same services).
 * Register and login set the session cookie on HTTP calls and also return the token (for Bearer and WebSocket use);
 * account management needs a session, not an API key.
 */
import {
  authResultSchema,
  changePasswordInputSchema,
  deleteAccountInputSchema,
  loginInputSchema,
  outboxMailSchema,
  publicUserSchema,
  registerInputSchema,
  requestPasswordResetInputSchema,
  resetPasswordInputSchema,
  revokeSessionInputSchema,
  sessionInfoSchema,
  successSchema,
  verifyEmailInputSchema,
} from '@dawg/shared';
import { z } from 'zod';
import { clearSessionCookie, setSessionCookie } from '../auth/cookies';
import { callMeta } from '../services/audit';
import * as auth from '../services/auth';
import * as email from '../services/email-flows';
import { newPasswordSchema } from '../services/password-policy';
import { publicProcedure, router, sessionProcedure } from '../trpc';

/** The shared schemas plus the server-only common-password check. */
export const registerInput = registerInputSchema.extend({ password: newPasswordSchema });
export const changePasswordInput = changePasswordInputSchema.extend({ newPassword: newPasswordSchema });
export const resetPasswordInput = resetPasswordInputSchema.extend({ newPassword: newPasswordSchema });

export const authRouter = router({
  register: publicProcedure
    .input(registerInput)
    .output(authResultSchema)
    .mutation(async ({ ctx, input }) => {
      const signedIn = await auth.register(ctx, input, callMeta(ctx.req));
      if (ctx.reply) setSessionCookie(ctx.reply, ctx.env, signedIn.token, signedIn.session.expires_at);
      return { user: auth.toPublicUser(signedIn.user), token: signedIn.token };
    }),

  login: publicProcedure
    .input(loginInputSchema)
    .output(authResultSchema)
    .mutation(async ({ ctx, input }) => {
      const signedIn = await auth.login(ctx, input, callMeta(ctx.req), ctx.session?.id);
      if (ctx.reply) setSessionCookie(ctx.reply, ctx.env, signedIn.token, signedIn.session.expires_at);
      return { user: auth.toPublicUser(signedIn.user), token: signedIn.token };
    }),

  logout: sessionProcedure.output(successSchema).mutation(async ({ ctx }) => {
    await auth.logout(ctx, ctx.user.id, ctx.session, callMeta(ctx.req));
    if (ctx.reply) clearSessionCookie(ctx.reply, ctx.env);
    return { success: true as const };
  }),

  me: publicProcedure
    .output(publicUserSchema.nullable())
    .query(({ ctx }) => (ctx.user ? auth.toPublicUser(ctx.user) : null)),

  changePassword: sessionProcedure
    .input(changePasswordInput)
    .output(successSchema)
    .mutation(async ({ ctx, input }) => {
      await auth.changePassword(ctx, ctx.user, ctx.session, input, callMeta(ctx.req));
      return { success: true as const };
    }),

  deleteAccount: sessionProcedure
    .input(deleteAccountInputSchema)
    .output(successSchema)
    .mutation(async ({ ctx, input }) => {
      await auth.deleteAccount(ctx, ctx.user, input.password, callMeta(ctx.req));
      if (ctx.reply) clearSessionCookie(ctx.reply, ctx.env);
      return { success: true as const };
    }),

  sessions: sessionProcedure
    .output(z.array(sessionInfoSchema))
    .query(({ ctx }) => auth.listSessions(ctx, ctx.user.id, ctx.session)),

  /** Mails a single-use reset link when the address has an account; the same answer either way. */
  requestPasswordReset: publicProcedure
    .input(requestPasswordResetInputSchema)
    .output(successSchema)
    .mutation(async ({ ctx, input }) => {
      await email.requestPasswordReset(ctx, input.email, callMeta(ctx.req));
      return { success: true as const };
    }),

  /** Spends a reset link: the new password is set and every session of the account is revoked. */
  resetPassword: publicProcedure
    .input(resetPasswordInput)
    .output(successSchema)
    .mutation(async ({ ctx, input }) => {
      await email.resetPassword(ctx, input, callMeta(ctx.req));
      return { success: true as const };
    }),

  /** Mails a confirmation link to the account's address. */
  requestEmailVerification: sessionProcedure.output(successSchema).mutation(async ({ ctx }) => {
    await email.requestEmailVerification(ctx, ctx.user, callMeta(ctx.req));
    return { success: true as const };
  }),

  /** Spends a confirmation link: the address is verified. */
  verifyEmail: publicProcedure
    .input(verifyEmailInputSchema)
    .output(successSchema)
    .mutation(async ({ ctx, input }) => {
      await email.verifyEmail(ctx, input.token, callMeta(ctx.req));
      return { success: true as const };
    }),

  /** Development only (no SMTP server, not production): the local outbox the web app shows; else empty. */
  devOutbox: publicProcedure.output(z.array(outboxMailSchema)).query(({ ctx }) => email.readOutbox(ctx)),

  revokeSession: sessionProcedure
    .input(revokeSessionInputSchema)
    .output(successSchema)
    .mutation(async ({ ctx, input }) => {
      const revoked = await auth.revokeSession(ctx, ctx.user.id, input.id, callMeta(ctx.req));
      if (revoked === ctx.session.id && ctx.reply) clearSessionCookie(ctx.reply, ctx.env);
      return { success: true as const };
    }),
});
