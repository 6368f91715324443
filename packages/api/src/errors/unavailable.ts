/**
 * Postgres unreachable (refused, reset, a connect that timed out, a connection dropped mid-query) is not our bug and
 * not the caller's: it is a 503 with Retry-After, answered as soon as the pool gives up (DATABASE_CONNECTION_TIMEOUT,
 * below REQUEST_TIMEOUT_MS), so clients retry instead of reporting an internal error.
 */
import { AppError } from '@dawg/shared';

export { isDatabaseUnavailable } from '@dawg/db';

export const DATABASE_RETRY_AFTER_S = 5;

export function databaseUnavailable(cause: unknown): AppError {
  return new AppError('SERVICE_UNAVAILABLE', 'The database is unavailable; retry shortly', {
    extra: { retryAfter: DATABASE_RETRY_AFTER_S },
    cause,
  });
}
