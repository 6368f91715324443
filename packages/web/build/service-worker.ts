/**
 * The installable app's service worker, written at build time (`sw.js` at the root of the output, never hashed, so
 * the browser can find the next version). It precaches the app shell (`index.html`) and the build's hashed assets
 * (`assets/*`), named by a version derived from them, and serves:
 * - navigations: network first, the cached shell when offline;
 * - `/assets/*`: cache first (hashed names never change content);
 * - everything else — the api (`/trpc`, `/api`, `/health`), audio and any other origin — is not touched: never cached.
 * A new version installs next to the running one and waits; the page shows "New version — reload" and, when the user
 * accepts, tells it to take over (`SKIP_WAITING`), then reloads. Old caches are deleted on activation.
 */
import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

export const SERVICE_WORKER_FILE = 'sw.js';

export function serviceWorkerSource(version: string, precache: readonly string[]): string {
  return `/* DAWG AI service worker — generated at build time. */
const VERSION = ${JSON.stringify(version)};
const CACHE = 'dawg-shell-' + VERSION;
const PRECACHE = ${JSON.stringify(precache)};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('dawg-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
  if (event.data && event.data.type === 'VERSION' && event.ports[0]) event.ports[0].postMessage(VERSION);
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    event.respondWith(
      fetch(request).catch(() => caches.open(CACHE).then((cache) => cache.match('/index.html')).then((r) => r || Response.error())),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      caches.open(CACHE).then((cache) =>
        cache.match(request).then((hit) => hit || fetch(request)),
      ),
    );
  }
});
`;
}

/** Vite plugin: emits `sw.js` with the build's shell and hashed assets. */
export function serviceWorkerPlugin(): Plugin {
  return {
    name: 'dawg-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const assets = Object.keys(bundle)
        .filter((name) => name.startsWith('assets/') && !name.endsWith('.map'))
        .sort();
      const precache = ['/index.html', ...assets.map((a) => `/${a}`)];
      const version = createHash('sha256').update(precache.join('\n')).digest('hex').slice(0, 16);
      this.emitFile({ type: 'asset', fileName: SERVICE_WORKER_FILE, source: serviceWorkerSource(version, precache) });
    },
  };
}
