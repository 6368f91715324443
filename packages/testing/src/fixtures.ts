/**
 * Rows a test needs before it can act: a user with a live session (token usable as the session cookie or Bearer).
 */
import { randomBytes } from 'node:crypto';
import type { Insertable, Kysely, Selectable } from 'kysely';
import { createHold, createSession, type Database, insertGeneration, UNUSABLE_PASSWORD_HASH } from '@dawg/db';
import { GENERATE_JOB_OPTIONS, JOB_NAMES } from '@dawg/shared';

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

/** What the fault tests need of a BullMQ queue (the testing package does not depend on bullmq). */
export interface GenerationQueueLike {
  add(name: string, data: { generationId: string }, opts: Record<string, unknown>): Promise<unknown>;
}

/**
 * A zero-cost test-provider generation as admission would leave it — the `queued` row and its (zero) hold — and its
 * job on the generate queue. For tests that drive workers directly, without the api.
 */
export async function enqueueTestGeneration(
  db: Kysely<Database>,
  queue: GenerationQueueLike,
  g: { ownerId: string; prompt: string; seed: number; durationSec?: number; variants?: number },
): Promise<string> {
  const row = await insertGeneration(db, {
    ownerId: g.ownerId,
    projectId: null,
    kind: 'song',
    prompt: g.prompt,
    params: {
      mode: 'simple',
      prompt: g.prompt,
      instrumental: true,
      durationSec: g.durationSec ?? 4,
      seed: g.seed,
      variants: g.variants ?? 2,
    },
    provider: 'test',
    model: 'test-tone-1',
    estimatedCostMicro: 0,
    idempotencyKey: null,
  });
  await createHold(db, {
    userId: g.ownerId,
    kind: 'music',
    amountMicro: 0,
    generationId: row.id,
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  await queue.add(JOB_NAMES.generate, { generationId: row.id }, { ...GENERATE_JOB_OPTIONS, jobId: row.id });
  return row.id;
}
