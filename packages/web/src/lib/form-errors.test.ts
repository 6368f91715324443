import { describe, expect, it } from 'vitest';
import {
  errorsFromFailure,
  errorsFromIssues,
  fieldMessage,
  INTERNAL_MESSAGE,
  retryAfter,
  tooManyAttemptsMessage,
  UNREACHABLE_MESSAGE,
} from './form-errors';

const FIELDS = ['email', 'password'] as const;

/** The shape TRPCClientError carries: the server's message plus the formatter's `data`. */
function failure(message: string, data: Record<string, unknown> | undefined) {
  return Object.assign(new Error(message), { data });
}

describe('errorsFromIssues', () => {
  it('puts each issue on its field, the first per field winning', () => {
    const errors = errorsFromIssues(
      [
        { path: ['password'], message: 'must be at least 8 characters' },
        { path: ['password'], message: 'second complaint' },
        { path: ['email'], message: 'Invalid email.' },
      ],
      FIELDS,
    );
    expect(errors).toEqual({
      fields: { password: 'must be at least 8 characters', email: 'Invalid email.' },
      form: null,
    });
  });

  it('sends issues about unknown or no fields to the form', () => {
    const errors = errorsFromIssues(
      [
        { path: [], message: 'Body is wrong.' },
        { path: ['name'], message: 'Too long.' },
        { path: ['email'], message: 'Invalid email' },
      ],
      FIELDS,
    );
    expect(errors).toEqual({ fields: { email: 'Invalid email' }, form: 'Body is wrong. Too long.' });
  });
});

describe('fieldMessage', () => {
  it('puts the label before a schema message, and leaves sentences alone', () => {
    expect(fieldMessage('Current password', 'is incorrect')).toBe('Current password is incorrect.');
    expect(fieldMessage('Email', ' must be a valid email address ')).toBe('Email must be a valid email address.');
    expect(fieldMessage('Password', 'Use at least 8 characters (5 so far).')).toBe('Use at least 8 characters (5 so far).');
    expect(fieldMessage('Email', 'Already registered')).toBe('Already registered.');
  });
});

describe('errorsFromFailure', () => {
  it('maps the api validation details to fields', () => {
    const err = failure('Validation failed', {
      code: 'BAD_REQUEST',
      httpStatus: 400,
      details: [{ path: ['password'], message: 'is too common' }],
    });
    expect(errorsFromFailure(err, FIELDS)).toEqual({
      fields: { password: 'is too common' },
      form: null,
    });
  });

  it('uses the server message, or the form override, for other failures', () => {
    const err = failure('Invalid email or password', { code: 'UNAUTHORIZED', httpStatus: 401 });
    expect(errorsFromFailure(err, FIELDS)).toEqual({ fields: {}, form: 'Invalid email or password' });
    expect(errorsFromFailure(err, FIELDS, { messages: { UNAUTHORIZED: 'Nope.' } }).form).toBe('Nope.');
    expect(errorsFromFailure(err, FIELDS, { fieldFor: { UNAUTHORIZED: 'password' } })).toEqual({
      fields: { password: 'Invalid email or password' },
      form: null,
    });
  });

  it('says when to retry after a rate limit', () => {
    const err = failure('Too many login attempts, please try again later.', {
      code: 'TOO_MANY_REQUESTS',
      httpStatus: 429,
      extra: { retryAfter: '15 minutes' },
    });
    expect(errorsFromFailure(err, FIELDS).form).toBe('Too many attempts, try again in 15 minutes.');
    expect(tooManyAttemptsMessage(retryAfter(undefined))).toBe('Too many attempts, try again later.');
    expect(tooManyAttemptsMessage(retryAfter({ retryAfter: 61 }))).toBe('Too many attempts, try again in 2 minutes.');
    expect(tooManyAttemptsMessage(retryAfter({ retryAfter: 30 }))).toBe('Too many attempts, try again in a minute.');
  });

  it('hides internal messages and reports an unreachable api', () => {
    const internal = failure('Internal server error', { code: 'INTERNAL_SERVER_ERROR', httpStatus: 500 });
    expect(errorsFromFailure(internal, FIELDS).form).toBe(INTERNAL_MESSAGE);
    expect(errorsFromFailure(failure('Failed to fetch', undefined), FIELDS).form).toBe(UNREACHABLE_MESSAGE);
    expect(errorsFromFailure(new TypeError('NetworkError'), FIELDS).form).toBe(UNREACHABLE_MESSAGE);
  });
});
