/**
 * First-run dependency install: when the workspace has no node_modules (fresh clone), run
 * `pnpm install --frozen-lockfile` before anything imports a dependency. Node built-ins only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Workspace package directories (packages/* and scripts) that lack node_modules, plus the root if it does. */
export function missingNodeModules(repoRoot: string): string[] {
  const dirs = [repoRoot, join(repoRoot, 'scripts')];
  const packages = join(repoRoot, 'packages');
  if (existsSync(packages)) {
    for (const entry of readdirSync(packages, { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(packages, entry.name, 'package.json'))) {
        dirs.push(join(packages, entry.name));
      }
    }
  }
  return dirs.filter((dir) => {
    if (!existsSync(join(dir, 'package.json'))) return false;
    // pnpm writes .modules.yaml at the root; a package with no dependencies may have no node_modules at all.
    if (dir === repoRoot) return !existsSync(join(dir, 'node_modules', '.modules.yaml'));
    return !existsSync(join(dir, 'node_modules')) && hasDependencies(join(dir, 'package.json'));
  });
}

function hasDependencies(packageJson: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(packageJson, 'utf8')) as { dependencies?: object; devDependencies?: object };
    return Object.keys(pkg.dependencies ?? {}).length + Object.keys(pkg.devDependencies ?? {}).length > 0;
  } catch {
    return true;
  }
}

/** Installs when something is missing; returns false (after printing why) when the install failed. */
export function ensureDependencies(repoRoot: string, log: (line: string) => void): boolean {
  const missing = missingNodeModules(repoRoot);
  if (missing.length === 0) return true;
  const names = missing.map((d) => d.slice(repoRoot.length + 1) || '.').join(', ');
  log(`node_modules missing (${names}): running pnpm install --frozen-lockfile`);
  const result = spawnSync('pnpm', ['install', '--frozen-lockfile'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.error) {
    log(`could not run pnpm (${result.error.message}); install it with \`corepack enable\` (Node 20 ships corepack)`);
    return false;
  }
  if (result.status !== 0) {
    log(
      `pnpm install --frozen-lockfile failed (exit ${result.status ?? result.signal}); fix the error above and retry`,
    );
    return false;
  }
  return true;
}
