/**
 * `pnpm bench`: runs the registered benchmarks, writes bench/results.json (machine facts and, per benchmark, the
 * median and interquartile range of its headline metric over ≥ 5 interleaved rounds, its goal and whether it was
 * met) and prints a table.
 *
 *   --filter <text>   only benchmarks whose name contains the text (repeatable)
 *   --quick           shorter rounds (harness smoke test; noisier numbers)
 *   --rounds <n>      rounds per variant (default 7, at least 5)
 *   --out <file>      results file (default bench/results.json)
 *   --report <file>   markdown report (default docs/benchmarks.md when every benchmark runs; none with --filter
 *                     unless given)
 *   --check           exit 1 when a goal is missed
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, freemem, platform, arch, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatSoakSection, type SoakResult } from '../soak/report';
import { BENCHMARKS } from './registry';
import type { BenchResult } from './types';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface BenchArgs {
  filters: string[];
  quick: boolean;
  rounds: number;
  out: string;
  /** Markdown report path; null = none. */
  report: string | null;
  check: boolean;
}

export const MIN_ROUNDS = 5;

export function parseBenchArgs(argv: readonly string[], root = repoRoot): BenchArgs {
  const args: BenchArgs = {
    filters: [],
    quick: false,
    rounds: 7,
    out: join(root, 'bench/results.json'),
    report: null,
    check: false,
  };
  let report: string | undefined;
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
    else if (arg === '--report') report = resolve(value());
    else throw new Error(`unknown argument ${arg}`);
  }
  if (!Number.isInteger(args.rounds) || args.rounds < MIN_ROUNDS) {
    throw new Error(`--rounds must be an integer ≥ ${MIN_ROUNDS}`);
  }
  args.report = report ?? (args.filters.length === 0 && !args.quick ? join(root, 'docs/benchmarks.md') : null);
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

/** Benchmarks run alone after the full run (a change, or a new benchmark) carry `settings.remeasured`. */
function remeasuredNote(results: readonly BenchResult[]): string[] {
  const alone = results.filter((r) => typeof r.settings.remeasured === 'string').map((r) => r.name);
  return alone.length === 0 ? [] : [`Run alone after the full run, on the same machine: ${alone.join(', ')}.`];
}

/** What bench/results.json holds. */
export interface BenchReport {
  machine: ReturnType<typeof machine>;
  benchmarks: readonly BenchResult[];
}

/** The last `pnpm soak` result (bench/soak.json), if there is one. */
export function readSoak(path: string): SoakResult | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as SoakResult) : null;
}

/**
 * docs/benchmarks.md: machine, method, and per benchmark its median with spread, goal and verdict; then the soak's
 * section when a soak result is given.
 */
export function formatReport(report: BenchReport, soak: SoakResult | null = null) {
  const m = report.machine;
  const met = report.benchmarks.filter((r) => r.met).length;
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`pnpm bench\` on ${m.date.slice(0, 10)}: ${met} of ${report.benchmarks.length} goals met.`,
    '',
    '## Machine',
    '',
    `${m.cpus} × ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(0)} GiB, Node ${m.node}, ${m.platform}; ` +
      `load average at the end ${m.loadAverage.map((l) => l.toFixed(2)).join(' / ')}.`,
    '',
    '## Method',
    '',
    'Each benchmark runs its variants interleaved, round by round (at least 5 rounds), against a baseline measured in',
    'the same run on the same machine, so a noisy machine moves both sides. The headline is the median over rounds,',
    'with the interquartile range (p25–p75) as its spread; the goal is judged on the median. Raw samples, settings',
    'and every variant are in `bench/results.json`.',
    ...remeasuredNote(report.benchmarks),
    '',
    '## Results',
    '',
    '| benchmark | what | median | spread (p25–p75) | goal | result |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of report.benchmarks) {
    lines.push(
      `| ${r.name} | ${r.description.replace(/\|/g, '\\|')} | ${fmt(r.median)} ${r.unit} | ${fmt(r.p25)}–${fmt(r.p75)} | ` +
        `${r.goal.description.replace(/\|/g, '\\|')} | ${r.met ? 'met' : '**missed**'} |`,
    );
  }
  lines.push('', '## Variants', '');
  for (const r of report.benchmarks) {
    const variants = Object.entries(r.variants).filter(([name]) => name !== r.name);
    if (variants.length === 0) continue;
    lines.push(`- **${r.name}**: ${variants.map(([name, v]) => `${name} ${fmt(v.median)} ${v.unit}`).join('; ')}`);
  }
  if (soak) lines.push('', formatSoakSection(soak).trimEnd());
  return `${lines.join('\n')}\n`;
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
  if (args.report) {
    mkdirSync(dirname(args.report), { recursive: true });
    writeFileSync(args.report, formatReport(report, readSoak(join(repoRoot, 'bench/soak.json'))));
    process.stdout.write(`wrote ${args.report}\n`);
  }
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
