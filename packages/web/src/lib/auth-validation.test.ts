import { describe, expect, it } from 'vitest';
import { LIMITS, registerInputSchema } from '@dawg/shared';
import { collect, emailProblem, firstErrors, nameProblem, newPasswordProblem, schemaErrors } from './auth-validation';

describe('account form checks', () => {
  it('asks for a plausible email', () => {
    expect(emailProblem('')).toMatch(/Enter your email/);
    expect(emailProblem('nobody')).toMatch(/like name@example.com/);
    expect(emailProblem('a@b')).toMatch(/like name@example.com/);
    expect(emailProblem(' musician@example.com ')).toBeNull();
    expect(emailProblem(`${'a'.repeat(LIMITS.EMAIL_MAX_CHARS)}@x.io`)).toMatch(/at most/);
  });

  it('enforces the password policy and says how far off it is', () => {
    expect(newPasswordProblem('')).toMatch(/Choose a password/);
    expect(newPasswordProblem('short')).toBe(`Use at least ${LIMITS.PASSWORD_MIN_CHARS} characters (5 so far).`);
    expect(newPasswordProblem('x'.repeat(LIMITS.PASSWORD_MIN_CHARS))).toBeNull();
    expect(newPasswordProblem('x'.repeat(LIMITS.PASSWORD_MAX_CHARS + 1))).toMatch(/at most/);
  });

  it('collects only the failing fields', () => {
    expect(collect({ email: emailProblem('x@y.io'), password: newPasswordProblem('1'), name: nameProblem('') })).toEqual({
      fields: { password: `Use at least ${LIMITS.PASSWORD_MIN_CHARS} characters (1 so far).` },
      form: null,
    });
  });
});

describe('shared schema backstop', () => {
  const FIELDS = ['name', 'email', 'password'] as const;

  it('reports what the api schema would refuse, on the right field', () => {
    // Passes the loose client shape check but not the schema's stricter email rule.
    const errors = schemaErrors(registerInputSchema, { email: 'a..b@example.com', password: 'long enough' }, FIELDS);
    expect(Object.keys(errors.fields)).toEqual(['email']);
    expect(errors.form).toBeNull();
    expect(schemaErrors(registerInputSchema, { email: 'a@example.com', password: 'long enough' }, FIELDS)).toEqual({
      fields: {},
      form: null,
    });
  });

  it('runs the schema only when the friendly checks pass', () => {
    const friendly = collect<(typeof FIELDS)[number]>({ password: newPasswordProblem('1') });
    let schemaRan = false;
    const errors = firstErrors(
      () => friendly,
      () => {
        schemaRan = true;
        return schemaErrors(registerInputSchema, {}, FIELDS);
      },
    );
    expect(errors).toBe(friendly);
    expect(schemaRan).toBe(false);
  });
});
