import { AppError } from '@dawg/shared';
import { describe, expect, it } from 'vitest';
import { assertNoNulCharacters, findNulCharacter } from './nul';

describe('NUL characters in inputs', () => {
  it('finds the path of a NUL in a value or a key', () => {
    expect(findNulCharacter({ a: 'ok', b: [1, { c: 'x\u0000y' }] })).toEqual(['b', 1, 'c']);
    expect(findNulCharacter({ a: { 'k\u0000': 1 } })).toEqual(['a', 'k\u0000']);
    expect(findNulCharacter('\u0000')).toEqual([]);
    expect(findNulCharacter({ a: 'fine', n: 1, z: null, t: true })).toBeNull();
  });

  it('walks deeply nested input without overflowing', () => {
    let deep: unknown = 'end\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findNulCharacter(deep)).toHaveLength(200_000);
  });

  it('throws a 400 naming the field', () => {
    try {
      assertNoNulCharacters({ title: 'a\u0000' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).status).toBe(400);
      expect((err as AppError).details).toEqual([{ path: ['title'], message: expect.stringContaining('NUL') }]);
    }
  });
});
