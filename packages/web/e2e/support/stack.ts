/**
 * The whole stack a browser test runs against, started by the test itself: a fresh Postgres database, an S3-protocol
 * server, Redis (optionally behind a fault proxy the test can cut), the api in-process, optionally a worker
 * in-process (every job of @dawg/worker, on the same database, bucket and Redis prefix, so generations run to the
 * end), the production build of the web app behind `vite preview` with its api proxy, and Chromium. `stop()` tears
 * down whatever was started, in reverse order, even after a partial start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, preview, type InlineConfig, type PreviewServer } from 'vite';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { apiEnvSchema, parseEnv, workerEnvSchema } from '@dawg/shared';
import { buildServer, type ApiServer } from '@dawg/api/server';
import { createJobRegistry, createWorkerApp, jobs, registryOptions, type WorkerApp } from '@dawg/worker';
import {
  createTestDatabase,
  freePort,
  launchBrowser,
  startFaultProxy,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type FaultProxy,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { createWebConfig } from '../../vite.config';

const REDIS = { host: '127.0.0.1', port: 6379 };

export interface StackOptions {
  /** Names the Redis prefix, so a leftover key says which test wrote it. */
  label: string;
  /** Put Redis behind a fault proxy (exposed as `redisProxy`) so the test can cut it. */
  redisFaultProxy?: boolean;
  /** Extra api env, applied last. */
  env?: Record<string, string>;
  /** Also run a worker (all jobs) in this process, with these extra env values applied last. */
  worker?: boolean | { env?: Record<string, string> };
  /** Where the database comes from (default: createTestDatabase, which needs the vitest global setup). */
  createDatabase?: () => Promise<TestDatabase>;
  /** Extra Chromium flags (e.g. a fake microphone). */
  browserArgs?: string[];
  /** Build-time `VITE_*` values of the web app (e.g. `{ VITE_DEMO_MODE: 'true' }`). */
  webEnv?: Record<string, string>;
}

export interface Stack {
  db: TestDatabase;
  s3: S3ServerHandle;
  redisProxy: FaultProxy | undefined;
  api: ApiServer;
  apiUrl: string;
  /** The in-process worker, when `worker` was asked for. */
  worker: WorkerApp | undefined;
  /** Origin of the web app; the browser talks only to it (the preview server proxies the api). */
  webUrl: string;
  browser: Browser;
  /** A page in its own browser context (own cookies), already at `pathname`, with uncaught errors collected. */
  openPage(pathname: string, options?: BrowserContextOptions): Promise<OpenedPage>;
  stop(): Promise<void>;
}

export interface OpenedPage {
  page: Page;
  context: BrowserContext;
  /** Uncaught exceptions in the page; a test expects it to stay empty. */
  pageErrors: string[];
  close(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const teardown: (() => Promise<unknown> | undefined)[] = [];
  const stop = async () => {
    const errors: unknown[] = [];
    for (const step of teardown.reverse()) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    teardown.length = 0;
    if (errors.length > 0) throw new AggregateError(errors, 'stack teardown failed');
  };

  try {
    const db = await (options.createDatabase ?? createTestDatabase)();
    teardown.push(() => db.drop());
    const s3 = await startS3Server();
    teardown.push(() => s3.stop());
    const redisProxy = options.redisFaultProxy ? await startFaultProxy(REDIS) : undefined;
    if (redisProxy) teardown.push(() => redisProxy.close());
    const redisBase = `redis://${REDIS.host}:${REDIS.port}`;
    const redisPrefix = uniqueRedisPrefix(options.label);

    // The api refuses WebSocket upgrades (and CORS) from origins outside CORS_ORIGINS, and the preview proxy passes
    // the browser's Origin through, so the web server's origin has to be known before the api starts.
    const webPort = await freePort();
    const webUrl = `http://127.0.0.1:${webPort}`;
    const env = parseEnv(
      apiEnvSchema,
      testEnv(
        {
          databaseUrl: db.url,
          s3,
          redisUrl: redisProxy ? redisProxy.url(redisBase) : redisBase,
          redisPrefix,
        },
        { CORS_ORIGINS: webUrl, ...options.env },
      ),
    );
    let worker: WorkerApp | undefined;
    if (options.worker) {
      const workerEnv = parseEnv(
        workerEnvSchema,
        testEnv(
          { databaseUrl: db.url, s3, redisUrl: redisBase, redisPrefix },
          typeof options.worker === 'object' ? options.worker.env : {},
        ),
      );
      const app = createWorkerApp({ env: workerEnv, jobs: createJobRegistry(jobs, registryOptions) });
      teardown.push(() => app.close(5_000));
      await app.start();
      worker = app;
    }
    const api = await buildServer({ env, logger: false });
    teardown.push(() => api.close());
    const apiUrl = await api.listen();

    const outDir = await mkdtemp(path.join(tmpdir(), 'dawg-web-e2e-'));
    teardown.push(() => rm(outDir, { recursive: true, force: true }));
    const web = await startWeb(apiUrl, outDir, webPort, options.webEnv ?? {});
    teardown.push(() => web.close());

    const browser = await launchBrowser({ args: options.browserArgs ?? [] });
    teardown.push(() => browser.close());

    return {
      db,
      s3,
      redisProxy,
      api,
      apiUrl,
      worker,
      webUrl,
      browser,
      openPage: (pathname, contextOptions) => openPage(browser, `${webUrl}${pathname}`, contextOptions),
      stop,
    };
  } catch (err) {
    await stop().catch((teardownErr: unknown) => console.error('partial stack teardown failed', teardownErr));
    throw err;
  }
}

async function startWeb(
  apiUrl: string,
  outDir: string,
  port: number,
  webEnv: Record<string, string>,
): Promise<PreviewServer> {
  const config: InlineConfig = {
    ...createWebConfig({ apiTarget: apiUrl, outDir }),
    configFile: false,
    logLevel: 'warn',
    // Same origin on purpose: HTTP and the WebSocket both go through the preview server's proxy, as in development,
    // whatever VITE_API_URL the shell running the tests has.
    define: {
      ...Object.fromEntries(Object.entries(webEnv).map(([k, v]) => [`import.meta.env.${k}`, JSON.stringify(v)])),
      'import.meta.env.VITE_API_URL': JSON.stringify(''),
    },
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
  return preview({
    ...config,
    preview: { ...config.preview, host: '127.0.0.1', port, strictPort: true, open: false },
  });
}

async function openPage(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<OpenedPage> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(url);
  return { page, context, pageErrors, close: () => context.close() };
}

/** Text of the element with this test id, or null when it is not there within half a second. */
export async function testIdText(page: Page, testId: string): Promise<string | null> {
  return page
    .getByTestId(testId)
    .textContent({ timeout: 500 })
    .catch(() => null);
}

/** Waits until every listed test id shows its expected text; the error names what the page showed instead. */
export async function waitForTexts(page: Page, expected: Record<string, string>, timeoutMs: number): Promise<void> {
  let seen: Record<string, string | null> = {};
  try {
    await waitFor(
      async () => {
        seen = {};
        for (const id of Object.keys(expected)) seen[id] = await testIdText(page, id);
        return Object.entries(expected).every(([id, text]) => seen[id]?.trim() === text);
      },
      { timeoutMs, intervalMs: 100, description: JSON.stringify(expected) },
    );
  } catch (err) {
    throw new Error(`page did not show ${JSON.stringify(expected)}; it showed ${JSON.stringify(seen)}`, { cause: err });
  }
}
