/**
 * Vite config of the web app. The dev server (and `vite preview`) proxy everything the api serves, WebSockets
 * included, so the browser talks to one origin in development exactly as it does behind Vercel's rewrites.
 * `createWebConfig` is exported for tests that start the app programmatically against an api on a random port.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type ProxyOptions, type UserConfig } from 'vite';
import { serviceWorkerPlugin } from './build/service-worker';

export const WEB_ROOT = fileURLToPath(new URL('.', import.meta.url));

export interface WebConfigOptions {
  /** Origin of the api that `/trpc`, `/voice`, `/api`, `/health` and `/metrics` are forwarded to. */
  apiTarget: string;
  /** Build output directory (default `dist/` in this package). */
  outDir?: string;
}

export function apiProxy(apiTarget: string): Record<string, ProxyOptions> {
  const http: ProxyOptions = { target: apiTarget, changeOrigin: false };
  const ws: ProxyOptions = { ...http, ws: true };
  return {
    '/trpc': ws,
    '/voice': ws,
    '/api': http,
    '/health': http,
    '/metrics': http,
  };
}

export function createWebConfig({ apiTarget, outDir }: WebConfigOptions): UserConfig {
  const proxy = apiProxy(apiTarget);
  return {
    root: WEB_ROOT,
    // The installable app: `sw.js` precaching the shell and hashed assets (build/service-worker.ts).
    plugins: [react(), serviceWorkerPlugin()],
    server: { port: 5173, strictPort: true, proxy },
    preview: { port: 4173, proxy },
    build: {
      outDir: outDir ?? 'dist',
      emptyOutDir: true,
      target: 'es2022',
      // Hashed names let the CDN cache assets forever (seed: `cache-control: immutable` on /assets/*).
      assetsDir: 'assets',
      sourcemap: true,
      reportCompressedSize: false,
      rolldownOptions: {
        output: {
          // Libraries change far less often than the app: a separate chunk stays cached across app deploys.
          // Sentry is loaded only when VITE_SENTRY_DSN is set (lib/error-reporting.ts): its own chunk, never in vendor.
          codeSplitting: {
            groups: [
              { name: 'sentry', test: /[\\/]node_modules[\\/].*@sentry/, priority: 2 },
              { name: 'vendor', test: /[\\/]node_modules[\\/]/, priority: 1 },
            ],
          },
        },
      },
    },
  };
}

export default defineConfig(() =>
  createWebConfig({ apiTarget: process.env.VITE_API_PROXY_TARGET ?? 'http://127.0.0.1:3000' }),
);
