/**
 * Migration 0100 — project_edits: the undo/redo history of each project's arrangement. One row per
 * `arrangement.apply`, in `seq` order, holding the operations that made it (`forward_ops`, every field resolved) and
 * those that revert it (`inverse_ops`, computed from the state before). `undone_at` marks edits undone: they are
 * always the newest ones (the redo tail), and a new edit drops them.
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

async function run(db: Kysely<any>, statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    `create table project_edits (
       id uuid primary key default gen_random_uuid(),
       project_id uuid not null references projects (id) on delete cascade,
       seq integer not null check (seq >= 1),
       user_id uuid references users (id) on delete set null,
       forward_ops jsonb not null check (jsonb_typeof(forward_ops) = 'array'),
       inverse_ops jsonb not null check (jsonb_typeof(inverse_ops) = 'array'),
       undone_at timestamptz,
       created_at timestamptz not null default now(),
       unique (project_id, seq)
     )`,
    `create index project_edits_user_id_idx on project_edits (user_id)`,
    // Deleting a track finds the histories that would re-create its clips (addClip ops name the track).
    `create index project_edits_forward_ops_idx on project_edits using gin (forward_ops jsonb_path_ops)`,
    `create index project_edits_inverse_ops_idx on project_edits using gin (inverse_ops jsonb_path_ops)`,
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await run(db, [`drop table project_edits`]);
}
