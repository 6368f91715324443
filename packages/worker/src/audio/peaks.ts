/**
 * Waveform overview of a clip: min/max pairs per channel over equal spans of frames, computed from the normalised
 * PCM (so the picture matches what plays). 800–2000 pairs per channel: enough for a full-width waveform at any
 * screen size, small enough to fetch with the track list.
 */
import type { WaveformPeaks } from '@dawg/shared';

export const MIN_PEAKS = 800;
export const MAX_PEAKS = 2000;
/** Pairs per second of audio between the bounds (a 30 s clip gets 800, a 5 min one 2000). */
const PEAKS_PER_SECOND = 20;

export function peakCountFor(durationSec: number): number {
  return Math.min(MAX_PEAKS, Math.max(MIN_PEAKS, Math.ceil(durationSec * PEAKS_PER_SECOND)));
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** `interleaved` holds float samples in −1…1 or 16-bit integers (scaled by 1/32768). */
export function computePeaks(
  interleaved: Float32Array | Int16Array,
  sampleRate: number,
  channels: number,
): WaveformPeaks {
  const scale = interleaved instanceof Int16Array ? 1 / 32768 : 1;
  const frames = Math.floor(interleaved.length / channels);
  const durationSec = frames / sampleRate;
  // Exactly `length` pairs; pair p spans frames [p·frames/length, (p+1)·frames/length).
  const length = Math.max(1, Math.min(frames, peakCountFor(durationSec)));
  const data: number[][] = [];
  for (let c = 0; c < channels; c++) {
    const pairs = new Array<number>(length * 2);
    for (let p = 0; p < length; p++) {
      const start = Math.floor((p * frames) / length);
      const end = Math.max(start + 1, Math.floor(((p + 1) * frames) / length));
      let min = 0;
      let max = 0;
      for (let f = start; f < end; f++) {
        const s = interleaved[f * channels + c]!;
        if (s < min) min = s;
        if (s > max) max = s;
      }
      pairs[p * 2] = round4(Math.max(-1, min * scale));
      pairs[p * 2 + 1] = round4(Math.min(1, max * scale));
    }
    data.push(pairs);
  }
  return { version: 1, sampleRate, channels, samplesPerPeak: frames / length, length, durationSec, data };
}

/**
 * computePeaks over 16-bit samples that arrive in pieces (a master read back from its file): the frame count is
 * known up front, pieces come in order and hold whole frames. Gives exactly computePeaks' result for the same samples.
 */
export class PeaksBuilder {
  private readonly length: number;
  private readonly data: number[][];
  private readonly min: number[];
  private readonly max: number[];
  private pair = 0;
  private frame = 0;
  private end: number;

  constructor(
    private readonly frames: number,
    private readonly sampleRate: number,
    private readonly channels: number,
  ) {
    this.length = Math.max(1, Math.min(frames, peakCountFor(frames / sampleRate)));
    this.data = Array.from({ length: channels }, () => new Array<number>(this.length * 2));
    this.min = new Array<number>(channels).fill(0);
    this.max = new Array<number>(channels).fill(0);
    this.end = this.pairEnd(0);
  }

  private pairEnd(p: number): number {
    const start = Math.floor((p * this.frames) / this.length);
    return Math.max(start + 1, Math.floor(((p + 1) * this.frames) / this.length));
  }

  private closePair(): void {
    const scale = 1 / 32768;
    for (let c = 0; c < this.channels; c++) {
      this.data[c]![this.pair * 2] = round4(Math.max(-1, this.min[c]! * scale));
      this.data[c]![this.pair * 2 + 1] = round4(Math.min(1, this.max[c]! * scale));
      this.min[c] = 0;
      this.max[c] = 0;
    }
    this.pair++;
    if (this.pair < this.length) this.end = this.pairEnd(this.pair);
  }

  /** The next whole frames, interleaved. */
  push(samples: Int16Array): void {
    const { channels } = this;
    const count = Math.floor(samples.length / channels);
    for (let i = 0; i < count; i++, this.frame++) {
      if (this.pair >= this.length) return;
      for (let c = 0; c < channels; c++) {
        const s = samples[i * channels + c]!;
        if (s < this.min[c]!) this.min[c] = s;
        if (s > this.max[c]!) this.max[c] = s;
      }
      if (this.frame + 1 >= this.end) this.closePair();
    }
  }

  finish(): WaveformPeaks {
    while (this.pair < this.length) this.closePair();
    const { frames, length, sampleRate, channels } = this;
    return {
      version: 1,
      sampleRate,
      channels,
      samplesPerPeak: frames / length,
      length,
      durationSec: frames / sampleRate,
      data: this.data,
    };
  }
}
