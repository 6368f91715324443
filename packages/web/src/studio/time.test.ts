import { describe, expect, it } from 'vitest';
import {
  barSeconds,
  beatSeconds,
  formatBarsBeats,
  formatClock,
  formatDuration,
  parseTimeSignature,
  scrollForZoom,
  snapTime,
  xToSeconds,
} from './time';

const common = { bpm: 120, timeSignature: '4/4' };

describe('musical time', () => {
  it('derives beat and bar lengths from tempo and time signature', () => {
    expect(beatSeconds(common)).toBe(0.5);
    expect(barSeconds(common)).toBe(2);
    // 6/8 at 120 bpm (quarter notes): six eighths of 0.25 s.
    expect(beatSeconds({ bpm: 120, timeSignature: '6/8' })).toBe(0.25);
    expect(barSeconds({ bpm: 120, timeSignature: '6/8' })).toBe(1.5);
    expect(barSeconds({ bpm: 90, timeSignature: '3/4' })).toBeCloseTo(2);
    expect(parseTimeSignature('nonsense')).toEqual({ beats: 4, unit: 4 });
    expect(parseTimeSignature('7/3')).toEqual({ beats: 4, unit: 4 });
  });

  it('snaps to the nearest bar or beat, never before zero, without float drift', () => {
    expect(snapTime(2.9, common, 'bar')).toBe(2);
    expect(snapTime(3.1, common, 'bar')).toBe(4);
    expect(snapTime(3.1, common, 'beat')).toBe(3);
    expect(snapTime(3.1, common, 'off')).toBe(3.1);
    expect(snapTime(-5, common, 'bar')).toBe(0);
    expect(snapTime(14.2, { bpm: 120, timeSignature: '4/4' }, 'bar')).toBe(14);
    expect(snapTime(0.3 * 7, { bpm: 200, timeSignature: '4/4' }, 'beat')).toBe(2.1);
  });

  it('writes positions as bars.beats.sixteenths and clock time', () => {
    expect(formatBarsBeats(0, common)).toBe('1.1.1');
    expect(formatBarsBeats(2, common)).toBe('2.1.1');
    expect(formatBarsBeats(2.625, common)).toBe('2.2.2');
    expect(formatClock(0)).toBe('0:00.0');
    expect(formatClock(65.34)).toBe('1:05.3');
    expect(formatDuration(8)).toBe('8 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(null)).toBe('—');
  });

  it('keeps the time under the anchor in place when zooming', () => {
    const view = { pxPerSec: 40, scrollLeft: 400, width: 800 };
    const anchorX = 200;
    const before = xToSeconds(anchorX, view);
    const scrollLeft = scrollForZoom(view, 80, anchorX);
    expect(xToSeconds(anchorX, { ...view, pxPerSec: 80, scrollLeft })).toBeCloseTo(before);
    expect(scrollForZoom({ pxPerSec: 40, scrollLeft: 0, width: 800 }, 20, 400)).toBe(0);
  });
});
