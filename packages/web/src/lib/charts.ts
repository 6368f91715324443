/**
 * Chart geometry for the cost pages (plain SVG, no chart library): every day of a period as a bar, whether or not it
 * had spending, with a "nice" axis maximum. Pure, so it is unit-tested without a browser.
 */

export interface DayValue {
  day: string;
  costMicro: number;
  calls: number;
}

/** Every UTC day from `start` (inclusive) to `end` (exclusive), with the values of the days that have any. */
export function fillDays(start: Date, end: Date, values: readonly DayValue[]): DayValue[] {
  const byDay = new Map(values.map((v) => [v.day, v]));
  const out: DayValue[] = [];
  for (let t = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate()); t < end.getTime();) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push(byDay.get(day) ?? { day, costMicro: 0, calls: 0 });
    t += 24 * 60 * 60 * 1000;
  }
  return out;
}

/** The smallest 1, 2 or 5 × 10^n at or above `max` (at least 1). */
export function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Bars for `values` in a `width` × `height` plot area. A value above zero is at least 2 px tall so that spending,
 * however small next to the largest day, stays visible; a day with calls but no cost (free providers) gets 1 px.
 */
export function barLayout(
  values: readonly { value: number; calls?: number }[],
  width: number,
  height: number,
  max: number,
): Bar[] {
  const n = Math.max(values.length, 1);
  const slot = width / n;
  const barWidth = Math.max(1, slot * 0.7);
  return values.map((v, i) => {
    let h = max > 0 ? (v.value / max) * height : 0;
    if (v.value > 0) h = Math.max(h, 2);
    else if ((v.calls ?? 0) > 0) h = 1;
    h = Math.min(h, height);
    return { x: i * slot + (slot - barWidth) / 2, y: height - h, width: barWidth, height: h };
  });
}

/** Percent of a limit, clamped to 0..100 for a meter (the label shows the true figure). */
export function meterPercent(used: number, limit: number): number {
  if (limit <= 0) return used > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, (used / limit) * 100));
}
