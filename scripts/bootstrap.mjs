#!/usr/bin/env node
// Entry of the README's two commands (`npm run dev`, `npm test`; pnpm works the same). Plain Node with no
// dependencies, so it runs on a fresh machine: makes sure the pinned pnpm and the workspace's dependencies are
// installed, then hands over to the TypeScript script (scripts/dev.ts or scripts/test.ts) through tsx.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const [target, ...rest] = process.argv.slice(2);
const scripts = { dev: 'scripts/dev.ts', test: 'scripts/test.ts' };
if (!(target in scripts)) {
  console.error(`usage: bootstrap.mjs <${Object.keys(scripts).join('|')}> [args]`);
  process.exit(2);
}

const want = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];
const have = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
if (have.status !== 0 || have.stdout.trim() !== want) {
  console.log(`Installing pnpm ${want} (npm i -g pnpm@${want}) …`);
  const r = spawnSync('npm', ['i', '-g', `pnpm@${want}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`Could not install pnpm ${want}. Install it yourself: npm i -g pnpm@${want}`);
    process.exit(1);
  }
}

const lockStamp = path.join(root, 'node_modules', '.pnpm', 'lock.yaml');
if (!existsSync(lockStamp) || !existsSync(path.join(root, 'node_modules', '.bin', 'tsx'))) {
  console.log('Installing dependencies (pnpm install --frozen-lockfile) …');
  const r = spawnSync('pnpm', ['install', '--frozen-lockfile'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// `node --import tsx` rather than the tsx CLI: the CLI is a second relay process that re-sends signals and kills its
// child if it does not acknowledge them quickly, which cut the dev stack's own orderly shutdown short.
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, scripts[target]), ...rest], {
  cwd: root,
  stdio: 'inherit',
});
// Forward stop signals (a terminal's Ctrl-C reaches the whole group too, so the child must treat a repeat as one).
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
