import { scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dummyPasswordHash, hashPassword, needsRehash, UNUSABLE_PASSWORD_HASH, verifyPassword } from '../src/passwords';

describe('passwords', () => {
  it('hash with argon2id at m=19 MiB, t=2, p=1 and verify the right password only', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(hash).not.toContain('correct horse');
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapl')).toBe(false);
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('compare passwords in Unicode NFKC', async () => {
    const hash = await hashPassword('caf\u00e9-passw\u00f6rd');
    expect(await verifyPassword(hash, 'cafe\u0301-passwo\u0308rd')).toBe(true);
  });

  it('never verify a malformed hash or the fixtures sentinel, and flag weaker ones for rehash', async () => {
    expect(await verifyPassword('', 'x')).toBe(false);
    expect(await verifyPassword(UNUSABLE_PASSWORD_HASH, 'x')).toBe(false);
    expect(await verifyPassword('bcrypt$whatever', 'x')).toBe(false);
    expect(await verifyPassword('$argon2id$v=19$m=19456,t=2,p=1$AAAA$AAAA', 'x')).toBe(false);
    expect(needsRehash('$argon2id$v=19$m=4096,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g')).toBe(true);
    expect(needsRehash(await hashPassword('x'))).toBe(false);
    expect(await verifyPassword(await dummyPasswordHash(), 'x')).toBe(false);
  });

  it('still verify hashes of the earlier scrypt scheme, which always need a rehash', async () => {
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('old password', salt, 32, { N: 2 ** 14, r: 8, p: 1 });
    const legacy = `scrypt$14$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPassword(legacy, 'old password')).toBe(true);
    expect(await verifyPassword(legacy, 'old passwore')).toBe(false);
    expect(needsRehash(legacy)).toBe(true);
  });
});
