/**
 * Migration 0300 — chat_turns: one row per assistant turn of the AI producer (the user's message, the provider calls
 * and tool rounds that answer it). It says who may read the turn's events, whether it is still running (at most one
 * running turn per conversation), how it ended and why, and what it cost. `messages.turn_id` ties each message to its
 * turn. Frozen: never edit after release; write a new migration instead. Plain SQL only (Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

async function run(db: Kysely<any>, statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    `create table chat_turns (
       id uuid primary key default gen_random_uuid(),
       conversation_id uuid not null references conversations (id) on delete cascade,
       user_id uuid not null references users (id) on delete cascade,
       status text not null default 'running' check (status in ('running', 'succeeded', 'failed', 'canceled')),
       error text,
       input_tokens integer not null default 0 check (input_tokens >= 0),
       output_tokens integer not null default 0 check (output_tokens >= 0),
       cost_micro bigint not null default 0 check (cost_micro >= 0),
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now(),
       finished_at timestamptz,
       check ((status = 'running') = (finished_at is null)),
       check (status <> 'failed' or error is not null)
     )`,
    `create unique index chat_turns_one_running_idx on chat_turns (conversation_id) where status = 'running'`,
    `create index chat_turns_conversation_id_idx on chat_turns (conversation_id, created_at)`,
    `create index chat_turns_user_id_idx on chat_turns (user_id)`,
    `create trigger chat_turns_set_updated_at before update on chat_turns
       for each row execute function set_updated_at()`,
    `alter table messages add column turn_id uuid references chat_turns (id) on delete cascade`,
    `create index messages_turn_id_idx on messages (turn_id)`,
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await run(db, [`alter table messages drop column turn_id`, `drop table chat_turns`]);
}
