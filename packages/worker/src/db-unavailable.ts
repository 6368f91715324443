/**
 * A job that failed because Postgres is unreachable did nothing wrong: it is retried once the database answers, and
 * the attempt is not counted against it (three attempts would otherwise be gone within one short outage, and the
 * last one could not even record its failure). An error only counts as such when it looks like a lost connection
 * AND a probe of the database fails the same way: network errors of other services (S3, a provider) carry the same
 * codes, and a database that is back means the attempt should take its ordinary course.
 */
import { isDatabaseUnavailable, type Database } from '@dawg/db';
import { sql, type Kysely } from 'kysely';

/** Thrown by a job that stopped because the database is unreachable (its own writes are left as they were). */
export class DatabaseUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the database is unreachable', { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** Whether `err` comes from an unreachable database that is still unreachable now. */
export async function isDatabaseDown(db: Kysely<Database>, err: unknown): Promise<boolean> {
  if (err instanceof DatabaseUnavailableError) return true;
  if (!isDatabaseUnavailable(err)) return false;
  try {
    await sql`select 1`.execute(db);
    return false;
  } catch (probe) {
    return isDatabaseUnavailable(probe);
  }
}

/** Deferrals of one job for an unreachable database before its failures count again (~8 minutes of waiting). */
export const MAX_DATABASE_DEFERRALS = 40;

/** 1 s, 2 s, 4 s, 8 s, then every 15 s. */
export function databaseRetryDelayMs(deferrals: number): number {
  return Math.min(1_000 * 2 ** Math.min(deferrals, 4), 15_000);
}
