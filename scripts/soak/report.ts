/**
 * The soak's verdict and its section of docs/benchmarks.md.
 *
 * RSS growth, per process: the run's first 20 % is warm-up (JIT, pools and caches filling) and is not judged; the
 * plateau is the median of the VmRSS samples taken in the next 10 % of the run (20–30 %), the end the median of
 * the samples in its last 10 % (90–100 %). Growth = (end − plateau) / plateau; the goal is ≤ 10 %. Medians, not
 * single samples, so one GC cycle neither passes nor fails a run. For the default 10 minutes: warm-up 0–2 min,
 * plateau 2–3 min, end 9–10 min.
 *
 * Leaks, per process: the same counts are taken in a quiet state (no load, every client closed, then a pause longer
 * than the Postgres pool's idle timeout) once after a warm-up round of every kind of operation and once after the
 * whole run. A leak is any count that is higher at the end: open sockets (`socket:` links in /proc/<pid>/fd), timers
 * (`Timeout` in process.getActiveResourcesInfo(), read from prom-client's `nodejs_active_resources` on /metrics),
 * all active handles, and event-listener warnings (Node's MaxListenersExceededWarning in the process output: an
 * emitter that gained more than its limit of listeners).
 */

export const WARMUP_FRACTION = 0.2;
export const PLATEAU_FRACTION = 0.1;
export const END_FRACTION = 0.1;
export const RSS_GROWTH_GOAL_PERCENT = 10;

export interface RssSample {
  /** Milliseconds since the load started. */
  atMs: number;
  mb: number;
}

export interface RssGrowth {
  plateauMb: number;
  endMb: number;
  growthPercent: number;
  /** [from, to) in ms since the load started. */
  plateauWindowMs: [number, number];
  endWindowMs: [number, number];
  plateauSamples: number;
  endSamples: number;
}

