/**
 * Initial JavaScript of the web app: builds packages/web (production, into a temporary directory) and sums the gzip
 * size (level 9) of the scripts the first page load fetches: the module scripts and `modulepreload` links of
 * index.html plus every chunk they import statically. Lazily loaded chunks (`import()`) do not count. The size is
 * deterministic, so one build is measured and its figure reported for every round.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import { singleVariantResult, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'initial JS ≤ 250 KB gzip', comparator: '<=', target: 250 };

/** Paths (as written, e.g. `/assets/index-abc.js`) of the entry scripts and module preloads of an index.html. */
export function initialScripts(html: string): string[] {
  const found: string[] = [];
  for (const tag of html.match(/<(?:script|link)\b[^>]*>/gi) ?? []) {
    const attr = (name: string) => new RegExp(`\\s${name}\\s*=\\s*["']([^"']*)["']`, 'i').exec(tag)?.[1];
    const isModuleScript = /^<script/i.test(tag) && attr('type') === 'module' ? attr('src') : undefined;
    const isPreload = /^<link/i.test(tag) && attr('rel') === 'modulepreload' ? attr('href') : undefined;
    const path = isModuleScript ?? isPreload;
    if (path && !found.includes(path)) found.push(path);
  }
  return found;
}

/** Relative specifiers a chunk imports statically (`import … from "./x.js"`, `import "./x.js"`, `export … from`). */
export function staticImports(code: string): string[] {
  const found = new Set<string>();
  for (const m of code.matchAll(/\b(?:import|export)\s*(?:[\w$*{}\s,]+?\s*from\s*)?["'](\.{1,2}\/[^"']+\.js)["']/g)) {
    if (m[1]) found.add(m[1]);
  }
  return [...found];
}

/** Every script the first load fetches, with raw and gzip sizes in bytes, keyed by path relative to `distDir`. */
export async function initialJs(distDir: string): Promise<Map<string, { raw: number; gzip: number }>> {
  const html = await readFile(join(distDir, 'index.html'), 'utf8');
  const queue = initialScripts(html)
    .filter((p) => !/^[a-z]+:\/\//i.test(p))
    .map((p) => posix.normalize(p.replace(/^\//, '')));
  const files = new Map<string, { raw: number; gzip: number }>();
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (files.has(file)) continue;
    const code = await readFile(join(distDir, file));
    files.set(file, { raw: code.length, gzip: gzipSync(code, { level: 9 }).length });
    for (const spec of staticImports(code.toString('utf8'))) queue.push(posix.join(posix.dirname(file), spec));
  }
  return files;
}

async function buildWeb(repoRoot: string, outDir: string): Promise<void> {
  const webRoot = join(repoRoot, 'packages/web');
  const vite = join(webRoot, 'node_modules/vite/bin/vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: webRoot,
    // What the `vite build` CLI ships: React's production build.
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`web build failed (exit ${code}): ${output.slice(-4000)}`);
}

export const webInitialJs: Benchmark = {
  name: 'web-initial-js',
  description: 'KB gzip: JavaScript the first page load fetches (entry + modulepreload + static imports)',
  async run(ctx) {
    const outDir = await mkdtemp(join(tmpdir(), 'dawg-bench-web-'));
    try {
      const started = performance.now();
      await buildWeb(ctx.repoRoot, join(outDir, 'dist'));
      ctx.log(`built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const files = await initialJs(join(outDir, 'dist'));
      const gzipBytes = [...files.values()].reduce((sum, f) => sum + f.gzip, 0);
      const rawBytes = [...files.values()].reduce((sum, f) => sum + f.raw, 0);
      const kb = Math.round((gzipBytes / 1024) * 10) / 10;
      ctx.log(`${files.size} files, ${kb} KB gzip (${(rawBytes / 1024).toFixed(1)} KB raw)`);
      const perFile = Object.fromEntries(
        [...files].map(([file, f]) => [
          // Hashes change every build; the name before the hash identifies the chunk.
          file.replace(/-[\w-]{8}\.js$/, '.js'),
          `${(f.gzip / 1024).toFixed(1)} KB gzip / ${(f.raw / 1024).toFixed(1)} KB raw`,
        ]),
      );
      return singleVariantResult({
        name: this.name,
        description: this.description,
        unit: 'KB',
        rounds: ctx.rounds,
        goal: GOAL,
        samples: Array.from({ length: ctx.rounds }, () => kb),
        settings: {
          build: "one production build of packages/web (vite build); the size is deterministic, so its figure is every round's sample",
          gzip: 'node:zlib gzipSync level 9, per file',
          counted: 'index.html <script type=module src> + <link rel=modulepreload href> + their static imports',
          rawKB: Math.round((rawBytes / 1024) * 10) / 10,
          ...perFile,
        },
      });
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  },
};
