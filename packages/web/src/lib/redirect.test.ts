import { describe, expect, it } from 'vitest';
import { safeNext, signInPath, withNext } from './redirect';

describe('safeNext', () => {
  it('follows paths inside the app, with their query and hash', () => {
    expect(safeNext('/account')).toBe('/account');
    expect(safeNext('/projects/42?tab=mix#lane-3')).toBe('/projects/42?tab=mix#lane-3');
  });

  it('falls back to the studio home for missing or foreign targets', () => {
    expect(safeNext(null)).toBe('/');
    expect(safeNext('')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/path')).toBe('/');
    expect(safeNext('/\\evil.example')).toBe('/');
    expect(safeNext('/\tevil')).toBe('/');
    expect(safeNext('javascript:alert(1)')).toBe('/');
    expect(safeNext('account')).toBe('/');
  });

  it('never sends a signed-in user back to a sign-in page', () => {
    expect(safeNext('/signin')).toBe('/');
    expect(safeNext('/signup?next=/account')).toBe('/');
  });
});

describe('signInPath', () => {
  it('remembers where the user was', () => {
    expect(signInPath({ pathname: '/account', search: '?tab=keys' })).toBe('/signin?next=%2Faccount%3Ftab%3Dkeys');
    expect(signInPath({ pathname: '/' })).toBe('/signin');
  });

  it('keeps next between the sign-in and sign-up pages', () => {
    expect(withNext('/signup', '/account')).toBe('/signup?next=%2Faccount');
    expect(withNext('/signup', '/')).toBe('/signup');
  });
});
