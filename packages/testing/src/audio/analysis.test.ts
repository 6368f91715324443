import { describe, expect, it } from 'vitest';
import { chroma, chromaDistance, harmonyChangePoints, pitchClassesPresent } from './chroma';
import { decodeWithFfmpeg } from './decode';
import { fft } from './fft';
import { clickTrack, mixAt, noise, sineChord, wavPcm16 } from './fixtures';
import { dbfs, integratedLoudness, peak, rms } from './loudness';
import { detectOnsets, onsetGridAlignment } from './onsets';
import { decimate, maxCrossCorrelation } from './similarity';
import { estimateTempo } from './tempo';

const SR = 44100;

describe('fft', () => {
  it('puts a sine in its bin with amplitude n/2', () => {
    const n = 1024;
    const re = new Float64Array(n);
    const im = new Float64Array(n);
    for (let i = 0; i < n; i++) re[i] = Math.sin((2 * Math.PI * 37 * i) / n);
    fft(re, im);
    const mags = Array.from({ length: n / 2 }, (_, k) => Math.hypot(re[k] as number, im[k] as number));
    const best = mags.indexOf(Math.max(...mags));
    expect(best).toBe(37);
    expect(mags[37]).toBeCloseTo(n / 2, 6);
  });

  it('refuses sizes that are not powers of two', () => {
    expect(() => fft(new Float64Array(12), new Float64Array(12))).toThrow(/power of two/);
  });
});

describe('estimateTempo', () => {
  it.each([100, 60, 72, 128, 140, 174, 200])('hears a click track at %d BPM within ±1 BPM', (bpm) => {
    const est = estimateTempo(clickTrack({ bpm, seconds: 20 }), SR);
    expect(Math.abs(est.bpm - bpm)).toBeLessThanOrEqual(1);
  });

  it('reports the beat, not the bar or the eighth, for an accented groove with eighth-note hats', () => {
    const bpm = 96;
    const seconds = 20;
    const pcm = clickTrack({ bpm, seconds, accentEvery: 4 });
    const hat = noise(Math.round(0.02 * SR), 7).map((v, i) => v * 0.15 * Math.exp(-i / (0.005 * SR)));
    for (let t = 0.5 * (60 / bpm); t < seconds; t += 60 / bpm) mixAt(pcm, hat, t);
    const est = estimateTempo(pcm, SR);
    expect(Math.abs(est.bpm - bpm)).toBeLessThanOrEqual(1);
  });

  it('finds nothing periodic in noise worth a confident score', () => {
    const est = estimateTempo(noise(SR * 10, 3), SR);
    expect(est.score).toBeLessThan(0.2);
  });
});

describe('onsets', () => {
  it('finds every click of a click track within 10 ms', () => {
    const bpm = 120;
    const onsets = detectOnsets(clickTrack({ bpm, seconds: 10, offsetSec: 0.25 }), SR);
    const expected = Array.from({ length: 20 }, (_, k) => 0.25 + k * 0.5).filter((t) => t < 10);
    expect(onsets).toHaveLength(expected.length);
    onsets.forEach((t, i) => expect(Math.abs(t - (expected[i] as number))).toBeLessThan(0.01));
  });

  it('measures grid alignment: on-grid onsets score 1, onsets a 32nd off score 0', () => {
    const bpm = 100;
    const sixteenth = 60 / bpm / 4;
    const onGrid = Array.from({ length: 32 }, (_, k) => k * sixteenth);
    expect(onsetGridAlignment(onGrid, bpm).fraction).toBe(1);
    const off = onGrid.map((t) => t + sixteenth / 2);
    const a = onsetGridAlignment(off, bpm, 0, { toleranceMs: 25 });
    expect(a.fraction).toBe(0);
    expect(a.meanErrorMs).toBeCloseTo(75, 0);
    expect(onsetGridAlignment(off, bpm, sixteenth / 2).fraction).toBe(1);
  });

  it('detects onsets of a click track on its grid after an ffmpeg round trip', async () => {
    const bpm = 110;
    const decoded = await decodeWithFfmpeg(wavPcm16(clickTrack({ bpm, seconds: 8, subdivision: 2 })), { channels: 1 });
    const onsets = detectOnsets(decoded.channels[0] as Float32Array, decoded.sampleRate);
    expect(onsets.length).toBeGreaterThanOrEqual(28);
    expect(onsetGridAlignment(onsets, bpm, 0, { toleranceMs: 10 }).fraction).toBe(1);
  });
});

