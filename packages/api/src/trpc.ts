/**
 * tRPC initialisation: the request context, the error formatter and the procedure kinds every router uses.
 * Plain JSON on the wire (no transformer), so the web client and plain-HTTP callers read the same payloads.
 *
 * - publicProcedure: anyone; rate limits apply (per call over WebSocket, and the special limits of PROCEDURE_LIMITS).
 * - protectedProcedure: a signed-in user, by session (cookie, Bearer, WS connection params) or API key.
 * - sessionProcedure: a signed-in session only; account management is out of reach of API keys.
 * - adminProcedure: a user with role admin; every call is written to the audit log.
 */
import { recordAudit } from '@dawg/db';
import { initTRPC, TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { type RequestAuth, type Session, type SessionUser, unauthorizedMessage } from './auth/context-user';
import type { AppDeps } from './deps';
import { assertNoNulCharacters } from './errors/nul';
import { formatTRPCError, toTRPCError } from './errors/trpc';
import type { ApiMetrics } from './metrics';
import { generalLimitKey, specialLimitKey } from './perimeter/http';
import { applyRateLimitHeaders, PROCEDURE_LIMITS, refundsOn, tooManyRequests } from './perimeter/rate-limit';

export interface RequestMeta {
  /** The request id (x-request-id honoured or generated); for WebSockets, the id of the upgrade request. */
  id: string;
  ip: string;
  headers: IncomingHttpHeaders;
  transport: 'http' | 'ws';
}

export interface Context extends AppDeps {
  metrics: ApiMetrics;
  log: FastifyBaseLogger;
  req: RequestMeta;
  /** The HTTP reply (to set cookies or headers); null on WebSocket connections. */
  reply: FastifyReply | null;
  /** Who is calling and how (session, API key, or why nobody). */
  auth: RequestAuth;
  user: SessionUser | null;
  /** The session of a session-authenticated call; null for API keys and anonymous calls. */
  session: Session | null;
}

const t = initTRPC.context<Context>().create({
  // Stacks belong in the log, not in responses.
  isDev: false,
  errorFormatter: ({ shape, error }) => formatTRPCError(shape, error),
});

export const router = t.router;
export const middleware = t.middleware;
export const createCallerFactory = t.createCallerFactory;

/**
 * The base of every procedure, one middleware (each middleware level costs tRPC two copies of the call options):
 *
 * - Inputs holding U+0000 are refused (400 naming the field) before anything runs: Postgres cannot store them.
 * - Errors: AppErrors thrown by services (or by the limits below) become TRPCErrors with their own code here, before
 *   tRPC derives the HTTP status; the formatter repeats the mapping for subscriptions, whose errors surface after
 *   the middleware returned.
 * - Rate limits inside tRPC: over WebSocket every call counts against the general limit (HTTP requests were counted
 *   by the perimeter hook, one per procedure of a batch); procedures of PROCEDURE_LIMITS also take their special
 *   limit and get the point back per its rule (auth: on success; generation: on failure).
 */
const base = t.middleware(async ({ ctx, path, next, getRawInput }) => {
  let result: Awaited<ReturnType<typeof next>>;
  try {
    // An unreadable input is left to tRPC (procedures without an input ignore it; the others refuse it themselves).
    assertNoNulCharacters(await getRawInput().catch(() => undefined));
    result = await limited(ctx, path, next);
  } catch (err) {
    throw toTRPCError(err);
  }
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

async function limited<R extends { ok: boolean }>(ctx: Context, path: string, next: () => Promise<R>): Promise<R> {
  const { limits } = ctx;
  const whitelisted = limits.isWhitelisted(ctx.req.ip);
  if (ctx.req.transport === 'ws' && !whitelisted) {
    const { name, key } = generalLimitKey(ctx.auth, ctx.req.ip);
    const result = await limits.consume(name, key);
    if (!result.allowed) throw tooManyRequests(limits.policies[name]);
  }
  const special = PROCEDURE_LIMITS[path];
  if (!special || (special === 'auth' && whitelisted)) return next();
  const key = specialLimitKey(special, ctx.auth, ctx.req.ip);
  const result = await limits.consume(special, key);
  applyRateLimitHeaders(ctx.reply, result);
  if (!result.allowed) throw tooManyRequests(limits.policies[special]);
  const outcome = await next();
  if (outcome.ok === (refundsOn(special) === 'success')) await limits.refund(special, key);
  return outcome;
}

export const publicProcedure = t.procedure.use(base);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: 'UNAUTHORIZED', message: unauthorizedMessage(ctx.auth) });
  return next({ ctx: { user: ctx.user } });
});

export const sessionProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (!ctx.session) {
    throw new TRPCError({ code: 'FORBIDDEN', message: 'This action needs a signed-in session, not an API key' });
  }
  return next({ ctx: { session: ctx.session } });
});

/** Writes `admin.<procedure>` with its outcome; refusals (403) are written too, they are what an audit looks for. */
const adminAudit = t.middleware(async ({ ctx, path, type, next }) => {
  const started = performance.now();
  const result = await next();
  const status = result.ok ? 200 : getHTTPStatusCodeFromError(toTRPCError(result.error));
  try {
    await recordAudit(ctx.db, {
      userId: ctx.user?.id ?? null,
      action: `admin.${path}`,
      ip: ctx.req.ip,
      userAgent: ctx.req.headers['user-agent'] ?? null,
      statusCode: status,
      durationMs: performance.now() - started,
      metadata: { type, transport: ctx.req.transport },
    });
  } catch (err) {
    ctx.log.error({ err, path }, 'writing the admin audit log failed');
  }
  return result;
});

export const adminProcedure = protectedProcedure.use(adminAudit).use(({ ctx, next }) => {
  if (ctx.user.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'Admin role required' });
  return next();
});
