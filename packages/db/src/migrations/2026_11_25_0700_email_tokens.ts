/**
 * Migration 0700 — single-use emailed links: password reset and email verification. Only the SHA-256 of a link's
 * token is stored; `email` is the address the link was sent to (a verification counts only while it is still the
 * account's address); `used_at` marks a link spent (it works once).
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `create table email_tokens (
         id uuid primary key default gen_random_uuid(),
         user_id uuid not null references users(id) on delete cascade,
         kind text not null check (kind in ('password_reset', 'email_verify')),
         token_hash text not null unique,
         email text not null,
         expires_at timestamptz not null,
         used_at timestamptz,
         created_at timestamptz not null default now()
       )`,
    )
    .execute(db);
  await sql.raw(`create index email_tokens_user_kind_idx on email_tokens (user_id, kind)`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(`drop table if exists email_tokens`).execute(db);
}
