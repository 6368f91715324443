import { describe, expect, it } from 'vitest';
import { toRestError } from './rest';
import { toTRPCError } from './trpc';
import { isDatabaseUnavailable } from './unavailable';

describe('database unavailable', () => {
  it('recognises refused, reset and timed-out connections, also as a cause', () => {
    expect(isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(Object.assign(new Error('admin shutdown'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: new Error('Connection terminated') }))).toBe(true);
  });

  it('leaves other errors alone', () => {
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isDatabaseUnavailable('Connection terminated')).toBe(false);
  });

  it('maps to 503 on both transports', () => {
    const err = new Error('timeout exceeded when trying to connect');
    expect(toRestError(err).status).toBe(503);
    expect(toTRPCError(err).code).toBe('SERVICE_UNAVAILABLE');
    expect(toRestError(new Error('boom')).status).toBe(500);
  });
});
