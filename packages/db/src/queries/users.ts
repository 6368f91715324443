/**
 * User queries. Every helper is scoped to one user id (the caller's own row); password hashes leave this module only
 * through findUserByEmail, for login. Emails are compared case-insensitively (unique index on lower(email)).
 */
import { AppError, type PlanId, type Role } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, UsersTable } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type UserRow = Selectable<UsersTable>;

/** The columns safe to hand to a client: never the password hash or Stripe ids. */
export const PUBLIC_USER_COLUMNS = [
  'id',
  'email',
  'name',
  'role',
  'plan',
  'email_verified_at',
  'last_login_at',
  'created_at',
  'updated_at',
  'ephemeral',
  'ephemeral_expires_at',
] as const satisfies readonly (keyof UsersTable)[];

export type PublicUser = Pick<UserRow, (typeof PUBLIC_USER_COLUMNS)[number]>;

/** The public user out of a joined row that selected `PUBLIC_USER_COLUMNS` (the other table's columns stay behind). */
export function pickPublicUser(row: PublicUser): PublicUser {
  const user = {} as Record<string, unknown>;
  for (const column of PUBLIC_USER_COLUMNS) user[column] = row[column];
  return user as PublicUser;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}

/** Insert a user; CONFLICT if the email is taken (whatever its case). */
export async function createUser(
  db: DbOrTx,
  input: { email: string; passwordHash?: string | null; name?: string | null; role?: Role; plan?: PlanId },
): Promise<PublicUser> {
  try {
    return await db
      .insertInto('users')
      .values({
        email: normalizeEmail(input.email),
        password_hash: input.passwordHash ?? null,
        name: input.name ?? null,
        ...(input.role ? { role: input.role } : {}),
        ...(input.plan ? { plan: input.plan } : {}),
      })
      .returning(PUBLIC_USER_COLUMNS)
      .executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_key')) {
      throw new AppError('CONFLICT', 'An account with this email already exists', {
        details: [{ path: ['email'], message: 'already registered' }],
        cause: err,
      });
    }
    throw err;
  }
}

export async function findUserById(db: DbOrTx, userId: string): Promise<PublicUser | undefined> {
  return db.selectFrom('users').select(PUBLIC_USER_COLUMNS).where('id', '=', userId).executeTakeFirst();
}

/** The full row (with password_hash) for the login check. */
export async function findUserByEmail(db: DbOrTx, email: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb(eb.fn('lower', ['email']), '=', normalizeEmail(email)))
    .executeTakeFirst();
}

/** The stored password hash of a user (null: no password set; undefined: no such user). */
export async function findPasswordHash(db: DbOrTx, userId: string): Promise<string | null | undefined> {
  const row = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
  return row?.password_hash;
}

/** Whether the account is disabled (closed accounts are disabled until the deletion job removes them). */
export async function isUserDisabled(db: DbOrTx, userId: string): Promise<boolean | undefined> {
  const row = await db.selectFrom('users').select('disabled_at').where('id', '=', userId).executeTakeFirst();
  return row ? row.disabled_at !== null : undefined;
}

/**
 * Every S3 key the user's rows point at (tracks: audio, peaks, originals). Account deletion removes these as well
 * as everything under the user's prefix, in case a key was ever written elsewhere.
 */
export async function listUserStorageKeys(db: DbOrTx, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('tracks')
    .select(['mp3_key', 'wav_key', 'peaks_key', 'original_key'])
    .where('owner_id', '=', userId)
    .execute();
  const keys = new Set<string>();
  for (const row of rows) {
    for (const key of [row.mp3_key, row.wav_key, row.peaks_key, row.original_key]) if (key) keys.add(key);
  }
  return [...keys].sort();
}

/** The S3 prefix of everything a user uploads or generates. */
export function userStoragePrefix(userId: string): string {
  return `users/${userId}/`;
}

export async function updateUser(
  db: DbOrTx,
  userId: string,
  patch: { name?: string | null; email?: string; passwordHash?: string | null; emailVerifiedAt?: Date | null },
): Promise<PublicUser | undefined> {
  const values = {
    ...(patch.name !== undefined ? { name: patch.name } : {}),
    ...(patch.email !== undefined ? { email: normalizeEmail(patch.email), email_verified_at: null } : {}),
    ...(patch.emailVerifiedAt !== undefined ? { email_verified_at: patch.emailVerifiedAt } : {}),
    ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
  };
  if (Object.keys(values).length === 0) return findUserById(db, userId);
  try {
    return await db
      .updateTable('users')
      .set(values)
      .where('id', '=', userId)
      .returning(PUBLIC_USER_COLUMNS)
      .executeTakeFirst();
  } catch (err) {
    if (isUniqueViolation(err, 'users_email_lower_key')) {
      throw new AppError('CONFLICT', 'An account with this email already exists', { cause: err });
    }
    throw err;
  }
}

/** Stamp a successful login (the seed's active-users query reads last_login_at). */
export async function recordLogin(db: DbOrTx, userId: string, now: Date = new Date()): Promise<void> {
  await db.updateTable('users').set({ last_login_at: now }).where('id', '=', userId).execute();
}

export async function setUserPlan(db: DbOrTx, userId: string, plan: PlanId): Promise<PublicUser | undefined> {
  return db
    .updateTable('users')
    .set({ plan })
    .where('id', '=', userId)
    .returning(PUBLIC_USER_COLUMNS)
    .executeTakeFirst();
}

export async function setUserRole(db: DbOrTx, userId: string, role: Role): Promise<PublicUser | undefined> {
  return db
    .updateTable('users')
    .set({ role })
    .where('id', '=', userId)
    .returning(PUBLIC_USER_COLUMNS)
    .executeTakeFirst();
}

/** Disable (or re-enable) an account; a disabled user's sessions stop validating at once. */
export async function setUserDisabled(db: DbOrTx, userId: string, disabled: boolean): Promise<void> {
  await db
    .updateTable('users')
    .set({ disabled_at: disabled ? new Date() : null })
    .where('id', '=', userId)
    .execute();
}

/** Delete a user and (by cascade) everything they own; audit rows keep a null user. */
export async function deleteUser(db: DbOrTx, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Users who logged in since `since` (the seed's appendix C "active users"). */
export async function countActiveUsers(db: DbOrTx, since: Date): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('last_login_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
