/**
 * Prometheus metrics of one api instance (seed "Monitoring & Alerts" 2.1). Each server owns its own Registry so
 * several instances in one test process never share counters or collide on registration.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Seed 2.1 buckets, in milliseconds. */
export const HTTP_DURATION_BUCKETS = [10, 50, 100, 200, 500, 1000, 2000, 5000];

export interface ApiMetrics {
  enabled: boolean;
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  httpRequestsTotal: Counter<'method' | 'route' | 'status_code'>;
  activeWebsocketConnections: Gauge;
  generationJobsTotal: Counter<'status' | 'type'>;
}

/**
 * With `enabled` false the metric objects still exist (callers never branch), but nothing is scraped: no default
 * process collectors run and `/metrics` is not routed.
 */
export function createMetrics(opts: { enabled: boolean }): ApiMetrics {
  const registry = new Registry();
  if (opts.enabled) collectDefaultMetrics({ register: registry });
  return {
    enabled: opts.enabled,
    registry,
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_ms',
      help: 'Duration of HTTP requests in ms',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_DURATION_BUCKETS,
      registers: [registry],
    }),
    httpRequestsTotal: new Counter({
      name: 'http_requests_total',
      help: 'Total number of HTTP requests',
      labelNames: ['method', 'route', 'status_code'],
      registers: [registry],
    }),
    activeWebsocketConnections: new Gauge({
      name: 'active_websocket_connections',
      help: 'Number of active WebSocket connections',
      registers: [registry],
    }),
    generationJobsTotal: new Counter({
      name: 'generation_jobs_total',
      help: 'Total number of generation jobs',
      labelNames: ['status', 'type'],
      registers: [registry],
    }),
  };
}
