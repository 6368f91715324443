/**
 * Field-level reasons of a failed validation, in the one shape both transports expose: `[{ path, message }]`.
 * Accepts zod errors and any Standard Schema failure (tRPC wraps non-zod validators in StandardSchemaV1Error).
 */
import type { AppErrorDetail } from '@dawg/shared';

interface IssueLike {
  path?: readonly unknown[];
  message: string;
}

function isIssueList(value: unknown): value is IssueLike[] {
  return (
    Array.isArray(value) &&
    value.every((i) => typeof i === 'object' && i !== null && typeof (i as IssueLike).message === 'string')
  );
}

/** A path segment may be a key, an index, a symbol or a Standard Schema `{ key }` object. */
function segment(part: unknown): string | number {
  if (typeof part === 'number' || typeof part === 'string') return part;
  if (typeof part === 'symbol') return part.description ?? part.toString();
  if (typeof part === 'object' && part !== null && 'key' in part) return segment((part as { key: unknown }).key);
  return String(part);
}

/** The issues of a validation error, or null when `err` is not one. */
export function validationDetails(err: unknown): AppErrorDetail[] | null {
  if (typeof err !== 'object' || err === null) return null;
  const issues = (err as { issues?: unknown }).issues;
  if (!isIssueList(issues)) return null;
  return issues.map((i) => ({ path: (i.path ?? []).map(segment), message: i.message }));
}
