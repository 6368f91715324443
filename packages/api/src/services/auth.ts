/**
 * Accounts and sessions, shared by the tRPC procedures and the seed's REST routes: register, login, logout, change
 * password, delete account, list and revoke sessions. Lucia's session model (tokens from @dawg/db; only their
 * SHA-256 is stored), argon2id passwords, an audit row for every outcome, and WebSockets of revoked sessions closed
 * on every instance.
 */
import {
  createSession,
  createUser,
  dummyPasswordHash,
  findPasswordHash,
  findUserByEmail,
  hashPassword,
  invalidateSession,
  invalidateUserSessionByPublicId,
  invalidateUserSessions,
  listUserSessions,
  needsRehash,
  normalizeEmail,
  type PublicUser,
  recordLogin,
  revokeUserApiKeys,
  type Session,
  sessionPublicId,
  setUserDisabled,
  updateUser,
  verifyPassword,
} from '@dawg/db';
import {
  AppError,
  type ChangePasswordInput,
  type LoginInput,
  type PublicUserDto,
  type RegisterInput,
  type SessionInfo,
} from '@dawg/shared';
import type { Context } from '../trpc';
import { audit, type CallMeta } from './audit';
import { assertPasswordNotEmail } from './password-policy';

export type AuthDeps = Pick<Context, 'db' | 'log' | 'revocations' | 'accountDeletion'>;

export interface SignedIn {
  user: PublicUser;
  token: string;
  session: Session;
}

export function toPublicUser(user: PublicUser): PublicUserDto {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    plan: user.plan,
    createdAt: user.created_at.toISOString(),
    ...(user.ephemeral && user.ephemeral_expires_at
      ? { demo: { expiresAt: user.ephemeral_expires_at.toISOString() } }
      : {}),
  };
}

const INVALID_CREDENTIALS = 'Invalid email or password';

function wrongPassword(field: string): AppError {
  return new AppError('BAD_REQUEST', 'Validation failed', { details: [{ path: [field], message: 'is incorrect' }] });
}

export async function register(deps: AuthDeps, input: RegisterInput, meta: CallMeta): Promise<SignedIn> {
  assertPasswordNotEmail(input.password, input.email, 'password');
  const passwordHash = await hashPassword(input.password);
  let user: PublicUser;
  try {
    user = await createUser(deps.db, { email: input.email, passwordHash, name: input.name ?? null });
  } catch (err) {
    if (err instanceof AppError && err.code === 'CONFLICT') {
      await audit(deps, meta, { action: 'auth.register_failed', statusCode: 409, metadata: { reason: 'email_taken' } });
    }
    throw err;
  }
  const { token, session } = await createSession(deps.db, user.id, { userAgent: meta.userAgent, ip: meta.ip });
  await recordLogin(deps.db, user.id);
  await audit(deps, meta, { userId: user.id, action: 'auth.register', statusCode: 201 });
  return { user, token, session };
}

/**
 * A new session for the right password. Unknown emails cost the same argon2 work as known ones, and every failure
 * has the same message, so a caller cannot tell which emails have accounts. `previousSessionId` (the session the
 * request already carried) is ended: a login always starts a fresh session (no fixation).
 */
export async function login(
  deps: AuthDeps,
  input: LoginInput,
  meta: CallMeta,
  previousSessionId?: string | null,
): Promise<SignedIn> {
  const row = await findUserByEmail(deps.db, normalizeEmail(input.email));
  const storedHash = row?.password_hash ?? (await dummyPasswordHash());
  const passwordOk = await verifyPassword(storedHash, input.password);
  if (!row || !row.password_hash || !passwordOk || row.disabled_at !== null) {
    const reason = !row ? 'unknown_email' : row.disabled_at !== null ? 'disabled' : 'wrong_password';
    await audit(deps, meta, {
      userId: row?.id ?? null,
      action: 'auth.login_failed',
      statusCode: 401,
      metadata: { reason },
    });
    throw new AppError('UNAUTHORIZED', INVALID_CREDENTIALS);
  }
  if (needsRehash(row.password_hash)) {
    await updateUser(deps.db, row.id, { passwordHash: await hashPassword(input.password) });
  }
  if (previousSessionId) await invalidateSession(deps.db, previousSessionId);
  const { token, session } = await createSession(deps.db, row.id, { userAgent: meta.userAgent, ip: meta.ip });
  const now = new Date();
  await recordLogin(deps.db, row.id, now);
  await audit(deps, meta, { userId: row.id, action: 'auth.login', statusCode: 200 });
  const { password_hash: _hash, disabled_at: _disabled, stripe_customer_id: _stripe, ...user } = row;
  return { user: { ...user, last_login_at: now }, token, session };
}

