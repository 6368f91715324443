#!/usr/bin/env node
/**
 * Production build of the api and the worker: esbuild bundles a package's entries and the workspace packages they
 * import (@dawg/*, which ship TypeScript sources) into `dist/*.mjs`, run with plain `node` (no TypeScript loader in
 * the process). Third-party packages stay external and load from node_modules as they are (several read files next
 * to their own sources or patch modules at load time, which a bundle would break).
 *
 *   node scripts/build-server.mjs <api|worker> [--outdir <dir>]   (default packages/<name>/dist)
 *
 * Plain JavaScript on purpose: the Docker build runs it before anything can load TypeScript.
 */
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Entries per package: `main` is the process; the worker's synth thread loads its own entry file. */
const TARGETS = {
  api: { entries: { main: 'src/main.ts' } },
  worker: { entries: { main: 'src/main.ts', 'thread-entry': 'src/synth/thread-entry.ts' } },
};

/** Files read at run time relative to a module (`new URL('./data/…', import.meta.url)`), copied next to the bundle. */
const ASSETS = [{ from: 'packages/shared/src/data', to: 'data' }];

function parseArgs(argv) {
  const [name, ...rest] = argv;
  if (!name || !(name in TARGETS)) {
    throw new Error(`usage: build-server.mjs <${Object.keys(TARGETS).join('|')}> [--outdir <dir>]`);
  }
  let outdir = path.join(root, 'packages', name, 'dist');
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--outdir' && rest[i + 1]) outdir = path.resolve(rest[++i]);
    else throw new Error(`unknown argument ${rest[i]}`);
  }
  return { name, outdir };
}

const packageName = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/**
 * Workspace packages and relative imports are bundled; every other bare import stays an import, resolved at run time
 * from the built package's own node_modules. So each one must be a dependency of that package (not only of a workspace
 * package it bundles): the build fails naming those that are not.
 */
function externalDependencies(pkg) {
  const declared = new Set(Object.keys(pkg.dependencies ?? {}));
  return {
    name: 'external-dependencies',
    setup(build) {
      const missing = new Map();
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@dawg/') || args.path.startsWith('node:')) return undefined;
        const name = packageName(args.path);
        if (!declared.has(name) && !missing.has(name)) missing.set(name, args.importer);
        return { path: args.path, external: true };
      });
      build.onEnd((result) => {
        for (const [name, importer] of missing) {
          result.errors.push({
            text: `${name} (imported by ${path.relative(root, importer)}) must be in ${pkg.name}'s dependencies`,
          });
        }
      });
    },
  };
}

export async function buildServer(name, outdir) {
  const pkgDir = path.join(root, 'packages', name);
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  // esbuild is a devDependency of the package being built (the Docker build installs only that package's tree).
  const { build } = await import(createRequire(path.join(pkgDir, 'package.json')).resolve('esbuild'));
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const entryPoints = Object.fromEntries(
    Object.entries(TARGETS[name].entries).map(([out, src]) => [out, path.join(pkgDir, src)]),
  );
  const result = await build({
    absWorkingDir: pkgDir,
    entryPoints,
    outdir,
    bundle: true,
    // Dynamic imports (lazily loaded SDKs, the synth) stay separate files, loaded only when first used.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    // Chunks sit next to the entries, so `import.meta.url`-relative paths resolve the same from every file.
    chunkNames: '[name]-[hash]',
    sourcemap: 'linked',
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    plugins: [externalDependencies(pkg)],
  });
  for (const asset of ASSETS) cpSync(path.join(root, asset.from), path.join(outdir, asset.to), { recursive: true });
  const bytes = Object.entries(result.metafile.outputs)
    .filter(([file]) => file.endsWith('.mjs'))
    .reduce((sum, [, o]) => sum + o.bytes, 0);
  return { outdir, files: Object.keys(result.metafile.outputs).length, bytes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { name, outdir } = parseArgs(process.argv.slice(2));
  const out = await buildServer(name, outdir);
  process.stdout.write(
    `${name}: ${out.files} files, ${(out.bytes / 1024).toFixed(0)} KiB of JavaScript in ${out.outdir}\n`,
  );
}
