/**
 * Migration 0500 — what a mixdown produced: whether stems were asked for, the zip of stems (one WAV per lane) and the
 * rendered length. The mix itself is a `tracks` row (source `mixdown`, `mixdowns.track_id`) holding its WAV, MP3 and
 * peaks, so it appears in the library like any other audio.
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

async function run(db: Kysely<any>, statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    `alter table mixdowns add column stems boolean not null default false`,
    `alter table mixdowns add column stems_key text`,
    `alter table mixdowns add column duration_sec double precision check (duration_sec >= 0)`,
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await run(db, [
    `alter table mixdowns drop column duration_sec`,
    `alter table mixdowns drop column stems_key`,
    `alter table mixdowns drop column stems`,
  ]);
}
