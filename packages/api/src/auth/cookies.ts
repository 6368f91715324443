/**
 * The session cookie: `HttpOnly; SameSite=Lax; Path=/`, `Secure` in production, `Domain=COOKIE_DOMAIN` when set (so
 * the web app and the api on sibling hosts share it). It expires with the session and is re-sent whenever the
 * session's sliding expiry moves.
 */
import type { ApiEnv } from '@dawg/shared';
import { stringifySetCookie } from 'cookie';
import type { FastifyReply } from 'fastify';
import { SESSION_COOKIE } from './context-user';

type CookieEnv = Pick<ApiEnv, 'NODE_ENV' | 'COOKIE_DOMAIN'>;

function base(env: CookieEnv) {
  return {
    name: SESSION_COOKIE,
    httpOnly: true,
    sameSite: 'lax' as const,
    path: '/',
    secure: env.NODE_ENV === 'production',
    ...(env.COOKIE_DOMAIN ? { domain: env.COOKIE_DOMAIN } : {}),
  };
}

export function sessionCookie(env: CookieEnv, token: string, expiresAt: Date): string {
  return stringifySetCookie({ ...base(env), value: token, expires: expiresAt });
}

export function clearedSessionCookie(env: CookieEnv): string {
  return stringifySetCookie({ ...base(env), value: '', maxAge: 0, expires: new Date(0) });
}

// Fastify appends repeated set-cookie headers (a batched tRPC call may clear one cookie and set another).
export function setSessionCookie(reply: FastifyReply, env: CookieEnv, token: string, expiresAt: Date): void {
  void reply.header('set-cookie', sessionCookie(env, token, expiresAt));
}

export function clearSessionCookie(reply: FastifyReply, env: CookieEnv): void {
  void reply.header('set-cookie', clearedSessionCookie(env));
}
