/**
 * Request metrics and the `/metrics` scrape endpoint. Routes are labelled by their template (e.g.
 * `/api/generate/:id/status`) and tRPC calls by procedure, so label cardinality stays bounded whatever URLs clients
 * send: unknown paths collapse to `not_found`, unknown procedures to `/trpc/unknown`, batches to `/trpc/batch`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiMetrics } from '../metrics';

export const TRPC_ROUTE = '/trpc/:path';

export function routeLabel(request: FastifyRequest, procedures: ReadonlySet<string>): string {
  const template = request.routeOptions.url;
  if (!template) return 'not_found';
  if (template === TRPC_ROUTE) {
    const path = (request.params as { path?: string }).path ?? '';
    const calls = path.split(',');
    if (!calls.every((c) => procedures.has(c))) return '/trpc/unknown';
    return calls.length > 1 ? '/trpc/batch' : `/trpc/${path}`;
  }
  return template;
}

export function registerMetrics(app: FastifyInstance, metrics: ApiMetrics, procedures: ReadonlySet<string>): void {
  if (!metrics.enabled) return;
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: routeLabel(request, procedures),
      status_code: String(reply.statusCode),
    };
    metrics.httpRequestDuration.observe(labels, reply.elapsedTime);
    metrics.httpRequestsTotal.inc(labels);
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
