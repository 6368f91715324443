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
  /** WebSocket connections opened / closed, by upgrade path (the registered paths only). */
  websocketConnectionsTotal: Counter<'path'>;
  websocketDisconnectionsTotal: Counter<'path'>;
  /** WebSocket clients dropped for not reading: their unsent bytes passed the cap (ws/upgrade.ts), by path. */
  websocketSlowClientsDroppedTotal: Counter<'path'>;
  /** Responses refused with 429, by route template (same bounded labels as the request metrics). */
  rateLimitHitsTotal: Counter<'route'>;
  /** Calls to external providers (openai, anthropic, suno, s3, ...) by operation and outcome (ok|error). */
  providerRequestDuration: Histogram<'provider' | 'operation' | 'outcome'>;
  providerErrorsTotal: Counter<'provider' | 'operation'>;
  /** The periodic self-check: 1 when the dependency answered its last probe, and failed probes. */
  dependencyUp: Gauge<'dependency'>;
  dependencyCheckFailuresTotal: Counter<'dependency'>;
  /** Alerts handed to the notifier, by channel (slack|email|pagerduty) and outcome (sent|failed). */
  notificationsTotal: Counter<'channel' | 'outcome'>;
}

/** Seconds; provider calls range from a HeadBucket (ms) to a song render (minutes). */
export const PROVIDER_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180];

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
    websocketConnectionsTotal: new Counter({
      name: 'websocket_connections_total',
      help: 'WebSocket connections accepted, by path',
      labelNames: ['path'],
      registers: [registry],
    }),
    websocketDisconnectionsTotal: new Counter({
      name: 'websocket_disconnections_total',
      help: 'WebSocket connections closed (by either side), by path',
      labelNames: ['path'],
      registers: [registry],
    }),
    websocketSlowClientsDroppedTotal: new Counter({
      name: 'websocket_slow_clients_dropped_total',
      help: 'WebSocket clients closed because their unsent bytes passed the cap, by path',
      labelNames: ['path'],
      registers: [registry],
    }),
    rateLimitHitsTotal: new Counter({
      name: 'rate_limit_hits_total',
      help: 'Requests refused with 429 Too Many Requests, by route',
      labelNames: ['route'],
      registers: [registry],
    }),
    providerRequestDuration: new Histogram({
      name: 'provider_request_duration_seconds',
      help: 'Duration of calls to external providers, by provider, operation and outcome',
      labelNames: ['provider', 'operation', 'outcome'],
      buckets: PROVIDER_DURATION_BUCKETS,
      registers: [registry],
    }),
    providerErrorsTotal: new Counter({
      name: 'provider_errors_total',
      help: 'Failed calls to external providers, by provider and operation',
      labelNames: ['provider', 'operation'],
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: 'dependency_up',
      help: 'Whether the dependency answered the last self-check (1) or not (0)',
      labelNames: ['dependency'],
      registers: [registry],
    }),
    dependencyCheckFailuresTotal: new Counter({
      name: 'dependency_check_failures_total',
      help: 'Failed self-check probes, by dependency (database, redis, s3)',
      labelNames: ['dependency'],
      registers: [registry],
    }),
    notificationsTotal: new Counter({
      name: 'notifications_total',
      help: 'Alerts handed to the notifier, by channel and outcome',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
  };
}

/**
 * Times one call to an external provider: observes its duration with outcome ok|error and counts the error; the
 * call's own result or error passes through unchanged.
 */
export async function observeProvider<T>(
  metrics: Pick<ApiMetrics, 'providerRequestDuration' | 'providerErrorsTotal'>,
  provider: string,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  try {
    const result = await call();
    metrics.providerRequestDuration.observe(
      { provider, operation, outcome: 'ok' },
      (performance.now() - started) / 1000,
    );
    return result;
  } catch (err) {
    metrics.providerRequestDuration.observe(
      { provider, operation, outcome: 'error' },
      (performance.now() - started) / 1000,
    );
    metrics.providerErrorsTotal.inc({ provider, operation });
    throw err;
  }
}
