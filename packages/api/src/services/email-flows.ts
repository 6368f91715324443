/**
 * Emailed single-use links over the operations mailer's SMTP settings (SMTP_HOST …, EMAIL_FROM):
 * - password reset: `requestPasswordReset` mails a link valid for an hour (the same answer whether or not the address
 *   has an account); `resetPassword` spends it once, sets the password, spends the user's other reset links and
 *   revokes every session (and open socket) of the account;
 * - email verification: `requestEmailVerification` mails a link to the account's address; `verifyEmail` spends it and
 *   marks the address verified, if it is still the account's address.
 * Only the SHA-256 of a link's token is stored. Without SMTP_HOST outside production, mail goes to a development
 * outbox in Redis (the newest OUTBOX_SIZE mails) that the web app shows; in production without SMTP it is logged as
 * not sent.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  consumeEmailToken,
  findUserByEmail,
  findUserById,
  hashPassword,
  insertEmailToken,
  invalidateUserSessions,
  spendEmailTokensOf,
  updateUser,
} from '@dawg/db';
import { AppError, EMAIL_TOKEN_TTL_MS, type EmailTokenKind, type OutboxMail, outboxMailSchema } from '@dawg/shared';
import nodemailer from 'nodemailer';
import { DELIVERY_TIMEOUT_MS } from '../ops/notifier';
import type { Context } from '../trpc';
import { audit, type CallMeta } from './audit';
import { publicOrigin } from './billing';
import { assertPasswordNotEmail } from './password-policy';

export type EmailFlowDeps = Pick<Context, 'db' | 'log' | 'env' | 'redis' | 'redisKey' | 'revocations'>;

export const OUTBOX_SIZE = 50;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function outboxKey(deps: Pick<EmailFlowDeps, 'redisKey'>): string {
  return deps.redisKey('dev', 'outbox');
}

/** Whether mail goes to the development outbox (no SMTP server, not production). */
export function usesOutbox(env: EmailFlowDeps['env']): boolean {
  return !env.SMTP_HOST && env.NODE_ENV !== 'production';
}

interface Mail {
  to: string;
  subject: string;
  text: string;
  link: string | null;
}

export async function sendMail(deps: Pick<EmailFlowDeps, 'env' | 'redis' | 'redisKey' | 'log'>, mail: Mail) {
  const { env } = deps;
  if (env.SMTP_HOST) {
    const port = env.SMTP_PORT ?? 587;
    const transport = nodemailer.createTransport({
      host: env.SMTP_HOST,
      port,
      secure: port === 465,
      ...(env.SMTP_USER ? { auth: { user: env.SMTP_USER, pass: env.SMTP_PASSWORD ?? '' } } : {}),
      connectionTimeout: DELIVERY_TIMEOUT_MS,
      greetingTimeout: DELIVERY_TIMEOUT_MS,
      socketTimeout: DELIVERY_TIMEOUT_MS,
    });
    try {
      await transport.sendMail({ from: env.EMAIL_FROM, to: mail.to, subject: mail.subject, text: mail.text });
    } finally {
      transport.close();
    }
    return;
  }
  if (usesOutbox(env)) {
    const stored: OutboxMail = { id: randomUUID(), ...mail, sentAt: new Date().toISOString() };
    await deps.redis
      .multi()
      .lpush(outboxKey(deps), JSON.stringify(stored))
      .ltrim(outboxKey(deps), 0, OUTBOX_SIZE - 1)
      .exec();
    return;
  }
  deps.log.warn({ subject: mail.subject }, 'no SMTP server configured: mail not sent');
}

/** The development outbox, newest first (empty when mail really goes out). */
export async function readOutbox(deps: Pick<EmailFlowDeps, 'env' | 'redis' | 'redisKey'>): Promise<OutboxMail[]> {
  if (!usesOutbox(deps.env)) return [];
  const raw = await deps.redis.lrange(outboxKey(deps), 0, OUTBOX_SIZE - 1);
  return raw.flatMap((r) => {
    try {
      const parsed = outboxMailSchema.safeParse(JSON.parse(r));
      return parsed.success ? [parsed.data] : [];
    } catch {
      return [];
    }
  });
}

