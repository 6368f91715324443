/**
 * The audit trail (seed hardening 8): who did what, from where, with which outcome. Rows are only ever inserted;
 * they keep a null user when the account is deleted. Metadata must never hold secrets (passwords, tokens, keys).
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import { json, type AuditLogsTable, type Database, type JsonObject } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type AuditLog = Selectable<AuditLogsTable>;

export interface AuditEntry {
  userId?: string | null;
  /** `domain.verb`, e.g. `auth.login`, `auth.login_failed`, `admin.users.disable`. */
  action: string;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  statusCode?: number | null;
  durationMs?: number | null;
  metadata?: JsonObject;
}

/** User agents are attacker-controlled; bounded so a row stays small. */
const USER_AGENT_MAX_CHARS = 512;

export async function recordAudit(db: DbOrTx, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_logs')
    .values({
      user_id: entry.userId ?? null,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      ip: entry.ip ?? null,
      user_agent: entry.userAgent?.slice(0, USER_AGENT_MAX_CHARS) ?? null,
      status_code: entry.statusCode ?? null,
      duration_ms: entry.durationMs === undefined || entry.durationMs === null ? null : Math.round(entry.durationMs),
      metadata: json(entry.metadata ?? {}),
    })
    .execute();
}

/** Admin view: newest first, optionally one user's or one action's, keyset-paged by `before` (a created_at). */
export async function listAuditLogs(
  db: DbOrTx,
  opts: { limit: number; before?: Date; userId?: string; action?: string },
): Promise<AuditLog[]> {
  let query = db.selectFrom('audit_logs').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(opts.limit);
  if (opts.before) query = query.where('created_at', '<', opts.before);
  if (opts.userId) query = query.where('user_id', '=', opts.userId);
  if (opts.action) query = query.where('action', '=', opts.action);
  return query.execute();
}

/** A user's own trail (account security page). */
export async function listUserAuditLogs(db: DbOrTx, userId: string, opts: { limit: number }): Promise<AuditLog[]> {
  return db
    .selectFrom('audit_logs')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(opts.limit)
    .execute();
}
