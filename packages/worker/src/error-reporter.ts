/**
 * Error reporting to Sentry when SENTRY_DSN is set; otherwise nothing. One Sentry client per worker app (not the
 * SDK's global one), errors only (no tracing, no integrations patching modules): every failed job attempt, tagged
 * with the job's id, name, queue and attempt. The api has the same reporter (packages/api/src/ops/error-reporter.ts).
 */
import type * as Sentry from '@sentry/node';
import type { NodeClient } from '@sentry/node';

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
  const dsn = env.SENTRY_DSN;
  if (!dsn) return DISABLED;
  // Loaded only when reporting is on (the SDK is ~40 MB resident), in the background; reports made before it is
  // ready are sent once it is, in order.
  const ready = import('@sentry/node').then((sentry) => {
    const client = new sentry.NodeClient({
      dsn,
      environment: env.NODE_ENV,
      ...(opts.release ? { release: opts.release } : {}),
      transport: sentry.makeNodeTransport,
      stackParser: sentry.defaultStackParser,
      integrations: [],
      tracesSampleRate: 0,
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
    tags: Record<string, string | undefined>,
  ) => {
    const scope = new sentry.Scope();
    scope.setClient(client);
    scope.setTag('service', opts.service);
    for (const [k, v] of Object.entries(tags)) if (v !== undefined) scope.setTag(k, v);
    client.captureException(err, {}, scope);
  };
  return {
    enabled: true,
    capture(err, tags = {}) {
      ready.then((loaded) => send(loaded, err, tags)).catch(() => undefined);
    },
    async flush(timeoutMs = 2_000) {
      const loaded = await ready.catch(() => null);
      if (loaded) await Promise.resolve(loaded.client.flush(timeoutMs)).catch(() => false);
    },
  };
}
