/**
 * Who is calling: the one place that turns a request's credentials into `{ user, session }`. A session token comes
 * from `Authorization: Bearer <token>`, the `session` cookie, or (WebSocket only, where browsers cannot set
 * headers) the tRPC connection params `{ token }`. Tokens are validated by @dawg/db (only their SHA-256 is stored).
 */
import { type Database, validateSessionToken } from '@dawg/db';
import { parseCookie } from 'cookie';
import type { IncomingHttpHeaders } from 'node:http';
import type { Kysely } from 'kysely';

export const SESSION_COOKIE = 'session';

export type SessionAuth = NonNullable<Awaited<ReturnType<typeof validateSessionToken>>>;
export type SessionUser = SessionAuth['user'];
export type Session = SessionAuth['session'];

/** Tokens are opaque; anything longer than this is not one of ours and is not worth a query. */
const MAX_TOKEN_LENGTH = 256;

function clean(token: string | undefined | null): string | null {
  const t = token?.trim();
  return t && t.length <= MAX_TOKEN_LENGTH ? t : null;
}

/** The session token a request carries, by precedence: Authorization header, connection params, cookie. */
export function sessionTokenFrom(
  headers: IncomingHttpHeaders,
  connectionParams?: Record<string, string | undefined> | null,
): string | null {
  const auth = headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(\S+)$/i.exec(auth);
    return clean(match?.[1]);
  }
  const fromParams = clean(connectionParams?.token);
  if (fromParams) return fromParams;
  const cookieHeader = headers.cookie;
  if (!cookieHeader) return null;
  return clean(parseCookie(cookieHeader)[SESSION_COOKIE]);
}

/** `{ user, session }` for a valid token, else both null. */
export async function resolveContextUser(
  db: Kysely<Database>,
  headers: IncomingHttpHeaders,
  connectionParams?: Record<string, string | undefined> | null,
): Promise<{ user: SessionUser | null; session: Session | null }> {
  const token = sessionTokenFrom(headers, connectionParams);
  if (!token) return { user: null, session: null };
  const result = await validateSessionToken(db, token);
  return result ? { user: result.user, session: result.session } : { user: null, session: null };
}
