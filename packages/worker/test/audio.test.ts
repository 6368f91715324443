import { describe, expect, it } from 'vitest';
import { normalizeFilter, parseEbur128Summary, parseLoudnormJson, planNormalization } from '../src/audio/loudnorm';
import { asInt16, interleave, wav16Header } from '../src/audio/pcm';
import { computePeaks, MAX_PEAKS, MIN_PEAKS, PeaksBuilder, peakCountFor } from '../src/audio/peaks';
import { renderTestTone, TEST_TONE_MAX_SEC } from '../src/providers/test-tone';

const LOUDNORM_STDERR = `size=N/A time=00:00:30.00 bitrate=N/A speed= 101x
[Parsed_loudnorm_0 @ 0x5651c5f15580]
{
	"input_i" : "-22.05",
	"input_tp" : "-21.07",
	"input_lra" : "0.00",
	"input_thresh" : "-32.05",
	"output_i" : "-13.95",
	"output_tp" : "-13.02",
	"output_lra" : "0.00",
	"output_thresh" : "-23.95",
	"normalization_type" : "linear",
	"target_offset" : "-0.05"
}
`;

const EBUR128_STDERR = `[Parsed_ebur128_0 @ 0x563dc91b5880] Summary:

  Integrated loudness:
    I:         -22.0 LUFS
    Threshold: -32.0 LUFS

  Loudness range:
    LRA:         3.4 LU
    Threshold: -42.0 LUFS
    LRA low:   -22.0 LUFS
    LRA high:  -22.0 LUFS

  True peak:
    Peak:      -21.1 dBFS
`;

describe('loudness normalisation', () => {
  it('parses the ebur128 summary', () => {
    expect(parseEbur128Summary(EBUR128_STDERR)).toEqual({ i: -22, thresh: -32, lra: 3.4, tp: -21.1 });
    expect(() => parseEbur128Summary('Conversion failed!')).toThrow(/no summary/);
    expect(() => parseEbur128Summary('Summary:\n  Integrated loudness:\n')).toThrow(/lacks/);
  });

  it('applies one gain when the true peak stays under the ceiling', () => {
    const plan = planNormalization({ i: -22, thresh: -32, lra: 3.4, tp: -21.1 });
    expect(plan).toEqual({ kind: 'linear', filter: 'volume=8.00dB', gainDb: 8, outputLufs: -14 });
  });

  it("leaves it to loudnorm's dynamic mode when one gain would clip", () => {
    // +8 dB would put a −8.5 dBTP peak at −0.5 dBTP, over the −1 dBTP ceiling; −9.05 is inside the 0.1 dB margin.
    expect(planNormalization({ i: -22, thresh: -32, lra: 12, tp: -8.5 })).toEqual({ kind: 'dynamic' });
    expect(planNormalization({ i: -22, thresh: -32, lra: 12, tp: -9.05 })).toEqual({ kind: 'dynamic' });
    expect(planNormalization({ i: -22, thresh: -32, lra: 12, tp: -9.1 }).kind).toBe('linear');
  });

  it('passes silence through untouched', () => {
    const silent = parseEbur128Summary(EBUR128_STDERR.replace('-22.0 LUFS', '-70.0 LUFS').replace('-21.1', '-inf'));
    expect(silent.tp).toBe(-Infinity);
    expect(planNormalization(silent)).toEqual({ kind: 'none', filter: 'anull' });
  });

  it("reads loudnorm's analysis and builds its pass-2 filter", () => {
    const m = parseLoudnormJson(LOUDNORM_STDERR);
    expect(m).toMatchObject({ input_i: -22.05, input_tp: -21.07, output_i: -13.95, normalization_type: 'linear' });
    expect(normalizeFilter(m)).toBe(
      'loudnorm=I=-14:TP=-1:LRA=11:measured_I=-22.05:measured_TP=-21.07:measured_LRA=0.00:' +
        'measured_thresh=-32.05:offset=-0.05:linear=true:print_format=json',
    );
    expect(() => parseLoudnormJson('Conversion failed!')).toThrow(/no measurement/);
  });
});

describe('peaks', () => {
  it('has 800–2000 pairs per channel, growing with duration', () => {
    expect(peakCountFor(5)).toBe(MIN_PEAKS);
    expect(peakCountFor(60)).toBe(1200);
    expect(peakCountFor(300)).toBe(MAX_PEAKS);
  });

  it('summarises each span by its min and max, per channel, from float or 16-bit samples', () => {
    const sr = 1000;
    const frames = 40 * sr;
    const left = new Float32Array(frames);
    const right = new Float32Array(frames);
    left[10] = 0.5;
    left[11] = -0.25;
    right[frames - 1] = -1;
    const floats = new Float32Array(interleave({ sampleRate: sr, channels: [left, right] }).buffer);
    const peaks = computePeaks(floats, sr, 2);
    expect(peaks).toMatchObject({ version: 1, channels: 2, length: 800, samplesPerPeak: 50, durationSec: 40 });
    expect(peaks.data[0]!.slice(0, 2)).toEqual([-0.25, 0.5]);
    expect(peaks.data[0]!.slice(2, 4)).toEqual([0, 0]);
    expect(peaks.data[1]!.slice(-2)).toEqual([-1, 0]);

    const ints = Int16Array.from(floats, (x) => Math.round(x * 32767));
    const fromInts = computePeaks(ints, sr, 2);
    expect(fromInts.data[0]![1]).toBeCloseTo(0.5, 3);
  });
});

describe('PeaksBuilder', () => {
  it('gives computePeaks’ result whatever pieces the samples arrive in', () => {
    const sr = 8_000;
    for (const [frames, channels] of [
      [1, 2],
      [799, 1],
      [8_000 * 7 + 13, 2],
      [8_000 * 200 + 1, 2],
    ] as const) {
      const ints = new Int16Array(frames * channels);
      let x = 12345;
      for (let i = 0; i < ints.length; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        ints[i] = (x >>> 16) - 32768;
      }
      const expected = computePeaks(ints, sr, channels);
      for (const piece of [1, 997, 65_536]) {
        const builder = new PeaksBuilder(frames, sr, channels);
        for (let f = 0; f < frames; f += piece) {
          builder.push(ints.subarray(f * channels, Math.min(frames, f + piece) * channels));
        }
        expect(builder.finish(), `${frames} frames in pieces of ${piece}`).toEqual(expected);
      }
    }
  });
});

describe('pcm and the test tone', () => {
  it('writes a canonical 16-bit WAV header', () => {
    const h = wav16Header(400, 44_100, 2);
    expect(h.toString('ascii', 0, 4)).toBe('RIFF');
    expect(h.readUInt32LE(4)).toBe(436);
    expect(h.readUInt16LE(22)).toBe(2);
    expect(h.readUInt32LE(24)).toBe(44_100);
    expect(h.readUInt32LE(28)).toBe(44_100 * 4);
    expect(h.readUInt32LE(40)).toBe(400);
    expect(asInt16(Buffer.from([1, 0, 255, 255])).length).toBe(2);
  });

  it('renders the same tone for the same seed, short whatever the request', () => {
    const a = renderTestTone({ durationSec: 30, bpm: 100 }, 5);
    const b = renderTestTone({ durationSec: 30, bpm: 100 }, 5);
    const c = renderTestTone({ durationSec: 30, bpm: 100 }, 6);
    expect(a.channels[0]!.length).toBe(TEST_TONE_MAX_SEC * 44_100);
    expect(a.channels[0]).toEqual(b.channels[0]);
    expect(a.channels[0]).not.toEqual(c.channels[0]);
  });
});
