/**
 * Migration 0800 — demo mode's ephemeral accounts. `ephemeral` marks an account made for one visitor of a demo
 * deployment; `ephemeral_expires_at` is when the cleanup job removes it (with its objects); `ephemeral_ip` is the
 * rate-limit key of the address it was made from (demo generations are limited per address). Keeping the work turns
 * the account into a normal one: all three go back to false/null together (the check keeps them consistent).
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`alter table users add column ephemeral boolean not null default false`).execute(db);
  await sql.raw(`alter table users add column ephemeral_expires_at timestamptz`).execute(db);
  await sql.raw(`alter table users add column ephemeral_ip text`).execute(db);
  await sql
    .raw(
      `alter table users add constraint users_ephemeral_check check (
         (ephemeral and ephemeral_expires_at is not null)
         or (not ephemeral and ephemeral_expires_at is null and ephemeral_ip is null)
       )`,
    )
    .execute(db);
  await sql.raw(`create index users_ephemeral_expires_idx on users (ephemeral_expires_at) where ephemeral`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(`drop index if exists users_ephemeral_expires_idx`).execute(db);
  await sql.raw(`alter table users drop constraint if exists users_ephemeral_check`).execute(db);
  await sql.raw(`alter table users drop column if exists ephemeral_ip`).execute(db);
  await sql.raw(`alter table users drop column if exists ephemeral_expires_at`).execute(db);
  await sql.raw(`alter table users drop column if exists ephemeral`).execute(db);
}
