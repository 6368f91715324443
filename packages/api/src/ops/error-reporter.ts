/**
 * Error reporting to Sentry when SENTRY_DSN is set; otherwise nothing (no client, no network, no global state).
 * One Sentry client per server (not the SDK's global one), so several servers in a process never mix reports. Only
 * errors are sent (no tracing, no default integrations patching modules): unexpected errors of requests and tRPC
 * calls, tagged with the request id, route and service. Client errors (4xx AppErrors, validation) are not reported.
 *
 * `reportError()` reaches the installed reporter from code that has no server at hand.
 */
import type * as Sentry from '@sentry/node';
import type { NodeClient } from '@sentry/node';

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
  const dsn = env.SENTRY_DSN;
  if (!dsn) return DISABLED;
  // The SDK is the heaviest module the api could load (~40 MB resident): it is imported only when reporting is on,
  // in the background; reports made before it is ready are sent once it is, in order.
  const ready = import('@sentry/node').then((sentry) => {
    const client = new sentry.NodeClient({
      dsn,
      environment: env.NODE_ENV,
      release: opts.release,
      transport: sentry.makeNodeTransport,
      stackParser: sentry.defaultStackParser,
      integrations: [],
      tracesSampleRate: 0,
      initialScope: { tags: { service: opts.service } },
    });
    client.init();
    return { sentry, client };
  });
  ready.catch((err: unknown) =>
    process.stderr.write(`error reporting disabled: cannot load @sentry/node: ${String(err)}\n`),
  );
  const send = (
    { sentry, client }: { sentry: typeof Sentry; client: NodeClient },
    err: unknown,
    context: ErrorContext,
  ) => {
    const scope = new sentry.Scope();
    scope.setClient(client);
    scope.setTag('service', opts.service);
    for (const [k, v] of Object.entries(context.tags ?? {})) if (v !== undefined) scope.setTag(k, v);
    if (context.extra) scope.setExtras(context.extra);
    client.captureException(err, {}, scope);
  };
  return {
    enabled: true,
    capture(err, context = {}) {
      ready.then((loaded) => send(loaded, err, context)).catch(() => undefined);
    },
    async flush(timeoutMs = 2_000) {
      const loaded = await ready.catch(() => null);
      if (loaded) await Promise.resolve(loaded.client.flush(timeoutMs)).catch(() => false);
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
