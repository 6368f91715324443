import { describe, expect, it } from 'vitest';
import { hashPassword, needsRehash, verifyPassword } from '../src/passwords';

describe('passwords', () => {
  it('verify the right password only', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(hash).not.toContain('correct horse');
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapl')).toBe(false);
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('never verify a malformed hash and flag weaker ones for rehash', async () => {
    expect(await verifyPassword('', 'x')).toBe(false);
    expect(await verifyPassword('bcrypt$whatever', 'x')).toBe(false);
    expect(await verifyPassword('scrypt$15$8$1$AAAA$AAAA', 'x')).toBe(false);
    expect(needsRehash('scrypt$14$8$1$AAAA$AAAA')).toBe(true);
    expect(needsRehash(await hashPassword('x'))).toBe(false);
  });
});
