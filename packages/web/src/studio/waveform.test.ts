import { describe, expect, it } from 'vitest';
import type { WaveformPeaks } from '@dawg/shared';
import { columnPeak } from './waveform';

// One second, 4 peaks, two channels: each peak is a [min, max] pair.
const peaks: WaveformPeaks = {
  version: 1,
  sampleRate: 44100,
  channels: 2,
  samplesPerPeak: 11025,
  length: 4,
  durationSec: 1,
  data: [
    [-0.1, 0.1, -0.5, 0.4, -0.2, 0.2, 0, 0],
    [-0.3, 0.2, -0.1, 0.9, -0.2, 0.1, 0, 0],
  ],
};

describe('waveform columns', () => {
  it('takes the extremes over every channel and peak under a wide column', () => {
    expect(columnPeak(peaks, 0, 0.5)).toEqual([-0.5, 0.9]);
    expect(columnPeak(peaks, 0.5, 1)).toEqual([-0.2, 0.2]);
  });

  it('blends neighbouring peaks under narrow columns and is silent outside the audio', () => {
    const [min, max] = columnPeak(peaks, 0.25, 0.26);
    expect(max).toBeGreaterThan(0.4);
    expect(max).toBeLessThanOrEqual(0.9);
    expect(min).toBeLessThan(-0.1);
    expect(columnPeak(peaks, 2, 3)).toEqual([0, 0]);
    expect(columnPeak(peaks, -1, -0.5)).toEqual([0, 0]);
  });
});
