/**
 * Statistics of the benchmark harness: quantiles (linear interpolation between order statistics, R's type 7),
 * median and interquartile range, and the interleaved schedule (A, B, A, B, ...) that spreads machine noise
 * (other processes, CPU frequency, GC) evenly over the variants being compared.
 */

/** The q-quantile (0 ≤ q ≤ 1) of the samples, interpolating linearly between the two nearest order statistics. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new Error('quantile of no samples');
  if (q < 0 || q > 1 || Number.isNaN(q)) throw new Error(`quantile ${q} is outside [0, 1]`);
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

export interface Summary {
  n: number;
  median: number;
  p25: number;
  p75: number;
  /** p75 - p25 */
  iqr: number;
  min: number;
  max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const p25 = quantile(samples, 0.25);
  const p75 = quantile(samples, 0.75);
  return {
    n: samples.length,
    median: median(samples),
    p25,
    p75,
    iqr: p75 - p25,
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/** The order in which rounds run: every variant once per round, rounds one after another (A,B,A,B,... for two). */
export function interleavedSchedule<T>(variants: readonly T[], rounds: number): { round: number; variant: T }[] {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds must be a positive integer, got ${rounds}`);
  const schedule: { round: number; variant: T }[] = [];
  for (let round = 0; round < rounds; round++) for (const variant of variants) schedule.push({ round, variant });
  return schedule;
}

export interface Variant {
  name: string;
  /** One measurement (e.g. req/s of one load run, or ms of one call). */
  measure(): Promise<number>;
}

/**
 * Runs every variant `rounds` times in interleaved order and returns each variant's samples in round order, so
 * sample i of every variant comes from the same stretch of time (pairable, e.g. for a per-round ratio).
 */
export async function runInterleaved(
  variants: readonly Variant[],
  rounds: number,
  onSample?: (variant: string, round: number, value: number) => void,
): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (const { round, variant } of interleavedSchedule(variants, rounds)) {
    const value = await variant.measure();
    if (!Number.isFinite(value)) throw new Error(`${variant.name} round ${round + 1} measured ${value}`);
    samples[variant.name]?.push(value);
    onSample?.(variant.name, round, value);
  }
  return samples;
}

/** Per-round ratio numerator[i] / denominator[i] of two paired sample lists. */
export function pairedRatios(numerator: readonly number[], denominator: readonly number[]): number[] {
  if (numerator.length !== denominator.length) throw new Error('paired samples must have the same length');
  return numerator.map((n, i) => n / (denominator[i] as number));
}
