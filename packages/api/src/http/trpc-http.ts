/**
 * tRPC over HTTP at `/trpc/<procedure>` (batching on). Mutations are accepted only as `application/json`: a
 * cross-site form or `text/plain` POST (a "simple" request, sent without a CORS preflight) is refused with 415
 * before its body is read, which closes the CSRF hole that cookie sessions would otherwise open. Single unbatched
 * query GETs take a fast path (trpc-fast-path.ts) that answers exactly as tRPC's handler does.
 */
import { AppError } from '@dawg/shared';
import { fastifyRequestHandler } from '@trpc/server/adapters/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps';
import { createHttpContextFactory } from '../context';
import type { ApiMetrics } from '../metrics';
import { reportError } from '../ops/error-reporter';
import { appRouter } from '../router';
import { TRPC_ROUTE } from './metrics-routes';
import {
  answerBatchQuery,
  answerSingleQuery,
  type FastPathErrorInfo,
  matchBatchQuery,
  matchSingleQuery,
  queryProcedures,
} from './trpc-fast-path';

/** Enough for a screen's worth of queries; bounds the work one request can ask for. */
export const TRPC_MAX_BATCH_SIZE = 50;

export function isJsonContentType(value: string | undefined): boolean {
  const mime = value?.split(';', 1)[0]?.trim().toLowerCase();
  return mime === 'application/json';
}

export async function registerTrpcHttp(app: FastifyInstance, deps: AppDeps, metrics: ApiMetrics): Promise<void> {
  const createContext = createHttpContextFactory(deps, metrics);
  const queries = queryProcedures(appRouter);
  const onError = ({ error, path, req }: Pick<FastPathErrorInfo, 'error' | 'path'> & { req: FastifyRequest }) => {
    if (error.code === 'INTERNAL_SERVER_ERROR') {
      req.log.error({ err: error.cause ?? error, path }, 'tRPC error');
      reportError(error.cause ?? error, { tags: { requestId: req.id, procedure: path ?? 'unknown' } });
    }
  };
  // Encapsulated: the raw-string JSON parser applies to tRPC only (tRPC parses the body itself).
  await app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));

    scope.addHook('onRequest', async (request, reply) => {
      // Fastify exposes HEAD for every GET route; tRPC has no HEAD semantics (it would answer 500).
      if (request.method === 'HEAD') return reply.code(405).header('allow', 'GET, POST').send();
      if (request.method === 'POST' && !isJsonContentType(request.headers['content-type'])) {
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'tRPC accepts application/json only');
      }
    });

    scope.route({
      method: ['GET', 'POST'],
      url: TRPC_ROUTE,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const path = (request.params as { path: string }).path;
        const standard = async () => {
          await fastifyRequestHandler({
            router: appRouter,
            req: request,
            res: reply,
            path,
            maxBatchSize: TRPC_MAX_BATCH_SIZE,
            createContext,
            onError,
          });
          return reply;
        };
        const single = matchSingleQuery(request, path, queries);
        if (single) return answerSingleQuery(request, reply, single, { router: appRouter, createContext, onError });
        const batch = matchBatchQuery(request, path, queries, TRPC_MAX_BATCH_SIZE);
        if (batch) {
          return answerBatchQuery(request, reply, batch, { router: appRouter, createContext, onError }, standard);
        }
        return standard();
      },
    });
  });
}
