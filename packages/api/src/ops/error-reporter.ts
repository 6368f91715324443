/**
 * Error reporting to Sentry when SENTRY_DSN is set; otherwise nothing (no client, no network, no global state).
 * One Sentry client per server (not the SDK's global one), so several servers in a process never mix reports. Only
 * errors are sent (no tracing, no default integrations patching modules): unexpected errors of requests and tRPC
 * calls, tagged with the request id, route and service. Client errors (4xx AppErrors, validation) are not reported.
 *
 * `reportError()` reaches the installed reporter from code that has no server at hand.
 */
import { NodeClient, Scope, defaultStackParser, makeNodeTransport } from '@sentry/node';

export interface ErrorContext {
  /** Searchable tags (request id, route, job id, ...); values are strings. */
  tags?: Record<string, string | undefined>;
  extra?: Record<string, unknown>;
}

export interface ErrorReporter {
  readonly enabled: boolean;
  capture(err: unknown, context?: ErrorContext): void;
  /** Waits up to `timeoutMs` for queued reports to be sent (at shutdown). */
  flush(timeoutMs?: number): Promise<void>;
}

const DISABLED: ErrorReporter = { enabled: false, capture: () => undefined, flush: () => Promise.resolve() };

export function createErrorReporter(
  env: { SENTRY_DSN?: string | undefined; NODE_ENV: string },
  opts: { service: string; release: string },
): ErrorReporter {
  if (!env.SENTRY_DSN) return DISABLED;
  const client = new NodeClient({
    dsn: env.SENTRY_DSN,
    environment: env.NODE_ENV,
    release: opts.release,
    transport: makeNodeTransport,
    stackParser: defaultStackParser,
    integrations: [],
    tracesSampleRate: 0,
    initialScope: { tags: { service: opts.service } },
  });
  client.init();
  return {
    enabled: true,
    capture(err, context = {}) {
      const scope = new Scope();
      scope.setClient(client);
      scope.setTag('service', opts.service);
      for (const [k, v] of Object.entries(context.tags ?? {})) if (v !== undefined) scope.setTag(k, v);
      if (context.extra) scope.setExtras(context.extra);
      client.captureException(err, {}, scope);
    },
    async flush(timeoutMs = 2_000) {
      await Promise.resolve(client.flush(timeoutMs)).catch(() => false);
    },
  };
}

let current: ErrorReporter = DISABLED;

export function installErrorReporter(reporter: ErrorReporter): () => void {
  current = reporter;
  return () => {
    if (current === reporter) current = DISABLED;
  };
}

export function reportError(err: unknown, context?: ErrorContext): void {
  current.capture(err, context);
}
