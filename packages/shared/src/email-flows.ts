/**
 * Emailed single-use links: password reset (valid EMAIL_TOKEN_TTL_MS, spent on use, every session revoked when the
 * password changes) and email verification. Requests answer the same whether or not the address has an account.
 */
import { z } from 'zod';
import { emailSchema, passwordSchema } from './auth';

export const EMAIL_TOKEN_KINDS = ['password_reset', 'email_verify'] as const;
export type EmailTokenKind = (typeof EMAIL_TOKEN_KINDS)[number];

/** Password reset links expire after an hour; verification links after a day. */
export const EMAIL_TOKEN_TTL_MS: Record<EmailTokenKind, number> = {
  password_reset: 60 * 60 * 1000,
  email_verify: 24 * 60 * 60 * 1000,
};

/** A link's token: 32 random bytes, base64url (43 characters). */
export const emailTokenSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'This link is not valid');

export const requestPasswordResetInputSchema = z.object({ email: emailSchema });
export const resetPasswordInputSchema = z.object({ token: emailTokenSchema, newPassword: passwordSchema });
export const verifyEmailInputSchema = z.object({ token: emailTokenSchema });

/** A mail of the development outbox (no SMTP server configured, outside production). */
export const outboxMailSchema = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  /** The link the mail carries, if any. */
  link: z.string().nullable(),
  sentAt: z.string(),
});
export type OutboxMail = z.infer<typeof outboxMailSchema>;
