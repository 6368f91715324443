/**
 * Demo mode's ephemeral accounts: made for one visitor (never shared), kept until `ephemeral_expires_at`, then removed
 * with everything they own by the worker's cleanup job. "Keep my work" turns one into a normal account in place, so
 * its projects and tracks stay where they are.
 */
import { AppError } from '@dawg/shared';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema';
import { normalizeEmail, PUBLIC_USER_COLUMNS, type PublicUser } from './users';

type DbOrTx = Kysely<Database> | Transaction<Database>;

function isEmailTaken(err: unknown): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'users_email_lower_key';
}

function emailTaken(err: unknown): AppError {
  return new AppError('CONFLICT', 'An account with this email already exists', {
    details: [{ path: ['email'], message: 'already registered' }],
    cause: err,
  });
}

/** A new ephemeral account: no password (nobody can sign in to it), a placeholder address, an expiry. */
export async function createEphemeralUser(
  db: DbOrTx,
  input: { email: string; name: string; expiresAt: Date; ipKey: string },
): Promise<PublicUser> {
  return db
    .insertInto('users')
    .values({
      email: normalizeEmail(input.email),
      password_hash: null,
      name: input.name,
      ephemeral: true,
      ephemeral_expires_at: input.expiresAt,
      ephemeral_ip: input.ipKey,
    })
    .returning(PUBLIC_USER_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** The demo facts of an account, or null for a normal (or missing) one. */
export async function findEphemeralAccount(
  db: DbOrTx,
  userId: string,
): Promise<{ expiresAt: Date; ipKey: string | null } | null> {
  const row = await db
    .selectFrom('users')
    .select(['ephemeral', 'ephemeral_expires_at', 'ephemeral_ip'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!row?.ephemeral || !row.ephemeral_expires_at) return null;
  return { expiresAt: row.ephemeral_expires_at, ipKey: row.ephemeral_ip };
}

/**
 * Keeps an ephemeral account: the real address, name and password replace the placeholders and the demo columns are
 * cleared, in one conditional update (a second call, or an account that is not ephemeral, changes nothing and
 * answers undefined). CONFLICT naming `email` when the address belongs to another account.
 */
export async function convertEphemeralUser(
  db: DbOrTx,
  userId: string,
  input: { email: string; passwordHash: string; name: string | null },
): Promise<PublicUser | undefined> {
  try {
    return await db
      .updateTable('users')
      .set({
        email: normalizeEmail(input.email),
        password_hash: input.passwordHash,
        name: input.name,
        email_verified_at: null,
        ephemeral: false,
        ephemeral_expires_at: null,
        ephemeral_ip: null,
      })
      .where('id', '=', userId)
      .where('ephemeral', '=', true)
      // An account the cleanup job has claimed (expired, disabled) is gone for good.
      .where('ephemeral_expires_at', '>', new Date())
      .where('disabled_at', 'is', null)
      .returning(PUBLIC_USER_COLUMNS)
      .executeTakeFirst();
  } catch (err) {
    if (isEmailTaken(err)) throw emailTaken(err);
    throw err;
  }
}

/**
 * Claims an expired ephemeral account for removal: disabled (its sessions stop working) unless it was kept meanwhile.
 * True when the account is (still) an expired ephemeral one — also when an earlier, interrupted run claimed it.
 */
export async function claimExpiredEphemeralUser(db: DbOrTx, userId: string, now: Date): Promise<boolean> {
  const row = await db
    .updateTable('users')
    .set((eb) => ({ disabled_at: eb.fn.coalesce('disabled_at', eb.val(now)) }))
    .where('id', '=', userId)
    .where('ephemeral', '=', true)
    .where('ephemeral_expires_at', '<=', now)
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Ephemeral accounts whose time is up (oldest first); normal accounts are never listed, whatever their columns. */
export async function listExpiredEphemeralUsers(db: DbOrTx, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('users')
    .select('id')
    .where('ephemeral', '=', true)
    .where('ephemeral_expires_at', '<=', now)
    .orderBy('ephemeral_expires_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