function medianOf(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Growth from the warm-up plateau to the end of a run of `durationMs` (see the module comment). */
export function rssGrowth(samples: readonly RssSample[], durationMs: number): RssGrowth {
  const plateauWindowMs: [number, number] = [
    Math.round(durationMs * WARMUP_FRACTION),
    Math.round(durationMs * (WARMUP_FRACTION + PLATEAU_FRACTION)),
  ];
  // The end window takes the last sample too, however late it came.
  const endWindowMs: [number, number] = [Math.round(durationMs * (1 - END_FRACTION)), Number.MAX_SAFE_INTEGER];
  const within = ([from, to]: [number, number]) =>
    samples.filter((s) => s.atMs >= from && s.atMs < to).map((s) => s.mb);
  const plateau = within(plateauWindowMs);
  const end = within(endWindowMs);
  if (plateau.length === 0 || end.length === 0) {
    throw new Error(`too few RSS samples: ${plateau.length} in the plateau window, ${end.length} at the end`);
  }
  const plateauMb = medianOf(plateau);
  const endMb = medianOf(end);
  return {
    plateauMb,
    endMb,
    growthPercent: ((endMb - plateauMb) / plateauMb) * 100,
    plateauWindowMs,
    endWindowMs,
    plateauSamples: plateau.length,
    endSamples: end.length,
  };
}

/** Counts of one process in a quiet state. */
export interface QuietCounts {
  sockets: number;
  timers: number;
  handles: number;
  listenerWarnings: number;
  /** The sockets by peer (`:5432`, `listen :3000`, `other`), to tell what a leaked socket is. */
  socketsByPeer?: Record<string, number>;
  /** What each Redis connection last did (CLIENT LIST), likewise. */
  redisConnections?: string[];
}

export type LeakCount = 'sockets' | 'timers' | 'handles' | 'listenerWarnings';
export const LEAK_COUNTS: readonly LeakCount[] = ['sockets', 'timers', 'handles', 'listenerWarnings'];

export interface ProcessSoak {
  name: string;
  pid: number;
  rss: RssGrowth;
  rssSamples: RssSample[];
  baseline: QuietCounts;
  end: QuietCounts;
  /** end − baseline for each count that grew. */
  leaks: Partial<Record<LeakCount, number>>;
}

export function leaksOf(baseline: QuietCounts, end: QuietCounts): Partial<Record<LeakCount, number>> {
  const leaks: Partial<Record<LeakCount, number>> = {};
  for (const key of LEAK_COUNTS) if (end[key] > baseline[key]) leaks[key] = end[key] - baseline[key];
  return leaks;
}

export interface OperationStats {
  ok: number;
  failed: number;
  /** The first few failures, for the reader. */
  errors: string[];
}

export interface SoakResult {
  date: string;
  minutes: number;
  durationMs: number;
  processes: ProcessSoak[];
  operations: Record<string, OperationStats>;
  /** RSS growth ≤ goal and no leak in every process, and no failed operation. */
  passed: boolean;
  settings: Record<string, string | number>;
}

export function soakPassed(processes: readonly ProcessSoak[], operations: Record<string, OperationStats>): boolean {
  return (
    processes.every((p) => p.rss.growthPercent <= RSS_GROWTH_GOAL_PERCENT && Object.keys(p.leaks).length === 0) &&
    Object.values(operations).every((o) => o.failed === 0)
  );
}

const mb = (n: number) => n.toFixed(1);
const minutes = (ms: number) => `${+(ms / 60_000).toFixed(2)} min`;

/** The "Soak" section of docs/benchmarks.md. */
export function formatSoakSection(soak: SoakResult): string {
  const lines = [
    '## Soak',
    '',
    `\`pnpm soak\` on ${soak.date.slice(0, 10)}: ${soak.minutes} minutes of mixed load against one api and one worker ` +
      `process (launched as in production, with the fake Anthropic, the local synth and the S3-protocol server): ` +
      `**${soak.passed ? 'passed' : 'failed'}**.`,
    '',
    `RSS growth is the median VmRSS of the last 10 % of the run against the median of the warm-up plateau (20–30 % ` +
      `of the run; the first 20 % is warm-up), goal ≤ ${RSS_GROWTH_GOAL_PERCENT} %. Leaks compare counts taken in a ` +
      `quiet state (no load, clients closed, a pause past the pools' idle timeout) after a warm-up round and after ` +
      `the run: any increase is a leak.`,
    '',
    '| process | RSS plateau | RSS end | growth | sockets | timers | handles | listener warnings | result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const p of soak.processes) {
    const count = (key: LeakCount) => `${p.baseline[key]} → ${p.end[key]}`;
    const ok = p.rss.growthPercent <= RSS_GROWTH_GOAL_PERCENT && Object.keys(p.leaks).length === 0;
    lines.push(
      `| ${p.name} | ${mb(p.rss.plateauMb)} MB | ${mb(p.rss.endMb)} MB | ${p.rss.growthPercent.toFixed(1)} % | ` +
        `${count('sockets')} | ${count('timers')} | ${count('handles')} | ${count('listenerWarnings')} | ` +
        `${ok ? 'passed' : '**failed**'} |`,
    );
  }
  const first = soak.processes[0];
  if (first) {
    lines.push(
      '',
      `Windows: plateau ${minutes(first.rss.plateauWindowMs[0])}–${minutes(first.rss.plateauWindowMs[1])}, ` +
        `end ${minutes(first.rss.endWindowMs[0])}–${minutes(soak.durationMs)}.`,
    );
  }
  lines.push('', '| operation | ok | failed |', '| --- | --- | --- |');
  for (const [name, o] of Object.entries(soak.operations)) lines.push(`| ${name} | ${o.ok} | ${o.failed} |`);
  const failures = Object.entries(soak.operations).flatMap(([name, o]) => o.errors.map((e) => `${name}: ${e}`));
  if (failures.length > 0) lines.push('', 'First failures:', '', ...failures.slice(0, 10).map((f) => `- ${f}`));
  lines.push('', 'Samples and settings are in `bench/soak.json`.');
  return `${lines.join('\n')}\n`;
}
