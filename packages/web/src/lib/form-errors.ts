/**
 * Turns a failed request (or a failed client-side check) into what a form shows: a message per field for the
 * api's validation `details[]` ({ path, message }) whose first path segment names one of the form's fields, and one
 * form-level message for everything else (wrong credentials, rate limits, the api being unreachable).
 */

export interface FieldIssue {
  path: readonly (string | number)[];
  message: string;
}

export interface FormErrors<F extends string> {
  fields: Partial<Record<F, string>>;
  form: string | null;
}

/** What the api's errorFormatter puts in `error.data` (see packages/api/src/errors/trpc.ts). */
interface ErrorData {
  code?: string;
  httpStatus?: number;
  details?: FieldIssue[];
  extra?: Record<string, unknown>;
}

export interface ErrorMapping<F extends string> {
  /** Form-level text per tRPC error code, replacing the server's message (e.g. UNAUTHORIZED on sign-in). */
  messages?: Partial<Record<string, string>>;
  /** Shows an error of this code on a field instead of the form (e.g. a wrong current password). */
  fieldFor?: Partial<Record<string, F>>;
}

/**
 * For forms of a signed-in user: there UNAUTHORIZED means the session ended (expired, revoked elsewhere), never a
 * wrong password, which the api reports as a field error ("is incorrect").
 */
export const SESSION_ENDED: ErrorMapping<never> = {
  messages: { UNAUTHORIZED: 'Your session has ended. Sign in again to continue.' },
};

export const UNREACHABLE_MESSAGE = 'Could not reach DAWG AI. Check your connection and try again.';
export const INTERNAL_MESSAGE = 'Something went wrong on our side. Please try again.';

export function emptyErrors<F extends string>(): FormErrors<F> {
  return { fields: {}, form: null };
}

export function hasErrors(errors: FormErrors<string>): boolean {
  return errors.form !== null || Object.keys(errors.fields).length > 0;
}

/** A message as a sentence: capitalised, with a full stop. */
export function sentence(message: string): string {
  const text = message.trim();
  if (text === '') return text;
  const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/**
 * The api's schema messages are written to follow a field name ("must be at least 8 characters", "is incorrect");
 * a field shows them after its label ("Current password is incorrect."). Messages that are already sentences (the
 * form's own checks) are shown as they are.
 */
export function fieldMessage(label: string, message: string): string {
  const text = message.trim();
  if (/^[a-z]/.test(text)) return sentence(`${label} ${text}`);
  return sentence(text);
}

/** Groups issues by field; issues about nothing the form shows become the form-level message. */
export function errorsFromIssues<F extends string>(issues: readonly FieldIssue[], fields: readonly F[]): FormErrors<F> {
  const result = emptyErrors<F>();
  const rest: string[] = [];
  for (const issue of issues) {
    const head = issue.path[0];
    const field = fields.find((f) => f === head);
    if (field === undefined) rest.push(sentence(issue.message));
    // The first problem of a field is the one to fix first; more at once is noise.
    else result.fields[field] ??= issue.message;
  }
  if (rest.length > 0) result.form = [...new Set(rest)].join(' ');
  return result;
}

function errorData(error: unknown): ErrorData | null {
  if (typeof error !== 'object' || error === null || !('data' in error)) return null;
  const data = (error as { data: unknown }).data;
  return typeof data === 'object' && data !== null ? (data as ErrorData) : null;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}

/**
 * When a rate limit lets the caller try again, from the error's `extra.retryAfter`: the api sends the seed's wording
 * ("15 minutes"); a number is taken as seconds.
 */
export function retryAfter(extra: Record<string, unknown> | undefined): string | null {
  const value = extra?.retryAfter;
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    if (value < 60) return 'a minute';
    const minutes = Math.ceil(value / 60);
    return `${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  }
  return null;
}

export function tooManyAttemptsMessage(wait: string | null): string {
  return wait ? `Too many attempts, try again in ${wait}.` : 'Too many attempts, try again later.';
}

/** The errors a form shows for a failed mutation. */
export function errorsFromFailure<F extends string>(
  error: unknown,
  fields: readonly F[],
  mapping: ErrorMapping<F> = {},
): FormErrors<F> {
  const data = errorData(error);
  // No error shape at all: the request never got an answer from the api (offline, DNS, proxy down).
  if (!data?.code) {
    return { fields: {}, form: UNREACHABLE_MESSAGE };
  }
  if (data.details && data.details.length > 0) {
    const errors = errorsFromIssues(data.details, fields);
    if (hasErrors(errors)) return errors;
  }
  const code = data.code;
  const message =
    mapping.messages?.[code] ??
    (code === 'TOO_MANY_REQUESTS'
      ? tooManyAttemptsMessage(retryAfter(data.extra))
      : code === 'INTERNAL_SERVER_ERROR'
        ? INTERNAL_MESSAGE
        : errorMessage(error));
  const field = mapping.fieldFor?.[code];
  if (field !== undefined) return { fields: { [field]: message } as Partial<Record<F, string>>, form: null };
  return { fields: {}, form: message };
}

/** The tRPC error code of a failure, if the api answered. */
export function errorCode(error: unknown): string | null {
  return errorData(error)?.code ?? null;
}
