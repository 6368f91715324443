/**
 * tRPC initialisation: the request context, the error formatter and the three procedure kinds every router uses.
 * Plain JSON on the wire (no transformer), so the web client and plain-HTTP callers read the same payloads.
 */
import { initTRPC, TRPCError } from '@trpc/server';
import type { FastifyBaseLogger, FastifyReply } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { Session, SessionUser } from './auth/context-user';
import type { AppDeps } from './deps';
import { formatTRPCError, toTRPCError } from './errors/trpc';
import type { ApiMetrics } from './metrics';

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
  user: SessionUser | null;
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
 * AppErrors thrown by services become TRPCErrors with their own code here, before tRPC derives the HTTP status;
 * the formatter repeats the mapping for subscriptions, whose errors surface after the middleware returned.
 */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) throw toTRPCError(result.error);
  return result;
});

export const publicProcedure = t.procedure.use(appErrors);

export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user || !ctx.session) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Authentication required' });
  return next({ ctx: { user: ctx.user, session: ctx.session } });
});

export const adminProcedure = protectedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'Admin role required' });
  return next();
});
