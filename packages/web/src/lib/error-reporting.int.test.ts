/**
 * The web app's error reporting with the real @sentry/browser SDK against a local ingest stand-in: nothing is
 * loaded without a DSN; with one, a reported error arrives as a Sentry event with its context.
 */
import { startFakeWebhookServer, type FakeWebhookServer } from '@dawg/testing/fakes/webhook';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushErrorReports, initErrorReporting, reportError } from './error-reporting';

let ingest: FakeWebhookServer;

beforeAll(async () => {
  ingest = await startFakeWebhookServer();
});

afterAll(async () => {
  await ingest?.close();
});

describe('web error reporting', () => {
  it('loads nothing without a DSN', async () => {
    let loaded = false;
    const on = await initErrorReporting('', {
      load: () => {
        loaded = true;
        return import('@sentry/browser');
      },
    });
    expect(on).toBe(false);
    expect(loaded).toBe(false);
    reportError(new Error('not sent')); // a no-op, never a throw
  });

  it('sends a reported error to Sentry with its context', async () => {
    const dsn = `${ingest.url.replace('http://', 'http://webkey@')}/7`;
    expect(await initErrorReporting(dsn, { environment: 'test' })).toBe(true);
    reportError(new Error('render exploded'), { componentStack: 'at Studio' });
    await flushErrorReports();
    const envelopes = ingest.requests.filter((r) => r.path === '/api/7/envelope/').map((r) => String(r.body));
    const events = envelopes.flatMap((text) => {
      const lines = text.split('\n');
      const out: any[] = [];
      for (let i = 1; i + 1 < lines.length; i += 2) {
        if ((JSON.parse(lines[i]!) as { type?: string }).type === 'event') out.push(JSON.parse(lines[i + 1]!));
      }
      return out;
    });
    const event = events.find((e) => e.exception?.values?.[0]?.value === 'render exploded');
    expect(event).toBeDefined();
    expect(event.environment).toBe('test');
    expect(event.extra).toMatchObject({ componentStack: 'at Studio' });
  });
});
