/**
 * Migration 0600 — read-only compatibility views so the seed's psql checks run as written against our snake_case
 * tables: `"User"` (with `"lastLoginAt"`), `"Session"`, `"Project"`, `"Conversation"`, `"Message"`, `"Generation"`
 * (status in the REST vocabulary, `duration` = run wall time in ms) and `"AIMemory"`. Secrets (password hashes,
 * key hashes) are not in them. They are plain views: a later migration that changes a column they read must drop
 * and recreate the view in the same migration (Postgres refuses otherwise).
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

export const COMPAT_VIEWS = [
  'User',
  'Session',
  'Project',
  'Conversation',
  'Message',
  'Generation',
  'AIMemory',
] as const;

const VIEWS: Record<(typeof COMPAT_VIEWS)[number], string> = {
  User: `select id, email, name, role, plan,
           email_verified_at as "emailVerifiedAt", last_login_at as "lastLoginAt", disabled_at as "disabledAt",
           created_at as "createdAt", updated_at as "updatedAt"
         from users`,
  Session: `select id, user_id as "userId", expires_at as "expiresAt", last_seen_at as "lastSeenAt",
              user_agent as "userAgent", ip, created_at as "createdAt"
            from sessions`,
  Project: `select id, owner_id as "userId", name, bpm, key, time_signature as "timeSignature",
              created_at as "createdAt", updated_at as "updatedAt"
            from projects`,
  Conversation: `select id, user_id as "userId", project_id as "projectId", title,
                   created_at as "createdAt", updated_at as "updatedAt"
                 from conversations`,
  Message: `select id, conversation_id as "conversationId", role, content, provider, model,
              input_tokens as "inputTokens", output_tokens as "outputTokens", created_at as "createdAt"
            from messages`,
  Generation: `select id, owner_id as "userId", project_id as "projectId", conversation_id as "conversationId",
                 prompt,
                 case status when 'succeeded' then 'completed' else status end
                   as status,
                 stage, progress, provider, model, error, duration_ms as duration,
                 actual_cost_micro as "costMicro", created_at as "createdAt", started_at as "startedAt",
                 completed_at as "completedAt", updated_at as "updatedAt"
               from generations`,
  AIMemory: `select id, user_id as "userId", project_id as "projectId", key, content, category, importance,
               created_at as "createdAt", updated_at as "updatedAt"
             from ai_memories`,
};

export async function up(db: Kysely<any>): Promise<void> {
  for (const name of COMPAT_VIEWS) {
    await sql.raw(`create view "${name}" as ${VIEWS[name]}`).execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of [...COMPAT_VIEWS].reverse()) await sql.raw(`drop view if exists "${name}"`).execute(db);
}
