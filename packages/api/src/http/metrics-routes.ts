/**
 * Request metrics and the `/metrics` scrape endpoint. Routes are labelled by their template (e.g.
 * `/api/generate/:id/status`) and tRPC calls by procedure, so label cardinality stays bounded whatever URLs clients
 * send: unknown paths collapse to `not_found`, unknown procedures to `/trpc/unknown`, batches to `/trpc/batch`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiMetrics } from '../metrics';

export const TRPC_ROUTE = '/trpc/:path';

/** The route label of a request; single-procedure tRPC labels are built once, not one string per request. */
export function createRouteLabeler(procedures: ReadonlySet<string>): (request: FastifyRequest) => string {
  const single = new Map([...procedures].map((p) => [p, `/trpc/${p}`]));
  return (request) => {
    const template = request.routeOptions.url;
    if (!template) return 'not_found';
    if (template !== TRPC_ROUTE) return template;
    const path = (request.params as { path?: string }).path ?? '';
    if (!path.includes(',')) return single.get(path) ?? '/trpc/unknown';
    return path.split(',').every((c) => procedures.has(c)) ? '/trpc/batch' : '/trpc/unknown';
  };
}

export function registerMetrics(app: FastifyInstance, metrics: ApiMetrics, procedures: ReadonlySet<string>): void {
  if (!metrics.enabled) return;
  const { httpRequestDuration, httpRequestsTotal } = metrics;
  const routeLabel = createRouteLabeler(procedures);
  app.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: routeLabel(request),
      status_code: String(reply.statusCode),
    };
    httpRequestDuration.observe(labels, reply.elapsedTime);
    httpRequestsTotal.inc(labels);
    if (reply.statusCode === 429) metrics.rateLimitHitsTotal.inc({ route: labels.route });
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
