/**
 * Postgres unreachable (refused, reset, a connect that timed out, a connection dropped mid-query) is not our bug and
 * not the caller's: it is a 503 with Retry-After, answered as soon as the pool gives up (DATABASE_CONNECTION_TIMEOUT,
 * below REQUEST_TIMEOUT_MS), so clients retry instead of reporting an internal error.
 */
import { AppError } from '@dawg/shared';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
/** Postgres SQLSTATE class 08 (connection exception) and 57P01-57P03 (shutdown, cannot connect now). */
const SQLSTATE = /^(08|57P0[123])/;
const MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Client has encountered a connection error',
  'Connection terminated due to connection timeout',
];

export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || SQLSTATE.test(code))) return true;
    if (MESSAGES.some((m) => e instanceof Error && e.message.startsWith(m))) return true;
  }
  return false;
}

export const DATABASE_RETRY_AFTER_S = 5;

export function databaseUnavailable(cause: unknown): AppError {
  return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly', {
    extra: { retryAfter: DATABASE_RETRY_AFTER_S },
    cause,
  });
}
