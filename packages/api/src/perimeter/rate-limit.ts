/**
 * Rate limits (seed hardening 1), counted in Redis so every api instance shares them (rate-limiter-flexible's
 * RateLimiterRedis on our ioredis client; keys under `${REDIS_KEY_PREFIX}:rl:`). While Redis is unreachable each
 * instance falls back to an in-memory limiter with the same policy (per instance), so the api neither stops serving
 * nor stops limiting.
 *
 * Policies:
 * - general: RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS per IP for anonymous callers (seed: 100 / 15 min), twice that
 *   per user for signed-in ones (seed 1.2: 200). Every HTTP request counts except `/health`, `/metrics`, the Stripe
 *   webhook and CORS preflights; a batched tRPC request counts one per procedure; over WebSocket each call (each
 *   message that starts a query, mutation or subscription) counts one, and so does each upgrade.
 * - auth: 5 per 15 min per IP on login and register (REST and tRPC share the counter); successful calls are refunded.
 * - generation: 20 per hour per user on `POST /api/generate` and `generation.create`; failed calls are refunded.
 * WHITELISTED_IPS skip the general and auth limits (monitoring); the generation limit is per user and always applies.
 */
import { AppError, type ApiEnv } from '@dawg/shared';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export type LimitName = 'general' | 'generalUser' | 'auth' | 'generation';

export interface LimitPolicy {
  points: number;
  durationMs: number;
  /** The seed's 429 body. */
  message: string;
  retryAfter: string;
}

