/**
 * Error reporting to Sentry when SENTRY_DSN is set; otherwise nothing. One Sentry client per worker app (not the
 * SDK's global one), errors only (no tracing, no integrations patching modules): every failed job attempt, tagged
 * with the job's id, name, queue and attempt. The api has the same reporter (packages/api/src/ops/error-reporter.ts).
 */
import { NodeClient, Scope, defaultStackParser, makeNodeTransport } from '@sentry/node';

export interface ErrorReporter {
  readonly enabled: boolean;
  capture(err: unknown, tags?: Record<string, string | undefined>): void;
  flush(timeoutMs?: number): Promise<void>;
}

const DISABLED: ErrorReporter = { enabled: false, capture: () => undefined, flush: () => Promise.resolve() };

export function createErrorReporter(
  env: { SENTRY_DSN?: string | undefined; NODE_ENV: string },
  opts: { service: string; release?: string },
): ErrorReporter {
  if (!env.SENTRY_DSN) return DISABLED;
  const client = new NodeClient({
    dsn: env.SENTRY_DSN,
    environment: env.NODE_ENV,
    ...(opts.release ? { release: opts.release } : {}),
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    integrations: [],
    tracesSampleRate: 0,
  });
  client.init();
  return {
    enabled: true,
    capture(err, tags = {}) {
      const scope = new Scope();
      scope.setClient(client);
      scope.setTag('service', opts.service);
      for (const [k, v] of Object.entries(tags)) if (v !== undefined) scope.setTag(k, v);
      client.captureException(err, {}, scope);
    },
    async flush(timeoutMs = 2_000) {
      await Promise.resolve(client.flush(timeoutMs)).catch(() => false);
    },
  };
}
