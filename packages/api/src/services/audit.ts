/**
 * Writing the audit trail from request handlers. An audit write never fails the action it records (the action has
 * already happened); a failed write is logged as an error instead, where alerting picks it up.
 */
import { type AuditEntry, type Database, recordAudit } from '@dawg/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';

/** Where a call came from, as the audit log and the sessions table record it. */
export interface CallMeta {
  ip: string;
  userAgent: string | null;
}

export function callMeta(req: { ip: string; headers: { 'user-agent'?: string | undefined } }): CallMeta {
  return { ip: req.ip, userAgent: req.headers['user-agent'] ?? null };
}

export async function audit(
  deps: { db: Kysely<Database>; log: FastifyBaseLogger },
  meta: CallMeta,
  entry: Omit<AuditEntry, 'ip' | 'userAgent'>,
): Promise<void> {
  try {
    await recordAudit(deps.db, { ...entry, ip: meta.ip, userAgent: meta.userAgent });
  } catch (err) {
    deps.log.error({ err, action: entry.action }, 'writing the audit log failed');
  }
}
