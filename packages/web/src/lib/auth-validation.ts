/**
 * Client-side checks of the account forms: the same limits the api enforces (from @dawg/shared), said in words a
 * person can act on before a request is sent, then the procedure's own input schema, so the form never sends what
 * the api's schema would refuse. The api remains the authority; its field errors land in the same places.
 */
import type { z } from 'zod';
import { LIMITS } from '@dawg/shared';
import { emptyErrors, errorsFromIssues, hasErrors, type FormErrors } from './form-errors';

export const PASSWORD_POLICY = `At least ${LIMITS.PASSWORD_MIN_CHARS} characters. A short phrase of several words is easy to remember and hard to guess.`;

/** Deliberately loose: one @ with something on both sides and a dot in the domain; the api has the final word. */
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function emailProblem(value: string): string | null {
  const email = value.trim();
  if (email === '') return 'Enter your email address.';
  if (email.length > LIMITS.EMAIL_MAX_CHARS) return `Use at most ${LIMITS.EMAIL_MAX_CHARS} characters.`;
  if (!EMAIL_SHAPE.test(email)) return 'Enter an email address like name@example.com.';
  return null;
}

export function newPasswordProblem(value: string): string | null {
  if (value === '') return 'Choose a password.';
  if (value.length < LIMITS.PASSWORD_MIN_CHARS) {
    return `Use at least ${LIMITS.PASSWORD_MIN_CHARS} characters (${value.length} so far).`;
  }
  if (value.length > LIMITS.PASSWORD_MAX_CHARS) return `Use at most ${LIMITS.PASSWORD_MAX_CHARS} characters.`;
  return null;
}

export function nameProblem(value: string): string | null {
  if (value.trim().length > LIMITS.USER_NAME_MAX_CHARS) return `Use at most ${LIMITS.USER_NAME_MAX_CHARS} characters.`;
  return null;
}

/** Builds a FormErrors from per-field checks; fields whose check passes are left out. */
export function collect<F extends string>(checks: Partial<Record<F, string | null>>): FormErrors<F> {
  const errors = emptyErrors<F>();
  for (const [field, problem] of Object.entries(checks) as [F, string | null | undefined][]) {
    if (problem) errors.fields[field] = problem;
  }
  return errors;
}

/** The shared input schema's verdict on what the form is about to send, as form errors. */
export function schemaErrors<F extends string>(schema: z.ZodType, input: unknown, fields: readonly F[]): FormErrors<F> {
  const result = schema.safeParse(input);
  if (result.success) return emptyErrors();
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map((part) => (typeof part === 'symbol' ? String(part) : part)),
    message: issue.message,
  }));
  return errorsFromIssues(issues, fields);
}

/** The first set of errors that is not empty: friendly checks first, the schema as the backstop. */
export function firstErrors<F extends string>(...checks: (() => FormErrors<F>)[]): FormErrors<F> {
  for (const check of checks) {
    const errors = check();
    if (hasErrors(errors)) return errors;
  }
  return emptyErrors();
}
