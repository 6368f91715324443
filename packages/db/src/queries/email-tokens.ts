/**
 * Single-use emailed links (password reset, email verification): stored by the SHA-256 of their token, spent in one
 * conditional UPDATE (unused, unexpired, of the kind), so a link works once even when two requests race.
 */
import type { EmailTokenKind } from '@dawg/shared';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export async function insertEmailToken(
  db: DbOrTx,
  t: { userId: string; kind: EmailTokenKind; tokenHash: string; email: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('email_tokens')
    .values({ user_id: t.userId, kind: t.kind, token_hash: t.tokenHash, email: t.email, expires_at: t.expiresAt })
    .execute();
}

/** Spends a link: its user and address when it was unused and unexpired, else undefined. */
export async function consumeEmailToken(
  db: DbOrTx,
  kind: EmailTokenKind,
  tokenHash: string,
  now: Date = new Date(),
): Promise<{ userId: string; email: string } | undefined> {
  const row = await db
    .updateTable('email_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', tokenHash)
    .where('kind', '=', kind)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning(['user_id', 'email'])
    .executeTakeFirst();
  return row ? { userId: row.user_id, email: row.email } : undefined;
}

/** Spends every outstanding link of a kind of a user (e.g. the other reset links once the password changed). */
export async function spendEmailTokensOf(db: DbOrTx, userId: string, kind: EmailTokenKind, now = new Date()) {
  await db
    .updateTable('email_tokens')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('kind', '=', kind)
    .where('used_at', 'is', null)
    .execute();
}
