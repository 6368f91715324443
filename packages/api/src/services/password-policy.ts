/**
 * The server's password policy (OWASP ASVS 5.0 V6.2): the shared length rule (8 to 128 characters, no composition
 * rules) plus refusal of common passwords (the list shipped in @dawg/shared, compared case-insensitively) and of the
 * account's own email. Part of the input schemas, so a refusal is an ordinary validation failure on the field.
 */
import { AppError, passwordSchema } from '@dawg/shared';
import { isCommonPassword } from '@dawg/shared/common-passwords';

export const COMMON_PASSWORD_MESSAGE = 'is too common; choose a less guessable password';

export const newPasswordSchema = passwordSchema.refine((password) => !isCommonPassword(password), {
  error: COMMON_PASSWORD_MESSAGE,
});

/** Refuses a password that is the email, or its local part (checked where both are known). */
export function passwordContainsEmail(password: string, email: string): boolean {
  const lower = password.toLowerCase();
  const normalised = email.trim().toLowerCase();
  const local = normalised.split('@', 1)[0] ?? '';
  return lower === normalised || (local.length >= 4 && lower.includes(local) && lower.length - local.length < 4);
}

export const EMAIL_PASSWORD_MESSAGE = 'must not be your email address';

/** The validation failure of a password field that repeats the email. */
export function assertPasswordNotEmail(password: string, email: string, field: string): void {
  if (passwordContainsEmail(password, email)) {
    throw new AppError('BAD_REQUEST', 'Validation failed', {
      details: [{ path: [field], message: EMAIL_PASSWORD_MESSAGE }],
    });
  }
}
