/**
 * Sessions, Lucia's model: the client holds a random token (20 bytes, base32 lowercase, no padding); the database
 * holds only its SHA-256 hex as `sessions.id`, so a leaked table cannot be replayed. Sessions last 30 days and slide:
 * validating one with fewer than 15 days left pushes expiry back to 30 days.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import { SESSION_RENEW_BEFORE_MS, SESSION_TTL_MS } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, SessionsTable } from '../schema';
import { PUBLIC_USER_COLUMNS, pickPublicUser, type PublicUser } from './users';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type Session = Selectable<SessionsTable>;

export interface SessionValidationResult {
  session: Session;
  user: PublicUser;
}

/** last_seen_at is refreshed at most this often, so validation is not a write per request. */
const LAST_SEEN_RESOLUTION_MS = 60_000;

const TOKEN_PATTERN = /^[a-z2-7]{32}$/;
const encoder = new TextEncoder();

export function generateSessionToken(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return encodeBase32LowerCaseNoPadding(bytes);
}

/** The stored id of a token: SHA-256, lowercase hex. */
export function sessionIdFromToken(token: string): string {
  return encodeHexLowerCase(sha256(encoder.encode(token)));
}

export async function createSession(
  db: DbOrTx,
  userId: string,
  meta: { userAgent?: string | null; ip?: string | null; now?: Date } = {},
): Promise<{ token: string; session: Session }> {
  const token = generateSessionToken();
  const now = meta.now ?? new Date();
  const session = await db
    .insertInto('sessions')
    .values({
      id: sessionIdFromToken(token),
      user_id: userId,
      expires_at: new Date(now.getTime() + SESSION_TTL_MS),
      created_at: now,
      last_seen_at: now,
      user_agent: meta.userAgent ?? null,
      ip: meta.ip ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token, session };
}

/** Why a token does not authenticate: `expired` is told apart so the api can answer the seed's "Token expired". */
export type SessionCheck =
  /** `renewed`: the sliding expiry moved, so a cookie carrying the token should be re-sent. */
  ({ status: 'valid'; renewed: boolean } & SessionValidationResult) | { status: 'invalid' | 'expired' };

/**
 * The session and its user for a token, or null when the token is malformed, unknown, expired (the row is then
 * deleted) or belongs to a disabled user. Extends expiry when fewer than 15 days remain.
 */
export async function validateSessionToken(
  db: DbOrTx,
  token: string,
  opts: { now?: Date } = {},
): Promise<SessionValidationResult | null> {
  const check = await checkSessionToken(db, token, opts);
  return check.status === 'valid' ? { session: check.session, user: check.user } : null;
}

/** validateSessionToken with the reason of a failure. */
export async function checkSessionToken(db: DbOrTx, token: string, opts: { now?: Date } = {}): Promise<SessionCheck> {
  if (!TOKEN_PATTERN.test(token)) return { status: 'invalid' };
  const id = sessionIdFromToken(token);
  const now = opts.now ?? new Date();

  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as session_id',
      'sessions.user_id as session_user_id',
      'sessions.expires_at as session_expires_at',
      'sessions.created_at as session_created_at',
      'sessions.last_seen_at as session_last_seen_at',
      'sessions.user_agent as session_user_agent',
      'sessions.ip as session_ip',
      'users.disabled_at as user_disabled_at',
      ...PUBLIC_USER_COLUMNS.map((c) => `users.${c}` as const),
    ])
    .where('sessions.id', '=', id)
    .executeTakeFirst();
  // The index lookup already matched the hash; the constant-time re-check keeps the comparison itself free of
  // early exits should the lookup ever become a prefix or case-insensitive match.
  if (!row || !constantTimeEqual(encoder.encode(row.session_id), encoder.encode(id))) return { status: 'invalid' };

  if (row.session_expires_at.getTime() <= now.getTime()) {
    await db.deleteFrom('sessions').where('id', '=', id).execute();
    return { status: 'expired' };
  }
  if (row.user_disabled_at !== null) return { status: 'invalid' };
  // A demo account past its expiry no longer signs anyone in, even before the cleanup job removes it.
  if (row.ephemeral && row.ephemeral_expires_at && row.ephemeral_expires_at.getTime() <= now.getTime()) {
    return { status: 'expired' };
  }

  let session: Session = {
    id: row.session_id,
    user_id: row.session_user_id,
    expires_at: row.session_expires_at,
    created_at: row.session_created_at,
    last_seen_at: row.session_last_seen_at,
    user_agent: row.session_user_agent,
    ip: row.session_ip,
  };

  const renew = session.expires_at.getTime() - now.getTime() < SESSION_RENEW_BEFORE_MS;
  const stale = now.getTime() - session.last_seen_at.getTime() >= LAST_SEEN_RESOLUTION_MS;
  if (renew || stale) {
    const expiresAt = renew ? new Date(now.getTime() + SESSION_TTL_MS) : session.expires_at;
    await db.updateTable('sessions').set({ expires_at: expiresAt, last_seen_at: now }).where('id', '=', id).execute();
    session = { ...session, expires_at: expiresAt, last_seen_at: now };
  }

  const user: PublicUser = pickPublicUser(row);
  return { status: 'valid', renewed: renew, session, user };
}

export async function invalidateSession(db: DbOrTx, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** Log a user out everywhere (account disable), or everywhere but `exceptSessionId` (password change). */
export async function invalidateUserSessions(
  db: DbOrTx,
  userId: string,
  opts: { exceptSessionId?: string } = {},
): Promise<number> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (opts.exceptSessionId !== undefined) query = query.where('id', '!=', opts.exceptSessionId);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The id a client sees for a session: derived from the stored id by another hash, so listing sessions never hands
 * out the stored value (and nothing new needs storing). 128 bits, hex.
 */
export function sessionPublicId(sessionId: string): string {
  return encodeHexLowerCase(sha256(encoder.encode(`session-public-id:${sessionId}`))).slice(0, 32);
}

/** Delete one of the user's own sessions by its public id; the stored id of the deleted session, or null. */
export async function invalidateUserSessionByPublicId(
  db: DbOrTx,
  userId: string,
  publicId: string,
): Promise<string | null> {
  const ids = await db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
  const match = ids.find((row) => sessionPublicId(row.id) === publicId);
  if (!match) return null;
  const result = await db
    .deleteFrom('sessions')
    .where('id', '=', match.id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n ? match.id : null;
}

export async function listUserSessions(db: DbOrTx, userId: string, opts: { now?: Date } = {}): Promise<Session[]> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('expires_at', '>', opts.now ?? new Date())
    .orderBy('last_seen_at', 'desc')
    .execute();
}

/** Delete expired sessions (maintenance job); returns how many. */
export async function deleteExpiredSessions(db: DbOrTx, opts: { now?: Date } = {}): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where('expires_at', '<=', opts.now ?? new Date())
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
