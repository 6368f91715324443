/**
 * Who is calling: the one place that turns a request's credentials into a `RequestAuth`. Carriers, by precedence:
 * `Authorization: Bearer <session token or API key>`, `x-api-key: <API key>`, the tRPC WebSocket connection params
 * `{ token }` (browsers cannot set headers on a WebSocket), and the session cookie. Session tokens and API keys are
 * validated by @dawg/db (only their SHA-256 is stored). A presented but bad credential never falls back to another
 * carrier: the request is then anonymous, with the reason kept for the 401 wording.
 */
import {
  type ApiKey,
  checkSessionToken,
  type Database,
  isApiKeyFormat,
  type validateSessionToken,
  validateApiKey,
} from '@dawg/db';
import { API_KEY_PREFIX, AUTH_ERROR_MESSAGES, SESSION_COOKIE_NAME } from '@dawg/shared';
import { parseCookie } from 'cookie';
import type { IncomingHttpHeaders } from 'node:http';
import type { Kysely } from 'kysely';

export const SESSION_COOKIE = SESSION_COOKIE_NAME;

export type SessionAuth = NonNullable<Awaited<ReturnType<typeof validateSessionToken>>>;
export type SessionUser = SessionAuth['user'];
export type Session = SessionAuth['session'];

/** Which carrier the request presented a credential on (whether or not it was valid). */
export type Credential = 'none' | 'bearer' | 'api-key' | 'connection-params' | 'cookie';

/** Why there is no user: nothing presented, or what was wrong with what was. */
export type AuthFailure = 'missing' | 'invalid' | 'expired' | 'invalid-api-key';

export interface RequestAuth {
  user: SessionUser | null;
  /** Set when a session token authenticated the request. */
  session: Session | null;
  /** Set when an API key authenticated the request. */
  apiKey: ApiKey | null;
  credential: Credential;
  failure: AuthFailure | null;
  /** The session's sliding expiry moved during this validation (re-send the cookie). */
  renewed?: boolean;
}

export const ANONYMOUS: RequestAuth = Object.freeze({
  user: null,
  session: null,
  apiKey: null,
  credential: 'none',
  failure: 'missing',
});

/** Tokens are opaque; anything longer than this is not one of ours and is not worth a query. */
const MAX_TOKEN_LENGTH = 256;

function clean(token: string | undefined | null): string | null {
  const t = token?.trim();
  return t && t.length <= MAX_TOKEN_LENGTH ? t : null;
}

export interface PresentedCredential {
  credential: Exclude<Credential, 'none'>;
  /** null when the carrier was present but held nothing usable (e.g. `Authorization: Basic …`). */
  value: string | null;
  kind: 'session' | 'api-key';
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The credential a request carries, by precedence; null when it carries none. */
export function presentedCredential(
  headers: IncomingHttpHeaders,
  connectionParams?: Record<string, string | undefined> | null,
): PresentedCredential | null {
  const authorization = header(headers, 'authorization');
  if (authorization) {
    const value = clean(/^Bearer\s+(\S+)$/i.exec(authorization)?.[1]);
    const kind = value?.startsWith(API_KEY_PREFIX) ? 'api-key' : 'session';
    return { credential: 'bearer', value, kind };
  }
  const apiKey = header(headers, 'x-api-key');
  if (apiKey !== undefined) return { credential: 'api-key', value: clean(apiKey), kind: 'api-key' };
  const fromParams = clean(connectionParams?.token);
  if (fromParams) return { credential: 'connection-params', value: fromParams, kind: 'session' };
  const cookieHeader = header(headers, 'cookie');
  if (!cookieHeader) return null;
  const fromCookie = clean(parseCookie(cookieHeader)[SESSION_COOKIE]);
  return fromCookie ? { credential: 'cookie', value: fromCookie, kind: 'session' } : null;
}

/** The session token a request carries (Authorization, connection params, cookie), if any. */
export function sessionTokenFrom(
  headers: IncomingHttpHeaders,
  connectionParams?: Record<string, string | undefined> | null,
): string | null {
  const presented = presentedCredential(headers, connectionParams);
  return presented?.kind === 'session' ? presented.value : null;
}

export async function resolveRequestAuth(
  db: Kysely<Database>,
  headers: IncomingHttpHeaders,
  connectionParams?: Record<string, string | undefined> | null,
): Promise<RequestAuth> {
  const presented = presentedCredential(headers, connectionParams);
  if (!presented) return ANONYMOUS;
  const { credential, value } = presented;
  const none = { user: null, session: null, apiKey: null, credential };

  if (presented.kind === 'api-key') {
    const found = value && isApiKeyFormat(value) ? await validateApiKey(db, value) : null;
    if (!found) return { ...none, failure: 'invalid-api-key' };
    return { user: found.user, session: null, apiKey: found.apiKey, credential, failure: null };
  }
  if (!value) return { ...none, failure: 'invalid' };
  const check = await checkSessionToken(db, value);
  if (check.status !== 'valid') return { ...none, failure: check.status };
  return { user: check.user, session: check.session, apiKey: null, credential, failure: null, renewed: check.renewed };
}

/** `{ user, session }` for a valid session token, else both null (API keys are not sessions). */
export async function resolveContextUser(
  db: Kysely<Database>,
  headers: IncomingHttpHeaders,
  connectionParams?: Record<string, string | undefined> | null,
): Promise<{ user: SessionUser | null; session: Session | null }> {
  const auth = await resolveRequestAuth(db, headers, connectionParams);
  return auth.session ? { user: auth.user, session: auth.session } : { user: null, session: null };
}

/** The seed's 401 wording for an anonymous request. */
export function unauthorizedMessage(auth: RequestAuth): string {
  switch (auth.failure) {
    case 'expired':
      return AUTH_ERROR_MESSAGES.expired;
    case 'invalid':
      return AUTH_ERROR_MESSAGES.invalid;
    case 'invalid-api-key':
      return AUTH_ERROR_MESSAGES.invalidApiKey;
    default:
      return AUTH_ERROR_MESSAGES.missing;
  }
}
