import { describe, expect, it } from 'vitest';
import { barLayout, fillDays, meterPercent, niceMax } from './charts';

describe('cost charts', () => {
  it('fills every day of the period, keeping the days that have values', () => {
    const days = fillDays(new Date('2026-11-01T00:00:00Z'), new Date('2026-11-04T00:00:00Z'), [
      { day: '2026-11-02', costMicro: 500, calls: 3 },
    ]);
    expect(days).toEqual([
      { day: '2026-11-01', costMicro: 0, calls: 0 },
      { day: '2026-11-02', costMicro: 500, calls: 3 },
      { day: '2026-11-03', costMicro: 0, calls: 0 },
    ]);
  });

  it('rounds the axis up to 1, 2 or 5 × 10^n', () => {
    expect([0, 0.3, 1, 1.5, 3, 7, 12, 999, 1001].map(niceMax)).toEqual([1, 0.5, 1, 2, 5, 10, 20, 1000, 2000]);
  });

  it('scales bars to the maximum and keeps small and free days visible', () => {
    const bars = barLayout(
      [{ value: 100 }, { value: 50 }, { value: 0.001 }, { value: 0, calls: 2 }, { value: 0 }],
      100,
      50,
      100,
    );
    expect(bars.map((b) => b.height)).toEqual([50, 25, 2, 1, 0]);
    expect(bars.every((b) => b.y + b.height === 50)).toBe(true);
    expect(bars[1]!.x).toBeCloseTo(20 + 3);
  });

  it('clamps meters', () => {
    expect(meterPercent(50, 200)).toBe(25);
    expect(meterPercent(300, 200)).toBe(100);
    expect(meterPercent(0, 0)).toBe(0);
    expect(meterPercent(1, 0)).toBe(100);
  });
});
