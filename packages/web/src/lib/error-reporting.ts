/**
 * Error reporting to Sentry when the build sets VITE_SENTRY_DSN; otherwise nothing is loaded or sent. The SDK is
 * imported on demand (its own chunk), so builds without a DSN ship none of it. Once initialised it reports
 * unhandled errors and rejections by itself; the app's error boundary reports render errors through `reportError`.
 */

import type * as Sentry from '@sentry/browser';

type SentryBrowser = typeof Sentry;

let sdk: SentryBrowser | undefined;

export async function initErrorReporting(
  dsn: string | undefined = import.meta.env.VITE_SENTRY_DSN,
  opts: { environment?: string; load?: () => Promise<SentryBrowser> } = {},
): Promise<boolean> {
  if (!dsn) return false;
  const loaded = await (opts.load ?? (() => import('@sentry/browser')))();
  loaded.init({ dsn, environment: opts.environment ?? import.meta.env.MODE, tracesSampleRate: 0 });
  sdk = loaded;
  return true;
}

/** Reports an error with extra context when reporting is on; a no-op otherwise. */
export function reportError(error: unknown, extra?: Record<string, unknown>): void {
  sdk?.captureException(error, extra ? { extra } : undefined);
}

/** Waits until queued reports are sent (tests; page unload is handled by the SDK). */
export async function flushErrorReports(timeoutMs = 2_000): Promise<void> {
  await sdk?.flush(timeoutMs);
}
