/** The shape of a benchmark and of its entry in bench/results.json. */
import { summarize, type Summary } from './stats';

export interface BenchContext {
  /** Rounds per variant (≥ 5), run interleaved. */
  rounds: number;
  /** Shorter runs (smoke test of the harness); numbers are noisier. */
  quick: boolean;
  repoRoot: string;
  log(line: string): void;
}

export interface Goal {
  /** e.g. "tRPC req/s ≥ 25 % of bare Fastify". */
  description: string;
  /** The headline metric is compared with `target`. */
  comparator: '>=' | '<=';
  target: number;
}

export interface VariantResult extends Summary {
  unit: string;
  samples: number[];
}

export interface BenchResult {
  name: string;
  description: string;
  /** Unit of the headline metric (median/p25/p75 below). */
  unit: string;
  rounds: number;
  median: number;
  p25: number;
  p75: number;
  iqr: number;
  goal: Goal;
  /** Goal judged on the median of the headline metric. */
  met: boolean;
  /** Each compared variant's own numbers. */
  variants: Record<string, VariantResult>;
  /** Settings worth knowing when reading the numbers (connections, duration, calls per round...). */
  settings: Record<string, string | number>;
}

export interface Benchmark {
  name: string;
  description: string;
  /** Several results when one run measures several things (e.g. a pipeline's time and the event loop during it). */
  run(ctx: BenchContext): Promise<BenchResult | BenchResult[]>;
}

/** A result whose samples are the headline metric itself (one variant, no pairing). */
export function singleVariantResult(opts: {
  name: string;
  description: string;
  unit: string;
  rounds: number;
  goal: Goal;
  samples: number[];
  settings: Record<string, string | number>;
}): BenchResult {
  const summary = summarize(opts.samples);
  return {
    name: opts.name,
    description: opts.description,
    unit: opts.unit,
    rounds: opts.rounds,
    median: summary.median,
    p25: summary.p25,
    p75: summary.p75,
    iqr: summary.iqr,
    goal: opts.goal,
    met: judge(opts.goal, summary.median),
    variants: { [opts.name]: { unit: opts.unit, samples: opts.samples, ...summary } },
    settings: opts.settings,
  };
}

export function judge(goal: Goal, value: number): boolean {
  return goal.comparator === '>=' ? value >= goal.target : value <= goal.target;
}
