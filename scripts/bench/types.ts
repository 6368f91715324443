/** The shape of a benchmark and of its entry in bench/results.json. */
import type { Summary } from './stats';

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
  run(ctx: BenchContext): Promise<BenchResult>;
}

export function judge(goal: Goal, value: number): boolean {
  return goal.comparator === '>=' ? value >= goal.target : value <= goal.target;
}
