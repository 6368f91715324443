/**
 * API keys (seed hardening 4.2) for external integrations. A key is `dawg_` + 32 base32 characters (160 random bits);
 * only its SHA-256 (hex) is stored, with the first characters in clear (`prefix`) so a user can tell keys apart.
 * Every query is scoped to the owning user except `validateApiKey`, which is how a key finds its user.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeBase32LowerCaseNoPadding, encodeHexLowerCase } from '@oslojs/encoding';
import { API_KEY_DISPLAY_PREFIX_CHARS, API_KEY_PREFIX, AppError, LIMITS } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { ApiKeysTable, Database } from '../schema';
import { PUBLIC_USER_COLUMNS, pickPublicUser, type PublicUser } from './users';

type DbOrTx = Kysely<Database> | Transaction<Database>;

/** An API key row without its hash: what may leave this module. */
export type ApiKey = Omit<Selectable<ApiKeysTable>, 'key_hash'>;

const API_KEY_COLUMNS = [
  'id',
  'user_id',
  'name',
  'prefix',
  'last_used_at',
  'expires_at',
  'revoked_at',
  'created_at',
] as const satisfies readonly (keyof ApiKeysTable)[];

const KEY_PATTERN = new RegExp(`^${API_KEY_PREFIX}[a-z2-7]{32}$`);
/** last_used_at is written at most this often per key, so using a key is not a write per request. */
const LAST_USED_RESOLUTION_MS = 60_000;
const encoder = new TextEncoder();

export function generateApiKey(): string {
  const bytes = new Uint8Array(20);
  crypto.getRandomValues(bytes);
  return API_KEY_PREFIX + encodeBase32LowerCaseNoPadding(bytes);
}

export function isApiKeyFormat(value: string): boolean {
  return KEY_PATTERN.test(value);
}

export function apiKeyHash(key: string): string {
  return encodeHexLowerCase(sha256(encoder.encode(key)));
}

/** Create a key for the user; CONFLICT when they already have LIMITS.API_KEYS_PER_USER live keys. */
export async function createApiKey(
  db: Kysely<Database>,
  userId: string,
  input: { name: string; expiresAt?: Date | null },
): Promise<{ key: string; apiKey: ApiKey }> {
  const key = generateApiKey();
  const apiKey = await db.transaction().execute(async (trx) => {
    // Serialises concurrent creates of one user, so the limit holds.
    await trx.selectFrom('users').select('id').where('id', '=', userId).forUpdate().executeTakeFirstOrThrow();
    const live = await trx
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(live.n) >= LIMITS.API_KEYS_PER_USER) {
      throw new AppError('CONFLICT', `At most ${LIMITS.API_KEYS_PER_USER} API keys; revoke one first`);
    }
    return trx
      .insertInto('api_keys')
      .values({
        user_id: userId,
        name: input.name,
        prefix: key.slice(0, API_KEY_DISPLAY_PREFIX_CHARS),
        key_hash: apiKeyHash(key),
        expires_at: input.expiresAt ?? null,
      })
      .returning(API_KEY_COLUMNS)
      .executeTakeFirstOrThrow();
  });
  return { key, apiKey };
}

/** The user's keys, newest first, revoked ones included (the UI shows them as revoked). */
export async function listApiKeys(db: DbOrTx, userId: string): Promise<ApiKey[]> {
  return db
    .selectFrom('api_keys')
    .select(API_KEY_COLUMNS)
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

/** Revoke one of the user's keys; false when the user has no such live key. */
export async function revokeApiKey(db: DbOrTx, userId: string, keyId: string, now = new Date()): Promise<boolean> {
  const result = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', keyId)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Revoke every live key of the user (account closure); the ids of the keys revoked. */
export async function revokeUserApiKeys(db: DbOrTx, userId: string, now = new Date()): Promise<string[]> {
  const rows = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/**
 * The key and its user for a presented key, or null when it is malformed, unknown, revoked, expired or its user is
 * disabled. Records the use (at most once a minute per key).
 */
export async function validateApiKey(
  db: DbOrTx,
  key: string,
  opts: { now?: Date } = {},
): Promise<{ apiKey: ApiKey; user: PublicUser } | null> {
  if (!isApiKeyFormat(key)) return null;
  const hash = apiKeyHash(key);
  const now = opts.now ?? new Date();
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select([
      'api_keys.key_hash as key_hash',
      'api_keys.id as key_id',
      'api_keys.user_id as key_user_id',
      'api_keys.name as key_name',
      'api_keys.prefix as key_prefix',
      'api_keys.last_used_at as key_last_used_at',
      'api_keys.expires_at as key_expires_at',
      'api_keys.revoked_at as key_revoked_at',
      'api_keys.created_at as key_created_at',
      'users.disabled_at as user_disabled_at',
      ...PUBLIC_USER_COLUMNS.map((c) => `users.${c}` as const),
    ])
    .where('api_keys.key_hash', '=', hash)
    .executeTakeFirst();
  if (!row || !constantTimeEqual(encoder.encode(row.key_hash), encoder.encode(hash))) return null;
  if (row.key_revoked_at !== null || row.user_disabled_at !== null) return null;
  if (row.key_expires_at !== null && row.key_expires_at.getTime() <= now.getTime()) return null;

  let lastUsedAt = row.key_last_used_at;
  if (lastUsedAt === null || now.getTime() - lastUsedAt.getTime() >= LAST_USED_RESOLUTION_MS) {
    await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.key_id).execute();
    lastUsedAt = now;
  }
  return {
    apiKey: {
      id: row.key_id,
      user_id: row.key_user_id,
      name: row.key_name,
      prefix: row.key_prefix,
      last_used_at: lastUsedAt,
      expires_at: row.key_expires_at,
      revoked_at: row.key_revoked_at,
      created_at: row.key_created_at,
    },
    user: pickPublicUser(row),
  };
}
