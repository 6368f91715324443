/**
 * Postgres cannot store U+0000 in text or jsonb ("invalid byte sequence", "unsupported Unicode escape sequence"), so
 * a NUL character anywhere in an input would fail deep inside a write as a 500. Every tRPC input and REST body,
 * query and params are checked first: a NUL is the caller's mistake, a 400 naming the field.
 */
import { AppError, type AppErrorDetail } from '@dawg/shared';

const MESSAGE = 'must not contain NUL (U+0000) characters';

interface Frame {
  value: unknown;
  key: string | number | null;
  parent: Frame | null;
}

function pathOf(frame: Frame): (string | number)[] {
  const path: (string | number)[] = [];
  for (let f: Frame | null = frame; f && f.key !== null; f = f.parent) path.push(f.key);
  return path.reverse();
}

/**
 * The path of the first string (value or key) holding U+0000, or null. Iterative, with parent links instead of
 * copied paths: a deeply nested input costs linear time and cannot overflow the stack.
 */
export function findNulCharacter(value: unknown): (string | number)[] | null {
  const stack: Frame[] = [{ value, key: null, parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return pathOf(frame);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: i, parent: frame });
    } else if (v !== null && typeof v === 'object') {
      for (const [key, child] of Object.entries(v)) {
        if (key.includes('\u0000')) return [...pathOf(frame), key];
        stack.push({ value: child, key, parent: frame });
      }
    }
  }
  return null;
}

/** Throws a 400 (`details: [{ path, message }]`, path under `prefix`) when the input holds a NUL character. */
export function assertNoNulCharacters(value: unknown, prefix: (string | number)[] = []): void {
  const path = findNulCharacter(value);
  if (!path) return;
  const details: AppErrorDetail[] = [{ path: [...prefix, ...path], message: MESSAGE }];
  throw new AppError('BAD_REQUEST', 'Validation failed', { details });
}
