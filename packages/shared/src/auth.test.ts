import { describe, expect, it } from 'vitest';
import { LIMITS } from './constants';
import { changePasswordInputSchema, loginInputSchema, registerInputSchema } from './auth';

describe('auth schemas', () => {
  it('accept the seed sign-up body', () => {
    expect(
      registerInputSchema.parse({ email: 'test@example.com', password: 'SecurePass123!', name: 'Test User' }),
    ).toEqual({ email: 'test@example.com', password: 'SecurePass123!', name: 'Test User' });
  });

  it('require at least 8 characters and allow at least 64 (ASVS 5.0), bounded at the max', () => {
    const email = 'a@example.com';
    expect(registerInputSchema.safeParse({ email, password: '1234567' }).success).toBe(false);
    expect(registerInputSchema.safeParse({ email, password: 'x'.repeat(64) }).success).toBe(true);
    expect(registerInputSchema.safeParse({ email, password: 'x'.repeat(LIMITS.PASSWORD_MAX_CHARS) }).success).toBe(
      true,
    );
    expect(registerInputSchema.safeParse({ email, password: 'x'.repeat(LIMITS.PASSWORD_MAX_CHARS + 1) }).success).toBe(
      false,
    );
  });

  it('name the failing field in each issue', () => {
    const result = registerInputSchema.safeParse({ email: 'nope', password: 'short' });
    expect(result.error?.issues.map((i) => i.path)).toEqual([['email'], ['password']]);
    expect(loginInputSchema.safeParse({ email: 'a@example.com', password: '' }).error?.issues[0]?.path).toEqual([
      'password',
    ]);
    expect(
      changePasswordInputSchema.safeParse({ currentPassword: 'old', newPassword: 'short' }).error?.issues[0]?.path,
    ).toEqual(['newPassword']);
  });
});
