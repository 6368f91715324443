/**
 * Migration 0200 — generations.stalls: how many times a running attempt was lost (its worker died or stopped renewing
 * the job's lock) and another attempt took the row over. Shown to operators; a stall never charges twice.
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table generations add column stalls integer not null default 0 check (stalls >= 0)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table generations drop column stalls`.execute(db);
}