describe('chroma', () => {
  it('hears a C major triad as {C, E, G}', () => {
    const c = chroma(sineChord([60, 64, 67], 2), SR);
    expect(pitchClassesPresent(c, 0.5)).toEqual([0, 4, 7]);
  });

  it('names low notes right (A1 at 55 Hz sits in coarse FFT bins)', () => {
    const c = chroma(sineChord([33 + 12], 2), SR, 0, 2, { minHz: 50 });
    expect(pitchClassesPresent(c, 0.5)).toEqual([9]);
  });

  it('is all zeros for silence and spreads noise thinly', () => {
    expect([...chroma(new Float32Array(SR), SR)]).toEqual(new Array(12).fill(0));
    const n = chroma(noise(SR * 8, 5), SR);
    expect(Math.max(...n)).toBeLessThan(0.3);
  });

  it('measures distance between harmonies', () => {
    const c = chroma(sineChord([60, 64, 67], 1), SR);
    const am = chroma(sineChord([57, 60, 64], 1), SR);
    const fs = chroma(sineChord([66, 70, 73], 1), SR);
    expect(chromaDistance(c, c)).toBeCloseTo(0, 9);
    expect(chromaDistance(c, am)).toBeLessThan(chromaDistance(c, fs));
    expect(chromaDistance(c, fs)).toBeGreaterThan(0.9);
  });
});

describe('harmonyChangePoints', () => {
  const bpm = 120;
  const beat = 0.5;
  const chords = [
    [60, 64, 67],
    [57, 60, 64],
    [65, 69, 72],
    [67, 71, 74],
  ];
  /** A chord per bar (or shifted by half a bar) over a click on every beat. */
  function song(shiftBeats: number): Float32Array {
    const seconds = 16 * 4 * beat;
    const pcm = clickTrack({ bpm, seconds });
    for (let bar = 0; bar < 16; bar++) {
      const notes = chords[bar % 4] as number[];
      mixAt(pcm, sineChord(notes, 4 * beat, SR, 0.15), (bar * 4 + shiftBeats) * beat);
    }
    return pcm;
  }

  it('sees harmony change at bar lines, not inside bars', () => {
    const h = harmonyChangePoints(song(0), SR, { bpm });
    expect(h.barBoundaryMean).toBeGreaterThan(0.3);
    expect(h.ratio).toBeGreaterThan(5);
  });

  it('reports a ratio below 1 when the changes fall mid-bar', () => {
    const h = harmonyChangePoints(song(2), SR, { bpm });
    expect(h.ratio).toBeLessThan(1);
  });
});

describe('levels', () => {
  it('measures RMS, peak and dBFS', () => {
    const s = sineChord([69], 1, SR, 1);
    expect(rms(s)).toBeCloseTo(Math.SQRT1_2, 3);
    expect(peak(s)).toBeCloseTo(1, 3);
    expect(dbfs(rms(s))).toBeCloseTo(-3.01, 1);
    expect(dbfs(0)).toBe(-Infinity);
  });

  it('measures integrated loudness with ffmpeg: a -20 dBFS 1 kHz sine in both channels is -20 LUFS', async () => {
    const tone = new Float32Array(SR * 5);
    for (let i = 0; i < tone.length; i++) tone[i] = 0.1 * Math.sin((2 * Math.PI * 1000 * i) / SR);
    const lufs = await integratedLoudness(wavPcm16(tone));
    expect(lufs).toBeGreaterThan(-20.5);
    expect(lufs).toBeLessThan(-19.5);
    const quieter = await integratedLoudness(wavPcm16(tone.map((v) => v / 10)));
    expect(quieter).toBeCloseTo(lufs - 20, 0);
  });
});

describe('decodeWithFfmpeg', () => {
  it('decodes a WAV to the samples that were written (PCM16 precision), resampling on request', async () => {
    const pcm = sineChord([57, 64], 1, SR, 0.3);
    const wav = wavPcm16(pcm);
    const stereo = await decodeWithFfmpeg(wav);
    expect(stereo.channels).toHaveLength(2);
    expect(stereo.length).toBe(pcm.length);
    let maxErr = 0;
    for (let i = 0; i < pcm.length; i++)
      maxErr = Math.max(
        maxErr,
        Math.abs((stereo.channels[1] as Float32Array)[i] as number) - Math.abs(pcm[i] as number),
      );
    expect(maxErr).toBeLessThan(1 / 16384);
    const half = await decodeWithFfmpeg(wav, { sampleRate: 22050, channels: 1 });
    expect(half.channels).toHaveLength(1);
    expect(Math.abs(half.length - pcm.length / 2)).toBeLessThanOrEqual(2);
  });

  it('rejects bytes that are not audio, with ffmpeg’s reason', async () => {
    await expect(decodeWithFfmpeg(Buffer.from('definitely not audio'))).rejects.toThrow(/ffmpeg exited/);
  });
});

describe('maxCrossCorrelation', () => {
  it('scores a shifted copy ~1 at its lag and unrelated noise ~0', () => {
    const a = noise(8000, 11);
    const shifted = new Float32Array(8000);
    shifted.set(a.subarray(0, 7900), 100);
    const same = maxCrossCorrelation(a, shifted, 500);
    expect(same.max).toBeGreaterThan(0.95);
    expect(same.lag).toBe(-100);
    expect(maxCrossCorrelation(a, noise(8000, 12), 500).max).toBeLessThan(0.1);
    expect(decimate(Float32Array.from([1, 3, 5, 7, 9]), 2)).toEqual(Float32Array.from([2, 6]));
  });
});