export interface LimitOutcome {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

export interface RateLimits {
  readonly policies: Readonly<Record<LimitName, LimitPolicy>>;
  consume(name: LimitName, key: string, points?: number): Promise<LimitOutcome>;
  /** Gives points back (a failed generation, a successful login). */
  refund(name: LimitName, key: string, points?: number): Promise<void>;
  isWhitelisted(ip: string): boolean;
}

/** Procedures under a special limit, beyond the general one (tRPC paths). */
export const PROCEDURE_LIMITS: Readonly<Record<string, 'auth' | 'generation'>> = {
  'auth.login': 'auth',
  'auth.register': 'auth',
  // Guessing links fails: failures count (successes give the point back).
  'auth.resetPassword': 'auth',
  'auth.verifyEmail': 'auth',
  // Keeping demo work signs up: the same limit as register.
  'demo.keep': 'auth',
  'generation.create': 'generation',
  'generation.extend': 'generation',
};

/** Which outcome gives the point back: the seed's skipSuccessfulRequests (auth), skipFailedRequests (generation). */
export function refundsOn(name: 'auth' | 'generation'): 'success' | 'failure' {
  return name === 'auth' ? 'success' : 'failure';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** "15 minutes", "1 hour", "90 seconds": the seed's `retryAfter` wording for a window. */
export function describeWindow(ms: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (ms % HOUR === 0) return unit(ms / HOUR, 'hour');
  if (ms % MINUTE === 0) return unit(ms / MINUTE, 'minute');
  return unit(Math.ceil(ms / 1000), 'second');
}

export function limitPolicies(
  env: Pick<ApiEnv, 'RATE_LIMIT_MAX' | 'RATE_LIMIT_WINDOW_MS'>,
): Record<LimitName, LimitPolicy> {
  const general = {
    durationMs: env.RATE_LIMIT_WINDOW_MS,
    message: 'Too many requests, please try again later.',
    retryAfter: describeWindow(env.RATE_LIMIT_WINDOW_MS),
  };
  return {
    general: { ...general, points: env.RATE_LIMIT_MAX },
    generalUser: { ...general, points: env.RATE_LIMIT_MAX * 2 },
    auth: {
      points: 5,
      durationMs: 15 * MINUTE,
      message: 'Too many login attempts, please try again later.',
      retryAfter: '15 minutes',
    },
    generation: {
      points: 20,
      durationMs: HOUR,
      message: 'Generation limit exceeded. Please wait before creating more.',
      retryAfter: '1 hour',
    },
  };
}

/** IPv4 clients on a dual-stack socket show up as `::ffff:a.b.c.d`; one client, one key. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

/** The 8 hextets of an IPv6 address (`::` expanded), or null when it is not one. */
function ipv6Hextets(ip: string): string[] | null {
  if (!ip.includes(':') || ip.includes('.')) return null;
  const [head, tail, ...rest] = ip.split('::');
  if (rest.length > 0) return null;
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  return [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
}

/**
 * The rate-limit key of an address: IPv4 as is, IPv6 by its /64 (one subscriber's whole network: a client handed a
 * /64 could otherwise rotate addresses to escape any per-IP limit).
 */
export function ipLimitKey(ip: string): string {
  const v4 = normaliseIp(ip);
  const hextets = ipv6Hextets(v4.split('%')[0] ?? v4);
  if (!hextets) return `ip:${v4}`;
  return `ip6:${hextets
    .slice(0, 4)
    .map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

export function createRateLimits(opts: {
  redis: Redis;
  env: Pick<ApiEnv, 'RATE_LIMIT_MAX' | 'RATE_LIMIT_WINDOW_MS' | 'WHITELISTED_IPS'>;
  redisKey: (...parts: string[]) => string;
  log: FastifyBaseLogger;
}): RateLimits {
  const policies = limitPolicies(opts.env);
  const whitelist = new Set(opts.env.WHITELISTED_IPS.map(normaliseIp));
  const limiters = Object.fromEntries(
    (Object.keys(policies) as LimitName[]).map((name) => {
      const policy = policies[name];
      const duration = Math.ceil(policy.durationMs / 1000);
      const limiter = new RateLimiterRedis({
        storeClient: opts.redis,
        keyPrefix: opts.redisKey('rl', name),
        points: policy.points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points: policy.points, duration }),
      });
      return [name, limiter];
    }),
  ) as Record<LimitName, RateLimiterRedis>;

  function outcome(name: LimitName, res: RateLimiterRes, allowed: boolean): LimitOutcome {
    return {
      allowed,
      limit: policies[name].points,
      remaining: Math.max(0, res.remainingPoints),
      resetMs: Math.max(0, res.msBeforeNext),
    };
  }

  return {
    policies,
    async consume(name, key, points = 1) {
      try {
        return outcome(name, await limiters[name].consume(key, points), true);
      } catch (err) {
        if (err instanceof RateLimiterRes) return outcome(name, err, false);
        // Both Redis and the in-memory insurance failed: serving unlimited beats refusing everyone.
        opts.log.error({ err }, 'rate limiter failed');
        return { allowed: true, limit: policies[name].points, remaining: policies[name].points, resetMs: 0 };
      }
    },
    async refund(name, key, points = 1) {
      try {
        await limiters[name].reward(key, points);
      } catch (err) {
        opts.log.warn({ err }, 'rate limiter refund failed');
      }
    },
    isWhitelisted: (ip) => whitelist.has(normaliseIp(ip)),
  };
}

/** `RateLimit-*` (IETF draft), the `X-RateLimit-*` the CORS config exposes, and `Retry-After` when refused. */
export function rateLimitHeaders(result: LimitOutcome): Record<string, string> {
  const reset = String(Math.ceil(result.resetMs / 1000));
  const headers: Record<string, string> = {
    'ratelimit-limit': String(result.limit),
    'ratelimit-remaining': String(result.remaining),
    'ratelimit-reset': reset,
    'x-ratelimit-limit': String(result.limit),
    'x-ratelimit-remaining': String(result.remaining),
  };
  if (!result.allowed) headers['retry-after'] = reset;
  return headers;
}

export function applyRateLimitHeaders(reply: FastifyReply | null, result: LimitOutcome): void {
  if (!reply || reply.sent || reply.raw.headersSent) return;
  void reply.headers(rateLimitHeaders(result));
}

/** The 429 of a policy, with the seed's body (`{ error, retryAfter }`). */
export function tooManyRequests(policy: LimitPolicy): AppError {
  return new AppError('TOO_MANY_REQUESTS', policy.message, { extra: { retryAfter: policy.retryAfter } });
}

/**
 * For features that count generations themselves (e.g. a route that can only tell success later): consume one
 * generation for `userId`; throws the seed's 429 when over the limit. Pair with `refundGenerationLimit` on failure.
 */
export async function consumeGenerationLimit(
  limits: RateLimits,
  userId: string,
  reply: FastifyReply | null = null,
): Promise<void> {
  const result = await limits.consume('generation', `user:${userId}`);
  applyRateLimitHeaders(reply, result);
  if (!result.allowed) throw tooManyRequests(limits.policies.generation);
}

export async function refundGenerationLimit(limits: RateLimits, userId: string): Promise<void> {
  await limits.refund('generation', `user:${userId}`);
}
