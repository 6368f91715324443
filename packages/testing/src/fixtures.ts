/**
 * Rows a test needs before it can act: a user with a live session (token usable as the session cookie or Bearer).
 */
import { randomBytes } from 'node:crypto';
import type { Insertable, Kysely, Selectable } from 'kysely';
import { createSession, type Database, UNUSABLE_PASSWORD_HASH } from '@dawg/db';

export interface CreateUserOptions {
  role?: 'user' | 'admin';
  email?: string;
  name?: string;
  plan?: Insertable<Database['users']>['plan'];
  /**
   * Stored as is. Defaults to a sentinel that never verifies (fixtures stay cheap: no argon2 here); tests that log in
   * with a password hash it once with @dawg/db's hashPassword and pass the hash.
   */
  passwordHash?: string | null;
}

export type TestUser = Selectable<Database['users']>;

export async function createUser(
  db: Kysely<Database>,
  opts: CreateUserOptions = {},
): Promise<{ user: TestUser; token: string }> {
  const suffix = randomBytes(4).toString('hex');
  const user = await db
    .insertInto('users')
    .values({
      email: opts.email ?? `user-${suffix}@test.dawg.local`,
      name: opts.name ?? `Test User ${suffix}`,
      role: opts.role ?? 'user',
      ...(opts.plan !== undefined ? { plan: opts.plan } : {}),
      password_hash: opts.passwordHash === undefined ? UNUSABLE_PASSWORD_HASH : opts.passwordHash,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const { token } = await createSession(db, user.id);
  return { user, token };
}
