/**
 * The auth contract: input and output schemas of the account, session and API-key procedures and of the seed's REST
 * auth routes. Browser-safe (the common-password check lives in `./common-passwords`, which reads a file, and is
 * applied by the api on top of `passwordSchema`).
 */
import { z } from 'zod';
import { LIMITS, ROLES } from './constants';
import { PLAN_IDS } from './plans';

/** Emails are compared and stored lower-cased; the api normalises before every lookup. */
export const emailSchema = z.email({ error: 'must be a valid email address' }).max(LIMITS.EMAIL_MAX_CHARS);

/**
 * OWASP ASVS 5.0 (V6.2): at least 8 characters, at least 64 allowed, no composition rules. The api adds the
 * common-password check.
 */
export const passwordSchema = z
  .string()
  .min(LIMITS.PASSWORD_MIN_CHARS, { error: `must be at least ${LIMITS.PASSWORD_MIN_CHARS} characters` })
  .max(LIMITS.PASSWORD_MAX_CHARS, { error: `must be at most ${LIMITS.PASSWORD_MAX_CHARS} characters` });

/** A password being checked, not set: no policy (older passwords stay valid), only a bound on the work. */
export const existingPasswordSchema = z
  .string()
  .min(1, { error: 'is required' })
  .max(LIMITS.PASSWORD_MAX_CHARS, { error: `must be at most ${LIMITS.PASSWORD_MAX_CHARS} characters` });

export const userNameSchema = z.string().trim().min(1).max(LIMITS.USER_NAME_MAX_CHARS);

export const registerInputSchema = z.object({
  email: emailSchema,
  password: passwordSchema,
  name: userNameSchema.optional(),
});
export type RegisterInput = z.infer<typeof registerInputSchema>;

export const loginInputSchema = z.object({
  email: emailSchema,
  password: existingPasswordSchema,
});
export type LoginInput = z.infer<typeof loginInputSchema>;

export const changePasswordInputSchema = z.object({
  currentPassword: existingPasswordSchema,
  newPassword: passwordSchema,
});
export type ChangePasswordInput = z.infer<typeof changePasswordInputSchema>;

export const deleteAccountInputSchema = z.object({ password: existingPasswordSchema });
export type DeleteAccountInput = z.infer<typeof deleteAccountInputSchema>;

/** The opaque public id of a session (never its stored hash): 32 hex characters. */
export const sessionPublicIdSchema = z.string().regex(/^[0-9a-f]{32}$/, { error: 'must be a session id' });
export const revokeSessionInputSchema = z.object({ id: sessionPublicIdSchema });

export const apiKeyCreateInputSchema = z.object({
  name: z.string().trim().min(1).max(LIMITS.API_KEY_NAME_MAX_CHARS),
});
export const apiKeyRevokeInputSchema = z.object({ id: z.uuid() });

export const publicUserSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  name: z.string().nullable(),
  role: z.enum(ROLES),
  plan: z.enum(PLAN_IDS),
  /** ISO 8601. */
  createdAt: z.string(),
  /** Demo mode: present only on an ephemeral account, with when it (and its work) will be removed (ISO 8601). */
  demo: z.object({ expiresAt: z.string() }).optional(),
});
export type PublicUserDto = z.infer<typeof publicUserSchema>;

export const authResultSchema = z.object({ user: publicUserSchema, token: z.string() });
export type AuthResult = z.infer<typeof authResultSchema>;

export const successSchema = z.object({ success: z.literal(true) });

export const sessionInfoSchema = z.object({
  id: sessionPublicIdSchema,
  current: z.boolean(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

export const apiKeyInfoSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  /** The first characters of the key, kept in clear so a user can tell keys apart. */
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiKeyInfo = z.infer<typeof apiKeyInfoSchema>;

export const apiKeyCreatedSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  /** The whole key: shown once, never stored (only its SHA-256 is). */
  key: z.string(),
});
export type ApiKeyCreated = z.infer<typeof apiKeyCreatedSchema>;

// ---- The seed's REST shapes (post-deploy verification 1.1) ------------------------------------------------------

export const restRegisterResponseSchema = z.object({
  success: z.literal(true),
  user: z.object({ id: z.uuid(), email: z.string() }),
  token: z.string(),
});

export const restLoginResponseSchema = z.object({
  success: z.literal(true),
  token: z.string(),
  user: publicUserSchema,
});

export const restMeResponseSchema = z.object({ user: publicUserSchema });

/** The seed's 401 wordings (hardening 4.1) plus its API-key wording (4.2). */
export const AUTH_ERROR_MESSAGES = {
  missing: 'No token provided',
  invalid: 'Invalid token',
  expired: 'Token expired',
  invalidApiKey: 'Invalid API key',
} as const;
