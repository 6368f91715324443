/**
 * The foundation's first browser test: the whole stack started here (Postgres database, S3-protocol server, Redis
 * behind a fault proxy, the api in-process, the built web app behind `vite preview` with its api proxy), then the
 * status page in Chromium must follow a Redis outage live over the WebSocket: healthy → degraded → healthy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, preview, type InlineConfig, type PreviewServer } from 'vite';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiEnvSchema, parseEnv } from '@dawg/shared';
import { buildServer, type ApiServer } from '@dawg/api/server';
import {
  createTestDatabase,
  freePort,
  launchBrowser,
  screenshotPath,
  startFaultProxy,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type FaultProxy,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { createWebConfig } from '../vite.config';

const REDIS = { host: '127.0.0.1', port: 6379 };
const CONNECTIONS = ['database', 'redis', 's3'] as const;

let db: TestDatabase | undefined;
let s3: S3ServerHandle | undefined;
let redisProxy: FaultProxy | undefined;
let api: ApiServer | undefined;
let web: PreviewServer | undefined;
let outDir: string | undefined;
let browser: Browser | undefined;
let webUrl = '';

beforeAll(async () => {
  db = await createTestDatabase();
  s3 = await startS3Server();
  redisProxy = await startFaultProxy(REDIS);
  // The api refuses WebSocket upgrades from origins outside CORS_ORIGINS (the proxy passes the browser's Origin
  // through), so the web server's origin has to be known before the api starts.
  const webPort = await freePort();
  webUrl = `http://127.0.0.1:${webPort}`;
  const env = parseEnv(
    apiEnvSchema,
    testEnv(
      {
        databaseUrl: db.url,
        s3,
        redisUrl: redisProxy.url(`redis://${REDIS.host}:${REDIS.port}`),
        redisPrefix: uniqueRedisPrefix('web-health-e2e'),
      },
      { CORS_ORIGINS: webUrl },
    ),
  );
  api = await buildServer({ env, logger: false });
  const apiUrl = await api.listen();

  outDir = await mkdtemp(path.join(tmpdir(), 'dawg-web-e2e-'));
  const config: InlineConfig = {
    ...createWebConfig({ apiTarget: apiUrl, outDir }),
    configFile: false,
    logLevel: 'warn',
    // Same origin on purpose: HTTP and the WebSocket both go through the preview server's proxy, as in development,
    // whatever VITE_API_URL the shell running the tests has.
    define: { 'import.meta.env.VITE_API_URL': JSON.stringify('') },
  };
  // Vitest runs with NODE_ENV=test, which Vite would honour by bundling React's development build; build what the
  // `vite build` CLI ships instead.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build(config);
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  web = await preview({
    ...config,
    preview: { ...config.preview, host: '127.0.0.1', port: webPort, strictPort: true, open: false },
  });

  browser = await launchBrowser();
});

afterAll(async () => {
  // Reverse order of start; each step runs even if an earlier one failed, so nothing is left listening.
  const steps: (() => Promise<unknown> | undefined)[] = [
    () => browser?.close(),
    () => web?.close(),
    () => api?.close(),
    () => redisProxy?.close(),
    () => s3?.stop(),
    () => db?.drop(),
    () => (outDir ? rm(outDir, { recursive: true, force: true }) : undefined),
  ];
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
});

async function openPage(pathname: string): Promise<{ page: Page; pageErrors: string[] }> {
  if (!browser) throw new Error('browser not started');
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${webUrl}${pathname}`);
  return { page, pageErrors };
}

async function testIdText(page: Page, testId: string): Promise<string | null> {
  return page.getByTestId(testId).textContent({ timeout: 500 });
}

/** Waits until every listed test id shows its expected text; the error names what the page showed instead. */
async function waitForTexts(page: Page, expected: Record<string, string>, timeoutMs: number): Promise<void> {
  let seen: Record<string, string | null> = {};
  try {
    await waitFor(
      async () => {
        seen = {};
        for (const id of Object.keys(expected)) seen[id] = await testIdText(page, id).catch(() => null);
        return Object.entries(expected).every(([id, text]) => seen[id]?.trim() === text);
      },
      { timeoutMs, intervalMs: 100, description: JSON.stringify(expected) },
    );
  } catch (err) {
    throw new Error(`page did not show ${JSON.stringify(expected)}; it showed ${JSON.stringify(seen)}`, { cause: err });
  }
}

describe('web shell', () => {
  it('serves the studio home with the product name and navigation', async () => {
    const { page, pageErrors } = await openPage('/');
    try {
      expect(await page.title()).toBe('DAWG AI');
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('DAWG AI');
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Status' }).click();
      await page.waitForURL(`${webUrl}/status`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('System status');
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

describe('status page', () => {
  it('shows live health and follows a Redis outage and its recovery', async () => {
    const { page, pageErrors } = await openPage('/status');
    try {
      const allOk = Object.fromEntries(CONNECTIONS.map((name) => [`conn-${name}`, 'ok']));
      await waitForTexts(page, { 'health-status': 'healthy', ...allOk }, 15_000);
      // The updates must be arriving over the subscription, not only from the one-off query.
      await waitFor(async () => (await page.getByTestId('ws-state').getAttribute('data-state')) === 'open', {
        timeoutMs: 10_000,
        description: 'the WebSocket to be open',
      });

      redisProxy!.cut();
      await waitForTexts(
        page,
        { 'health-status': 'degraded', 'conn-redis': 'down', 'conn-database': 'ok', 'conn-s3': 'ok' },
        15_000,
      );
      // The page learnt it over the still-open socket: an outage of Redis must not take the live channel down.
      expect(await page.getByTestId('ws-state').getAttribute('data-state')).toBe('open');
      expect(await page.getByTestId('health-updated').getAttribute('data-source')).toBe('live');
      await page.screenshot({ path: screenshotPath('web-status-degraded'), fullPage: true });

      redisProxy!.restore();
      await waitForTexts(page, { 'health-status': 'healthy', ...allOk }, 20_000);
      await page.screenshot({ path: screenshotPath('web-status-healthy'), fullPage: true });

      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