async function issueLink(
  deps: EmailFlowDeps,
  user: { id: string; email: string },
  kind: EmailTokenKind,
  path: string,
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await insertEmailToken(deps.db, {
    userId: user.id,
    kind,
    tokenHash: tokenHash(token),
    email: user.email,
    expiresAt: new Date(Date.now() + EMAIL_TOKEN_TTL_MS[kind]),
  });
  return `${publicOrigin(deps.env)}${path}?token=${token}`;
}

export async function requestPasswordReset(deps: EmailFlowDeps, email: string, meta: CallMeta): Promise<void> {
  const user = await findUserByEmail(deps.db, email);
  // The same answer either way: whether an address has an account is not told here.
  if (!user || user.disabled_at) return;
  const link = await issueLink(deps, user, 'password_reset', '/reset-password');
  await sendMail(deps, {
    to: user.email,
    subject: 'Reset your DAWG AI password',
    text:
      `Someone (hopefully you) asked to reset the password of your DAWG AI account.\n\n` +
      `Choose a new password here (the link works once, for an hour):\n${link}\n\n` +
      `If it was not you, ignore this mail: your password stays as it is.`,
    link,
  });
  await audit(deps, meta, { userId: user.id, action: 'auth.password_reset_requested', statusCode: 200 });
}

export async function resetPassword(
  deps: EmailFlowDeps,
  input: { token: string; newPassword: string },
  meta: CallMeta,
): Promise<{ revokedSessions: number }> {
  const invalid = () => new AppError('NOT_FOUND', 'This reset link is invalid, used or expired; ask for a new one');
  const passwordHash = await hashPassword(input.newPassword);
  const done = await deps.db.transaction().execute(async (trx) => {
    const spent = await consumeEmailToken(trx, 'password_reset', tokenHash(input.token));
    if (!spent) return null;
    const user = await findUserById(trx, spent.userId);
    if (!user) return null;
    // Rolls the spending back too: the link still works with an acceptable password.
    assertPasswordNotEmail(input.newPassword, user.email, 'newPassword');
    await updateUser(trx, user.id, { passwordHash });
    await spendEmailTokensOf(trx, user.id, 'password_reset');
    const revokedSessions = await invalidateUserSessions(trx, user.id);
    return { userId: user.id, revokedSessions };
  });
  if (!done) {
    await audit(deps, meta, { userId: null, action: 'auth.password_reset_failed', statusCode: 400 });
    throw invalid();
  }
  await deps.revocations.revoke({ kind: 'user', userId: done.userId });
  await audit(deps, meta, {
    userId: done.userId,
    action: 'auth.password_reset',
    statusCode: 200,
    metadata: { revokedSessions: done.revokedSessions },
  });
  return { revokedSessions: done.revokedSessions };
}

export async function requestEmailVerification(
  deps: EmailFlowDeps,
  user: { id: string; email: string },
  meta: CallMeta,
): Promise<void> {
  const link = await issueLink(deps, user, 'email_verify', '/verify-email');
  await sendMail(deps, {
    to: user.email,
    subject: 'Confirm your DAWG AI email address',
    text: `Confirm that this address is yours (the link works once, for a day):\n${link}`,
    link,
  });
  await audit(deps, meta, { userId: user.id, action: 'auth.email_verification_requested', statusCode: 200 });
}

export async function verifyEmail(deps: EmailFlowDeps, token: string, meta: CallMeta): Promise<void> {
  const verified = await deps.db.transaction().execute(async (trx) => {
    const spent = await consumeEmailToken(trx, 'email_verify', tokenHash(token));
    if (!spent) return null;
    const user = await findUserById(trx, spent.userId);
    // The address changed since the link was sent: the link does not verify the new one.
    if (!user || user.email.toLowerCase() !== spent.email.toLowerCase()) return null;
    await updateUser(trx, user.id, { emailVerifiedAt: new Date() });
    return user.id;
  });
  if (!verified) {
    throw new AppError('NOT_FOUND', 'This confirmation link is invalid, used or expired; ask for a new one');
  }
  await audit(deps, meta, { userId: verified, action: 'auth.email_verified', statusCode: 200 });
}
