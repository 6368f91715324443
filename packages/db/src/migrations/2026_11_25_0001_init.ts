/**
 * Migration 0001 — identity: users, sessions (Lucia model: id = SHA-256 hex of the token), api_keys (hash +
 * displayable prefix), and the `set_updated_at()` trigger function later tables reuse.
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

async function run(db: Kysely<any>, statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    // Keeps updated_at honest even for writers that forget it, without overriding an explicit value.
    `create function set_updated_at() returns trigger language plpgsql as $$
     begin
       if new.updated_at is not distinct from old.updated_at then
         new.updated_at := now();
       end if;
       return new;
     end
     $$`,

    `create table users (
       id uuid primary key default gen_random_uuid(),
       email text not null check (length(email) between 3 and 254 and position('@' in email) > 1),
       password_hash text,
       name text,
       role text not null default 'user' check (role in ('user', 'admin')),
       plan text not null default 'free' check (plan in ('free', 'pro', 'studio')),
       stripe_customer_id text unique,
       email_verified_at timestamptz,
       last_login_at timestamptz,
       disabled_at timestamptz,
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now()
     )`,
    `create unique index users_email_lower_key on users (lower(email))`,
    `create index users_last_login_at_idx on users (last_login_at)`,
    `create trigger users_set_updated_at before update on users for each row execute function set_updated_at()`,

    `create table sessions (
       id text primary key check (id ~ '^[0-9a-f]{64}$'),
       user_id uuid not null references users (id) on delete cascade,
       expires_at timestamptz not null,
       created_at timestamptz not null default now(),
       last_seen_at timestamptz not null default now(),
       user_agent text,
       ip text
     )`,
    `create index sessions_user_id_idx on sessions (user_id)`,
    `create index sessions_expires_at_idx on sessions (expires_at)`,

    `create table api_keys (
       id uuid primary key default gen_random_uuid(),
       user_id uuid not null references users (id) on delete cascade,
       name text not null check (length(name) between 1 and 64),
       prefix text not null,
       key_hash text not null unique check (key_hash ~ '^[0-9a-f]{64}$'),
       last_used_at timestamptz,
       expires_at timestamptz,
       revoked_at timestamptz,
       created_at timestamptz not null default now()
     )`,
    `create index api_keys_user_id_idx on api_keys (user_id)`,
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await run(db, [`drop table api_keys`, `drop table sessions`, `drop table users`, `drop function set_updated_at()`]);
}
