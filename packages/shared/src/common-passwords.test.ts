import { describe, expect, it } from 'vitest';
import { commonPasswords, expandCommonPasswords, isCommonPassword, parseCommonPasswordList } from './common-passwords';

describe('common passwords', () => {
  it('parses the shipped list: lower-cased, without comments and blanks', () => {
    expect(parseCommonPasswordList('# comment\n\nPassword\n  qwerty \r\n')).toEqual(['password', 'qwerty']);
  });

  it('derives the usual variants of each entry deterministically', () => {
    const set = expandCommonPasswords(['dragon']);
    for (const variant of [
      'dragon',
      'dragon1',
      'dragon123',
      'dragon2024',
      'dr@g0n',
      'dragondragon',
      'mydragon',
      'dragon!',
    ]) {
      expect(set.has(variant), variant).toBe(true);
    }
    expect([...expandCommonPasswords(['dragon'])]).toEqual([...set]);
  });

  it('rejects the most common passwords whatever their case, and keeps good ones', () => {
    expect(commonPasswords().size).toBeGreaterThan(10_000);
    for (const p of [
      'password',
      'Password1',
      'PASSWORD123',
      '12345678',
      'qwertyuiop',
      'iloveyou',
      'Summer2024',
      'P@ssw0rd',
      '1q2w3e4r5t',
    ]) {
      expect(isCommonPassword(p), p).toBe(true);
    }
    for (const p of ['SecurePass123!', 'correct horse battery staple', 'Tuba-Marmalade-Orbit-42']) {
      expect(isCommonPassword(p), p).toBe(false);
    }
  });
});
