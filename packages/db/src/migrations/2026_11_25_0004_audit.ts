/**
 * Migration 0004 — audit_logs (seed hardening section 8: who did what, from where, with which status and how long)
 * and in-app notifications (budget alerts, finished generations).
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

async function run(db: Kysely<any>, statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    // user_id survives as null when the user is deleted: the trail outlives the account.
    `create table audit_logs (
       id uuid primary key default gen_random_uuid(),
       user_id uuid references users (id) on delete set null,
       action text not null check (length(action) between 1 and 200),
       target_type text,
       target_id text,
       ip text,
       user_agent text,
       status_code integer check (status_code between 100 and 599),
       duration_ms integer check (duration_ms >= 0),
       metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
       created_at timestamptz not null default now()
     )`,
    `create index audit_logs_user_id_created_at_idx on audit_logs (user_id, created_at desc)`,
    `create index audit_logs_action_created_at_idx on audit_logs (action, created_at desc)`,
    `create index audit_logs_created_at_idx on audit_logs (created_at)`,

    `create table notifications (
       id uuid primary key default gen_random_uuid(),
       user_id uuid not null references users (id) on delete cascade,
       kind text not null check (kind in
         ('budget_alert', 'generation_succeeded', 'generation_failed', 'mixdown_ready', 'billing', 'system')),
       title text not null,
       body text not null default '',
       payload jsonb not null default '{}' check (jsonb_typeof(payload) = 'object'),
       read_at timestamptz,
       created_at timestamptz not null default now()
     )`,
    `create index notifications_user_id_created_at_idx on notifications (user_id, created_at desc)`,
    `create index notifications_user_id_unread_idx on notifications (user_id) where read_at is null`,
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await run(db, [`drop table notifications`, `drop table audit_logs`]);
}
