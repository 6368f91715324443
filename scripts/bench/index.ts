/**
 * `pnpm bench`: runs the registered benchmarks, writes bench/results.json (machine facts and, per benchmark, the
 * median and interquartile range of its headline metric over ≥ 5 interleaved rounds, its goal and whether it was
 * met) and prints a table.
 *
 *   --filter <text>   only benchmarks whose name contains the text (repeatable)
 *   --quick           shorter rounds (harness smoke test; noisier numbers)
 *   --rounds <n>      rounds per variant (default 7, at least 5)
 *   --out <file>      results file (default bench/results.json)
 *   --check           exit 1 when a goal is missed
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, freemem, platform, arch, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCHMARKS } from './registry';
import type { BenchResult } from './types';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface BenchArgs {
  filters: string[];
  quick: boolean;
  rounds: number;
  out: string;
  check: boolean;
}

export const MIN_ROUNDS = 5;

export function parseBenchArgs(argv: readonly string[], root = repoRoot): BenchArgs {
  const args: BenchArgs = { filters: [], quick: false, rounds: 7, out: join(root, 'bench/results.json'), check: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--') continue;
    else if (arg === '--filter') args.filters.push(value());
    else if (arg?.startsWith('--filter=')) args.filters.push(arg.slice('--filter='.length));
    else if (arg === '--quick') args.quick = true;
    else if (arg === '--check') args.check = true;
    else if (arg === '--rounds') args.rounds = Number(value());
    else if (arg === '--out') args.out = resolve(value());
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!Number.isInteger(args.rounds) || args.rounds < MIN_ROUNDS) {
    throw new Error(`--rounds must be an integer ≥ ${MIN_ROUNDS}`);
  }
  return args;
}

function machine() {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    freeMemoryBytes: freemem(),
    loadAverage: loadavg(),
    node: process.version,
    platform: `${platform()} ${release()} ${arch()}`,
    date: new Date().toISOString(),
  };
}

const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

export function formatTable(results: readonly BenchResult[]): string {
  const rows = [['benchmark', 'median', 'IQR (p25–p75)', 'unit', 'goal', 'result']];
  for (const r of results) {
    rows.push([
      r.name,
      fmt(r.median),
      `${fmt(r.p25)}–${fmt(r.p75)}`,
      r.unit,
      `${r.goal.comparator} ${r.goal.target}`,
      r.met ? 'met' : 'MISSED',
    ]);
    for (const [name, v] of Object.entries(r.variants)) {
      // A single-variant result's variant is its headline again.
      if (name === r.name) continue;
      rows.push([`  ${name}`, fmt(v.median), `${fmt(v.p25)}–${fmt(v.p75)}`, v.unit, '', '']);
    }
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<number> {
  const args = parseBenchArgs(process.argv.slice(2));
  const selected = BENCHMARKS.filter((b) => args.filters.length === 0 || args.filters.some((f) => b.name.includes(f)));
  if (selected.length === 0) {
    process.stderr.write(`no benchmark matches ${args.filters.join(', ')}; have: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const results: BenchResult[] = [];
  for (const bench of selected) {
    process.stdout.write(`\n${bench.name}: ${bench.description}\n`);
    const result = await bench.run({
      rounds: args.rounds,
      quick: args.quick,
      repoRoot,
      log: (line) => process.stdout.write(`  ${line}\n`),
    });
    results.push(...(Array.isArray(result) ? result : [result]));
  }
  const report = { machine: machine(), quick: args.quick, benchmarks: results };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${formatTable(results)}\n\nwrote ${args.out}\n`);
  return args.check && results.some((r) => !r.met) ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
