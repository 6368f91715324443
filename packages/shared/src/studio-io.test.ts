import { describe, expect, it } from 'vitest';
import { clipFadeGain, equalPowerPan, laneIsAudible, mixDbToGain } from './mix';
import { planAutoMix } from './studio-io';

const lane = (id: string, gainDb = 0, extra: Partial<{ mute: boolean; solo: boolean }> = {}) => ({
  id,
  gainDb,
  mute: false,
  solo: false,
  ...extra,
});

describe('planAutoMix', () => {
  it('sets every measured lane to the same loudness, summing to the target', () => {
    const plan = planAutoMix(
      [lane('a', 3), lane('b', -10)],
      [
        { laneId: 'a', trackId: 't1', lengthSec: 10 },
        { laneId: 'b', trackId: 't2', lengthSec: 10 },
      ],
      new Map([
        ['t1', -8],
        ['t2', -20],
      ]),
    );
    // Two lanes: each at −14 − 3.01 = −17.0 LUFS.
    expect(plan.ops).toEqual([
      { type: 'updateLane', laneId: 'a', gainDb: -9 },
      { type: 'updateLane', laneId: 'b', gainDb: 3 },
    ]);
    expect(plan.lanes[0]).toMatchObject({ measuredLufs: -8, gainDbBefore: 3, gainDbAfter: -9 });
  });

  it('weights a lane by clip length, clamps to the fader and leaves unmeasured or silent lanes alone', () => {
    const plan = planAutoMix(
      [lane('a'), lane('b'), lane('c', -4), lane('d', 0, { mute: true })],
      [
        { laneId: 'a', trackId: 'loud', lengthSec: 1 },
        { laneId: 'a', trackId: 'quiet', lengthSec: 9 },
        { laneId: 'b', trackId: 'whisper', lengthSec: 5 },
        { laneId: 'c', trackId: 'unknown', lengthSec: 5 },
        { laneId: 'd', trackId: 'loud', lengthSec: 5 },
      ],
      new Map<string, number | null>([
        ['loud', -10],
        ['quiet', -20],
        ['whisper', -60],
        ['unknown', null],
      ]),
    );
    const a = 10 * Math.log10((10 ** -1 * 1 + 10 ** -2 * 9) / 10);
    expect(plan.lanes[0]!.measuredLufs).toBeCloseTo(a, 6);
    expect(plan.lanes[1]!.gainDbAfter).toBe(12);
    expect(plan.lanes[2]).toMatchObject({ measuredLufs: null, gainDbAfter: -4 });
    expect(plan.lanes[3]).toMatchObject({ measuredLufs: null, gainDbAfter: 0 });
    expect(plan.ops.map((o) => o.laneId)).toEqual(['a', 'b']);
  });

  it('follows solo: only soloed lanes are balanced', () => {
    const plan = planAutoMix(
      [lane('a'), lane('b', 0, { solo: true })],
      [
        { laneId: 'a', trackId: 't', lengthSec: 1 },
        { laneId: 'b', trackId: 't', lengthSec: 1 },
      ],
      new Map([['t', -14]]),
    );
    expect(plan.ops).toEqual([]);
    expect(plan.lanes.map((l) => l.measuredLufs)).toEqual([null, -14]);
  });
});

describe('the mix arithmetic of the studio', () => {
  it('decibels, mute and solo, fades', () => {
    expect(mixDbToGain(-60)).toBe(0);
    expect(mixDbToGain(-6)).toBeCloseTo(0.501, 3);
    expect(laneIsAudible({ mute: true, solo: true }, true)).toBe(true);
    expect(laneIsAudible({ mute: false, solo: false }, true)).toBe(false);
    expect(laneIsAudible({ mute: true, solo: false }, false)).toBe(false);
    const clip = { lengthSec: 4, fadeInSec: 1, fadeOutSec: 2 };
    expect(clipFadeGain(clip, 0.5)).toBe(0.5);
    expect(clipFadeGain(clip, 1.5)).toBe(1);
    expect(clipFadeGain(clip, 3)).toBe(0.5);
  });

  it('equal-power pan as the StereoPannerNode does it', () => {
    const centre = equalPowerPan(0);
    expect(centre.monoLeft).toBeCloseTo(Math.SQRT1_2, 9);
    expect(centre.monoRight).toBeCloseTo(Math.SQRT1_2, 9);
    // Stereo at centre passes through unchanged.
    expect(centre).toMatchObject({ leftward: true, b: 1 });
    expect(centre.a).toBeCloseTo(0, 9);
    const right = equalPowerPan(1);
    expect(right.monoLeft).toBeCloseTo(0, 9);
    expect(right).toMatchObject({ leftward: false, a: expect.closeTo(0, 9) as number, b: 1 });
  });
});
