import { describe, expect, it } from 'vitest';
import {
  dbToGain,
  effectiveLoop,
  fadeEnvelope,
  fadeGainAt,
  laneGains,
  planStarts,
  positionAfter,
  windowPieces,
  type ClipTiming,
} from './mix';

const clip = (id: string, startSec: number, lengthSec: number, extra: Partial<ClipTiming> = {}): ClipTiming => ({
  id,
  laneId: 'lane',
  trackId: 'track',
  startSec,
  offsetSec: 0,
  lengthSec,
  fadeInSec: 0,
  fadeOutSec: 0,
  ...extra,
});

describe('gain', () => {
  it('turns decibels into gain, with the fader bottom as silence', () => {
    expect(dbToGain(0)).toBe(1);
    expect(dbToGain(-6)).toBeCloseTo(0.501, 3);
    expect(dbToGain(6)).toBeCloseTo(1.995, 3);
    expect(dbToGain(-60)).toBe(0);
  });

  it('mutes muted lanes, and while any lane is soloed plays only soloed ones (solo wins over mute)', () => {
    const lane = (id: string, mute: boolean, solo: boolean) => ({ id, gainDb: 0, pan: 0, mute, solo });
    expect(laneGains([lane('a', false, false), lane('b', true, false)])).toEqual(
      new Map([
        ['a', 1],
        ['b', 0],
      ]),
    );
    expect(laneGains([lane('a', false, false), lane('b', true, true), lane('c', false, true)])).toEqual(
      new Map([
        ['a', 0],
        ['b', 1],
        ['c', 1],
      ]),
    );
  });
});

describe('clip scheduling', () => {
  const clips = [clip('a', 0, 4, { offsetSec: 1 }), clip('b', 2, 4), clip('c', 8, 2)];

  it('starts the clips that begin in the window', () => {
    expect(planStarts(clips, 0, 3, { entry: false }).map((s) => s.clip.id)).toEqual(['a', 'b']);
    expect(planStarts(clips, 3, 9, { entry: false }).map((s) => s.clip.id)).toEqual(['c']);
  });

  it('enters running clips in their middle when playback starts there', () => {
    const [a, b] = planStarts(clips, 3, 3.25, { entry: true });
    expect(a).toMatchObject({ at: 3, into: 3, offset: 4, duration: 1 });
    expect(b).toMatchObject({ at: 3, into: 1, offset: 1, duration: 3 });
    expect(planStarts(clips, 3, 3.25, { entry: false })).toEqual([]);
  });

  it('cuts clips at the loop end', () => {
    expect(planStarts(clips, 0, 1, { entry: true, stopAt: 3 }).map((s) => [s.clip.id, s.duration])).toEqual([['a', 3]]);
  });

  it('shapes fades, also when entering a clip inside a fade', () => {
    const faded = { lengthSec: 10, fadeInSec: 2, fadeOutSec: 4 };
    expect(fadeGainAt(faded, 1)).toBe(0.5);
    expect(fadeGainAt(faded, 5)).toBe(1);
    expect(fadeGainAt(faded, 8)).toBe(0.5);
    expect(fadeEnvelope(faded, 0)).toEqual([
      { time: 0, value: 0, ramp: false },
      { time: 2, value: 1, ramp: true },
      { time: 6, value: 1, ramp: false },
      { time: 10, value: 0, ramp: true },
    ]);
    expect(fadeEnvelope(faded, 8)).toEqual([
      { time: 0, value: 0.5, ramp: false },
      { time: 2, value: 0, ramp: true },
    ]);
  });
});

describe('loop', () => {
  const loop = { startSec: 4, endSec: 8 };

  it('wraps the position', () => {
    expect(positionAfter(2, 3, loop)).toBe(5);
    expect(positionAfter(2, 6, loop)).toBe(4);
    expect(positionAfter(2, 11, loop)).toBe(5);
    expect(positionAfter(2, 11, null)).toBe(13);
  });

  it('applies only to playback that starts before its end', () => {
    expect(effectiveLoop(loop, 2)).toEqual(loop);
    expect(effectiveLoop(loop, 9)).toBeNull();
    expect(effectiveLoop({ startSec: 4, endSec: 4.01 }, 0)).toBeNull();
  });

  it('splits a window of playing time at each wrap', () => {
    expect(windowPieces(2, 0, 1, null)).toEqual([{ from: 2, to: 3, entry: true, elapsed: 0 }]);
    expect(windowPieces(2, 1, 2, null)).toEqual([{ from: 3, to: 4, entry: false, elapsed: 1 }]);
    const pieces = windowPieces(2, 5, 11, loop);
    expect(pieces.map((p) => [p.from, p.to, p.entry, p.elapsed])).toEqual([
      [7, 8, false, 5],
      [4, 8, true, 6],
      [4, 5, true, 10],
    ]);
    // Windows that end exactly on a wrap, then continue from it, do not repeat or skip anything.
    const first = windowPieces(2, 0, 6, loop);
    const next = windowPieces(2, 6, 6.5, loop);
    expect(first.map((p) => [p.from, p.to, p.entry])).toEqual([[2, 8, true]]);
    expect(next.map((p) => [p.from, p.to, p.entry])).toEqual([[4, 4.5, true]]);
  });
});
