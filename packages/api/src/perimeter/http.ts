/**
 * The HTTP perimeter, as Fastify hooks that run before any route (in this order): who is calling (`request.auth`,
 * resolved once and reused by tRPC and REST handlers), the general rate limit, a route's special limit (auth,
 * generation) and the CSRF check of cookie-authenticated mutations. Refunds of special limits happen when the
 * response is known. `/health`, `/metrics` and the Stripe webhook bypass all of it (monitoring and Stripe's retries
 * must never be limited, and health must not depend on the session store).
 */
import { AppError } from '@dawg/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ANONYMOUS, type RequestAuth, resolveRequestAuth, SESSION_COOKIE } from '../auth/context-user';
import { setSessionCookie } from '../auth/cookies';
import type { AppDeps } from '../deps';
import { TRPC_ROUTE } from '../http/metrics-routes';
import { checkCsrf, csrfAllowedOrigins } from './csrf';
import { parseCookie } from 'cookie';
import {
  applyRateLimitHeaders,
  type LimitName,
  ipLimitKey,
  type RateLimits,
  refundsOn,
  tooManyRequests,
} from './rate-limit';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * false: the route is outside every limit (and skips auth resolution and CSRF: webhooks, probes).
     * 'auth' | 'generation': the route is also under that special limit.
     */
    rateLimit?: false | 'auth' | 'generation';
  }
  interface FastifyRequest {
    /** Who is calling; set by the perimeter before any handler runs. */
    auth: RequestAuth;
    /** A special limit consumed by this request, settled when the response is known. */
    specialLimit?: { name: 'auth' | 'generation'; key: string };
  }
}

/** Routes outside the perimeter, whoever registers them (the webhook belongs to the billing feature). */
export const PERIMETER_EXEMPT_ROUTES: ReadonlySet<string> = new Set(['/health', '/metrics', '/api/stripe/webhook']);

/** Routes under a special limit even without route config. */
const DEFAULT_SPECIAL_LIMITS: Readonly<Record<string, 'auth' | 'generation'>> = {
  'POST /api/generate': 'generation',
  'POST /api/auth/login': 'auth',
  'POST /api/auth/register': 'auth',
};

function isExempt(request: FastifyRequest): boolean {
  const url = request.routeOptions.url;
  if (request.routeOptions.config.rateLimit === false) return true;
  return url !== undefined && PERIMETER_EXEMPT_ROUTES.has(url);
}

/** Procedures in a tRPC HTTP request (a batch names several, comma-separated). */
function trpcCallCount(request: FastifyRequest): number {
  if (request.routeOptions.url !== TRPC_ROUTE) return 1;
  const path = (request.params as { path?: string }).path ?? '';
  return Math.max(1, path.split(',').length);
}

/** The key of a caller in the general limit: their user when signed in, else their IP. */
export function generalLimitKey(auth: RequestAuth, ip: string): { name: LimitName; key: string } {
  return auth.user ? { name: 'generalUser', key: `user:${auth.user.id}` } : { name: 'general', key: ipLimitKey(ip) };
}

/** The key of a caller in a special limit: auth per IP (brute force), generation per user (cost). */
export function specialLimitKey(name: 'auth' | 'generation', auth: RequestAuth, ip: string): string {
  if (name === 'generation' && auth.user) return `user:${auth.user.id}`;
  return ipLimitKey(ip);
}

async function enforce(
  limits: RateLimits,
  reply: FastifyReply,
  name: LimitName,
  key: string,
  points: number,
): Promise<void> {
  const result = await limits.consume(name, key, points);
  applyRateLimitHeaders(reply, result);
  if (!result.allowed) throw tooManyRequests(limits.policies[name]);
}

export function registerPerimeter(app: FastifyInstance, deps: AppDeps): void {
  const { env, limits } = deps;
  const allowedOrigins = csrfAllowedOrigins(env.CORS_ORIGINS, env.PUBLIC_URL);
  app.decorateRequest('auth', null as unknown as RequestAuth);

  app.addHook('onRequest', async (request, reply) => {
    if (isExempt(request)) {
      request.auth = ANONYMOUS;
      return;
    }
    try {
      request.auth = await resolveRequestAuth(deps.db, request.headers);
    } catch (err) {
      request.log.error({ err }, 'resolving credentials failed');
      throw new AppError('SERVICE_UNAVAILABLE', 'Service temporarily unavailable', { cause: err });
    }
    const { auth } = request;
    if (auth.renewed && auth.credential === 'cookie' && auth.session) {
      const token = parseCookie(request.headers.cookie ?? '')[SESSION_COOKIE];
      if (token) setSessionCookie(reply, env, token, auth.session.expires_at);
    }

    // CORS preflights carry no credentials and cost nothing; counting them would halve every browser's budget.
    if (request.method === 'OPTIONS') return;
    const whitelisted = limits.isWhitelisted(request.ip);
    if (!whitelisted) {
      const { name, key } = generalLimitKey(auth, request.ip);
      await enforce(limits, reply, name, key, trpcCallCount(request));
    }

    const configured = request.routeOptions.config.rateLimit;
    const special =
      configured === 'auth' || configured === 'generation'
        ? configured
        : DEFAULT_SPECIAL_LIMITS[`${request.method} ${request.routeOptions.url ?? ''}`];
    if (special && !(special === 'auth' && whitelisted)) {
      const key = specialLimitKey(special, auth, request.ip);
      await enforce(limits, reply, special, key, 1);
      request.specialLimit = { name: special, key };
    }

    if (auth.credential === 'cookie') {
      const verdict = checkCsrf(request.method, request.headers, allowedOrigins);
      if (!verdict.ok) {
        request.log.info({ origin: request.headers.origin, reason: verdict.reason }, 'csrf check refused');
        throw new AppError('FORBIDDEN', verdict.reason);
      }
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const special = request.specialLimit;
    if (!special) return;
    const succeeded = reply.statusCode < 400;
    const refund = refundsOn(special.name) === 'success' ? succeeded : !succeeded;
    // A 429 of this very limit is a refusal, not a failed attempt: never refunded, never double-counted.
    if (refund && reply.statusCode !== 429) await limits.refund(special.name, special.key);
  });
}
