/**
 * The README's test command (`pnpm test`): every check CI runs, in order, stopping at the first broken stage.
 * typecheck → lint → offline security checks → unit + integration tests → fault tests → browser e2e tests.
 * Ends with one summary line `tests: N passed, N failed` that CI reads.
 *
 * Flags: --skip-static (no typecheck/lint/security), --only=<unit|integration|faults|e2e>[,...].
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const skipStatic = args.includes('--skip-static');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');

const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  FORCE_COLOR: process.env.CI ? '0' : '1',
};

function run(label: string, cmd: string, cmdArgs: string[]): boolean {
  const started = Date.now();
  console.log(`\n▶ ${label}: ${cmd} ${cmdArgs.join(' ')}`);
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit', env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const ok = r.status === 0;
  console.log(`${ok ? '✔' : '✘'} ${label} (${secs} s)`);
  return ok;
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}

let passed = 0;
let failed = 0;
let skipped = 0;
let stageFailed = false;

if (!skipStatic) {
  for (const [label, cmd, a] of [
    ['typecheck', 'pnpm', ['typecheck']],
    ['lint', 'pnpm', ['lint']],
    ['security', 'pnpm', ['test:security']],
  ] as const) {
    if (!run(label, cmd, [...a])) {
      stageFailed = true;
      failed += 1;
      break;
    }
    passed += 1;
  }
}

const outDir = path.join(root, 'test-results');
mkdirSync(outDir, { recursive: true });
// The fault suite (real outages, SIGKILLs and a deploy) is a stage of its own between integration and e2e; each of
// its files prints one `faults: <name> {counts}` line.
const groups: { name: string; projects: string[]; optIn?: boolean }[] = [
  { name: 'unit+integration', projects: ['unit', 'integration'] },
  { name: 'faults', projects: ['faults'] },
  { name: 'e2e', projects: ['e2e'] },
];
if (!stageFailed) {
  for (const g of groups) {
    const projects = g.projects.filter((p) => (g.optIn ? only?.includes(p) : !only || only.includes(p)));
    if (projects.length === 0) continue;
    const out = path.join(outDir, `vitest-${g.name}.json`);
    rmSync(out, { force: true });
    const ok = run(`tests (${projects.join(', ')})`, 'pnpm', [
      'exec',
      'vitest',
      'run',
      ...projects.flatMap((p) => ['--project', p]),
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${out}`,
    ]);
    if (existsSync(out)) {
      const report = JSON.parse(readFileSync(out, 'utf8')) as VitestJson;
      passed += report.numPassedTests;
      failed += report.numFailedTests;
      skipped += report.numPendingTests + report.numTodoTests;
      if (!ok && report.numFailedTests === 0) failed += 1; // a file that failed to load, or a hook error
    } else if (!ok) {
      failed += 1;
    }
    if (!ok) {
      stageFailed = true;
      break;
    }
  }
}

console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(stageFailed || failed > 0 ? 1 : 0);
