/**
 * The installable app's build output (seed deploy 3.1): a production build has `index.html` linking the manifest and
 * hashed `assets/*`, `manifest.json` with icons that exist, and `sw.js` precaching exactly the shell and the hashed
 * assets. The generated worker is then run against a stand-in of the worker globals: it answers navigations and
 * `/assets/*`, and leaves the api, audio and other origins alone (never cached).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebConfig } from '../vite.config';

let outDir: string;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'dawg-web-build-'));
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      ...createWebConfig({ apiTarget: 'http://127.0.0.1:1', outDir }),
      configFile: false,
      logLevel: 'warn',
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}, 180_000);

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

describe('production build', () => {
  it('has the shell, hashed assets, the manifest with its icons, and a worker precaching exactly them', async () => {
    const html = await readFile(join(outDir, 'index.html'), 'utf8');
    expect(html).toContain('<link rel="manifest" href="/manifest.json"');
    const assets = (await readdir(join(outDir, 'assets'))).filter((f) => !f.endsWith('.map')).sort();
    expect(assets.length).toBeGreaterThan(1);
    for (const name of assets) expect(name, 'a hashed name').toMatch(/-[A-Za-z0-9_-]{8,}\.(js|css)$/);
    const entry = /<script type="module" crossorigin src="\/assets\/([^"]+)"/.exec(html)?.[1];
    expect(assets).toContain(entry);

    const manifest = JSON.parse(await readFile(join(outDir, 'manifest.json'), 'utf8')) as {
      name: string;
      start_url: string;
      display: string;
      icons: { src: string; sizes: string; purpose?: string }[];
    };
    expect(manifest).toMatchObject({ name: 'DAWG AI', start_url: '/', display: 'standalone' });
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    expect(manifest.icons.some((i) => i.purpose === 'maskable')).toBe(true);
    for (const icon of manifest.icons) expect(existsSync(join(outDir, icon.src)), icon.src).toBe(true);

    const sw = await readFile(join(outDir, 'sw.js'), 'utf8');
    const precache = JSON.parse(/const PRECACHE = (\[.*\]);/.exec(sw)![1]!) as string[];
    expect(precache).toEqual(['/index.html', ...assets.map((a) => `/assets/${a}`)]);
  });

  it('the worker serves the shell and assets and never touches the api, audio or other origins', async () => {
    const source = await readFile(join(outDir, 'sw.js'), 'utf8');
    const handlers: Record<string, (event: unknown) => void> = {};
    const opened: string[] = [];
    const cache = { addAll: () => Promise.resolve(), match: () => Promise.resolve(undefined) };
    const self = {
      location: { origin: 'https://dawg-ai.com' },
      addEventListener: (type: string, fn: (event: unknown) => void) => (handlers[type] = fn),
      skipWaiting: () => undefined,
      clients: { claim: () => Promise.resolve() },
    };
    const caches = {
      open: (name: string) => {
        opened.push(name);
        return Promise.resolve(cache);
      },
      keys: () => Promise.resolve([]),
    };
    runInNewContext(source, { self, caches, fetch: () => Promise.resolve({}), URL, Response, Promise });
    expect(Object.keys(handlers).sort()).toEqual(['activate', 'fetch', 'install', 'message']);

    const handled = (url: string, init: { method?: string; mode?: string } = {}) => {
      let responded = false;
      handlers.fetch!({
        request: { url, method: init.method ?? 'GET', mode: init.mode ?? 'cors' },
        respondWith: () => (responded = true),
      });
      return responded;
    };
    expect(handled('https://dawg-ai.com/projects/1', { mode: 'navigate' })).toBe(true);
    expect(handled('https://dawg-ai.com/assets/index-abcdef12.js')).toBe(true);
    expect(handled('https://dawg-ai.com/trpc/project.list')).toBe(false);
    expect(handled('https://dawg-ai.com/api/generate/1/status')).toBe(false);
    expect(handled('https://dawg-ai.com/health')).toBe(false);
    expect(handled('https://dawg-ai.com/assets/index-abcdef12.js', { method: 'POST' })).toBe(false);
    expect(handled('https://bucket.s3.amazonaws.com/users/u/track.mp3')).toBe(false);
    expect(handled('https://cdn.example.com/audio/stream.mp3')).toBe(false);
  });
});
