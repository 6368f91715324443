/**
 * The installable app's update flow in Chromium: build A is served (a plain static server, reading files on every
 * request) and its service worker takes control; build B is then built next to it and the server switches to it, as a
 * CDN does at a deploy. The page's `registration.update()` (run when the page becomes visible again) finds
 * the new worker, which installs and waits; the page shows "New version available — Reload", and the click reloads
 * the page into build B.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { launchBrowser, waitFor } from '@dawg/testing';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebConfig } from '../vite.config';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

let root: string;
/** The deployed build's directory. */
let outDir: string;
let server: Server;
let origin: string;
let browser: Browser;

async function buildApp(id: string, dir: string): Promise<void> {
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      ...createWebConfig({ apiTarget: 'http://127.0.0.1:1', outDir: dir }),
      configFile: false,
      logLevel: 'warn',
      define: { 'import.meta.env.VITE_APP_BUILD': JSON.stringify(id), 'import.meta.env.VITE_API_URL': '""' },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'dawg-web-update-'));
  outDir = join(root, 'a');
  await buildApp('build-a', outDir);
  server = createServer((req, res) => {
    void (async () => {
      const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
      let file = join(outDir, path);
      const found = await stat(file).catch(() => null);
      // The SPA fallback (as the Vercel rewrite): unknown paths are the shell.
      if (!found || found.isDirectory()) file = join(outDir, 'index.html');
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (root) await rm(root, { recursive: true, force: true });
});

describe('installable app', () => {
  it('after a new build, the page offers "new version — reload" and reloads into it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${origin}/status`);
      expect(await page.locator('html').getAttribute('data-build')).toBe('build-a');
      // The first worker installs and takes control (no prompt: nothing to replace).
      await page.evaluate(async () => {
        await navigator.serviceWorker.ready;
      });
      await page.reload();
      await waitFor(() => page.evaluate(() => navigator.serviceWorker.controller !== null), {
        timeoutMs: 20_000,
        description: 'the page controlled by the worker of build A',
      });
      expect(await page.getByTestId('update-banner').count()).toBe(0);

      await buildApp('build-b', join(root, 'b'));
      outDir = join(root, 'b');
      // The user comes back to the tab: the page asks for a newer worker.
      await page.evaluate(() => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
        document.dispatchEvent(new Event('visibilitychange'));
      });
      const banner = page.getByTestId('update-banner');
      await banner.waitFor({ timeout: 30_000 });
      expect(await banner.textContent()).toContain('New version available');
      // Still build A until the user agrees.
      expect(await page.locator('html').getAttribute('data-build')).toBe('build-a');

      await Promise.all([
        page.waitForEvent('load', { timeout: 30_000 }),
        banner.getByRole('button', { name: 'Reload' }).click(),
      ]);
      await waitFor(async () => (await page.locator('html').getAttribute('data-build')) === 'build-b', {
        timeoutMs: 20_000,
        description: 'the page running build B',
      });
      expect(await page.getByTestId('update-banner').count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
