/**
 * Postgres unreachable (refused, reset, a connect that timed out, a connection dropped mid-query, the server shutting
 * down) as opposed to an error of the statement itself. The api answers it with 503; the worker retries the job
 * without counting an attempt against it.
 */
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
