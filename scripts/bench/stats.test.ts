import { describe, expect, it } from 'vitest';
import { interleavedSchedule, median, pairedRatios, quantile, runInterleaved, summarize } from './stats';

describe('quantiles', () => {
  it('median of odd and even counts, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('interpolates linearly between order statistics (type 7)', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // position (n-1)q = 2.25 → 3 + 0.25
    expect(quantile(xs, 0.25)).toBeCloseTo(3.25);
    expect(quantile(xs, 0.75)).toBeCloseTo(7.75);
    expect(quantile(xs, 0)).toBe(1);
    expect(quantile(xs, 1)).toBe(10);
  });

  it('summarize reports median, p25, p75 and IQR, robust to one outlier', () => {
    const s = summarize([10, 11, 12, 13, 1000]);
    expect(s).toMatchObject({ n: 5, median: 12, p25: 11, p75: 13, iqr: 2, min: 10, max: 1000 });
  });

  it('rejects empty input and bad q', () => {
    expect(() => median([])).toThrow(/no samples/);
    expect(() => quantile([1], 1.5)).toThrow(/outside/);
  });
});

describe('interleaving', () => {
  it('alternates variants round by round', () => {
    const order = interleavedSchedule(['A', 'B'], 3).map((s) => `${s.variant}${s.round}`);
    expect(order).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'B2']);
    expect(() => interleavedSchedule(['A'], 0)).toThrow(/positive/);
  });

  it('runs measurements in interleaved order and keeps samples paired by round', async () => {
    const calls: string[] = [];
    let clock = 0;
    const make = (name: string, scale: number) => ({
      name,
      measure: async () => {
        calls.push(name);
        clock += 1;
        return clock * scale;
      },
    });
    const samples = await runInterleaved([make('A', 1), make('B', 10)], 5);
    expect(calls).toEqual(['A', 'B', 'A', 'B', 'A', 'B', 'A', 'B', 'A', 'B']);
    expect(samples.A).toEqual([1, 3, 5, 7, 9]);
    expect(samples.B).toEqual([20, 40, 60, 80, 100]);
    // A drift over time hits both variants alike, so the per-round ratio stays stable.
    expect(pairedRatios(samples.B ?? [], samples.A ?? []).map((r) => Math.round(r))).toEqual([20, 13, 12, 11, 11]);
  });

  it('refuses a non-finite measurement', async () => {
    await expect(runInterleaved([{ name: 'X', measure: async () => Number.NaN }], 1)).rejects.toThrow(/X round 1/);
  });
});