export async function logout(deps: AuthDeps, userId: string, session: Session, meta: CallMeta): Promise<void> {
  await invalidateSession(deps.db, session.id);
  await deps.revocations.revoke({ kind: 'session', sessionId: session.id });
  await audit(deps, meta, { userId, action: 'auth.logout', statusCode: 200 });
}

/** Changes the password; every other session of the user ends (their sockets close), the current one stays. */
export async function changePassword(
  deps: AuthDeps,
  user: PublicUser,
  session: Session,
  input: ChangePasswordInput,
  meta: CallMeta,
): Promise<{ revokedSessions: number }> {
  const stored = await findPasswordHash(deps.db, user.id);
  if (!stored || !(await verifyPassword(stored, input.currentPassword))) {
    await audit(deps, meta, { userId: user.id, action: 'auth.change_password_failed', statusCode: 400 });
    throw wrongPassword('currentPassword');
  }
  assertPasswordNotEmail(input.newPassword, user.email, 'newPassword');
  const passwordHash = await hashPassword(input.newPassword);
  const revokedSessions = await deps.db.transaction().execute(async (trx) => {
    await updateUser(trx, user.id, { passwordHash });
    return invalidateUserSessions(trx, user.id, { exceptSessionId: session.id });
  });
  await deps.revocations.revoke({ kind: 'user', userId: user.id, exceptSessionId: session.id });
  await audit(deps, meta, {
    userId: user.id,
    action: 'auth.change_password',
    statusCode: 200,
    metadata: { revokedSessions },
  });
  return { revokedSessions };
}

/**
 * Closes the account now (disabled, every session and API key revoked, sockets closed) and leaves the removal of
 * its data and S3 objects to the `maintenance.delete-account` job. The job is enqueued first: if that fails
 * nothing has changed (503); if the closing fails after it, the job still removes the account the user asked to
 * remove.
 */
export async function deleteAccount(deps: AuthDeps, user: PublicUser, password: string, meta: CallMeta): Promise<void> {
  const stored = await findPasswordHash(deps.db, user.id);
  if (!stored || !(await verifyPassword(stored, password))) {
    await audit(deps, meta, { userId: user.id, action: 'auth.delete_account_failed', statusCode: 400 });
    throw wrongPassword('password');
  }
  try {
    await deps.accountDeletion.enqueue(user.id);
  } catch (err) {
    throw new AppError('SERVICE_UNAVAILABLE', 'Account deletion is unavailable right now; try again later', {
      cause: err,
    });
  }
  await deps.db.transaction().execute(async (trx) => {
    await setUserDisabled(trx, user.id, true);
    await invalidateUserSessions(trx, user.id);
    await revokeUserApiKeys(trx, user.id);
  });
  await deps.revocations.revoke({ kind: 'user', userId: user.id });
  await audit(deps, meta, { userId: user.id, action: 'auth.delete_account', statusCode: 200 });
}

export async function listSessions(deps: AuthDeps, userId: string, current: Session | null): Promise<SessionInfo[]> {
  const sessions = await listUserSessions(deps.db, userId);
  return sessions.map((s) => ({
    id: sessionPublicId(s.id),
    current: s.id === current?.id,
    createdAt: s.created_at.toISOString(),
    lastSeenAt: s.last_seen_at.toISOString(),
    expiresAt: s.expires_at.toISOString(),
    userAgent: s.user_agent,
    ip: s.ip,
  }));
}

/** Ends one of the user's own sessions; NOT_FOUND for any id that is not theirs. Returns the stored id. */
export async function revokeSession(deps: AuthDeps, userId: string, publicId: string, meta: CallMeta): Promise<string> {
  const sessionId = await invalidateUserSessionByPublicId(deps.db, userId, publicId);
  if (!sessionId) throw new AppError('NOT_FOUND', 'Session not found');
  await deps.revocations.revoke({ kind: 'session', sessionId });
  await audit(deps, meta, {
    userId,
    action: 'auth.revoke_session',
    targetType: 'session',
    targetId: publicId,
    statusCode: 200,
  });
  return sessionId;
}
