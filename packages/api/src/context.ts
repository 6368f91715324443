/**
 * Builds the tRPC context for both transports: HTTP (Fastify request) and WebSocket (the upgrade request, once per
 * connection, with the client's connection params).
 */
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { resolveContextUser } from './auth/context-user';
import type { AppDeps } from './deps';
import type { ApiMetrics } from './metrics';
import type { Context } from './trpc';

export function createHttpContextFactory(deps: AppDeps, metrics: ApiMetrics) {
  return async ({ req, res }: { req: FastifyRequest; res: FastifyReply }): Promise<Context> => {
    const auth = await resolveContextUser(deps.db, req.headers);
    return {
      ...deps,
      metrics,
      log: req.log,
      req: { id: req.id, ip: req.ip, headers: req.headers, transport: 'http' },
      reply: res,
      ...auth,
    };
  };
}

export function createWsContextFactory(deps: AppDeps, metrics: ApiMetrics, log: FastifyBaseLogger) {
  return async ({
    req,
    info,
  }: {
    req: IncomingMessage & { id?: string };
    info: { connectionParams: Record<string, string | undefined> | null };
  }): Promise<Context> => {
    const auth = await resolveContextUser(deps.db, req.headers, info.connectionParams);
    const id = req.id ?? 'ws';
    return {
      ...deps,
      metrics,
      log: log.child({ reqId: id, transport: 'ws' }),
      req: { id, ip: req.socket.remoteAddress ?? '', headers: req.headers, transport: 'ws' },
      reply: null,
      ...auth,
    };
  };
}
