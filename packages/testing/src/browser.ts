/**
 * Debian's Chromium driven by playwright-core (no browser download), with the flags that make it quiet and
 * deterministic on a headless CI machine.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { repoPath } from './repo';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
];

/**
 * Launches Chromium. Playwright gives every launch() a fresh temporary --user-data-dir and deletes it on close(), so
 * no profile state (cookies, service workers, caches) carries over between tests.
 */
export async function launchBrowser({ args = [] }: { args?: string[] } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
  });
}

/** `<repo>/test-results/<name>.png` (directory created); for page.screenshot({ path }) and other artifacts. */
export function screenshotPath(name: string): string {
  const dir = repoPath('test-results');
  mkdirSync(dir, { recursive: true });
  const file = name.replace(/[^A-Za-z0-9._-]+/g, '-');
  return path.join(dir, /\.[a-z]{3,4}$/.test(file) ? file : `${file}.png`);
}
