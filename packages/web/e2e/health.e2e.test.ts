/**
 * The foundation's first browser test: the whole stack (see support/stack.ts) with Redis behind a fault proxy, then
 * the status page in Chromium must follow a Redis outage live over the WebSocket: healthy → degraded → healthy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotPath, waitFor } from '@dawg/testing';
import { startStack, waitForTexts, type Stack } from './support/stack';

const CONNECTIONS = ['database', 'redis', 's3'] as const;

let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack({ label: 'web-health-e2e', redisFaultProxy: true });
});

afterAll(async () => {
  await stack?.stop();
});

function started(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

describe('web shell', () => {
  it('serves the app with the product name and navigation, sending a visitor to sign-in', async () => {
    const { webUrl } = started();
    const { page, pageErrors, close } = await started().openPage('/');
    try {
      // The studio home is for signed-in users; a visitor lands on sign-in with the same header.
      await page.waitForURL(`${webUrl}/signin`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Sign in');
      // The title is set by an effect after the render; it may trail the heading by a frame.
      await waitFor(async () => (await page.title()) === 'Sign in · DAWG AI', { description: 'the sign-in title' });
      await expect(page.getByRole('link', { name: 'DAWG AI home' }).textContent()).resolves.toBe('DAWG AI');
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Status' }).click();
      await page.waitForURL(`${webUrl}/status`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('System status');
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});

describe('status page', () => {
  it('shows live health and follows a Redis outage and its recovery', async () => {
    const { redisProxy } = started();
    if (!redisProxy) throw new Error('the stack has no Redis fault proxy');
    const { page, pageErrors, close } = await started().openPage('/status');
    try {
      const allOk = Object.fromEntries(CONNECTIONS.map((name) => [`conn-${name}`, 'ok']));
      await waitForTexts(page, { 'health-status': 'healthy', ...allOk }, 15_000);
      // The updates must be arriving over the subscription, not only from the one-off query.
      await waitFor(async () => (await page.getByTestId('ws-state').getAttribute('data-state')) === 'open', {
        timeoutMs: 10_000,
        description: 'the WebSocket to be open',
      });

      redisProxy.cut();
      await waitForTexts(
        page,
        { 'health-status': 'degraded', 'conn-redis': 'down', 'conn-database': 'ok', 'conn-s3': 'ok' },
        15_000,
      );
      // The page learnt it over the still-open socket: an outage of Redis must not take the live channel down.
      expect(await page.getByTestId('ws-state').getAttribute('data-state')).toBe('open');
      expect(await page.getByTestId('health-updated').getAttribute('data-source')).toBe('live');
      await page.screenshot({ path: screenshotPath('web-status-degraded'), fullPage: true });

      redisProxy.restore();
      await waitForTexts(page, { 'health-status': 'healthy', ...allOk }, 20_000);
      await page.screenshot({ path: screenshotPath('web-status-healthy'), fullPage: true });

      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});
