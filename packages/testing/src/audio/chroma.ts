/**
 * Pitch-class analysis: chroma (12-bin pitch-class energy from STFT spectral peaks), which pitch classes a passage
 * uses, and where the harmony changes (chroma per beat compared beat to beat, bar lines against mid-bar).
 */
import { frameMagnitudes, nextPow2 } from './fft';

export interface ChromaOptions {
  /** Lowest and highest frequencies that count (default 80–5000 Hz: above kick fundamentals, below hat noise). */
  minHz?: number;
  maxHz?: number;
  /** FFT size (default 8192 at 44.1 kHz: ~5 Hz bins, fine enough for bass notes). */
  frameSize?: number;
  /**
   * How a spectral peak counts: its 'magnitude' (default), its 'power' (loud notes dominate: good for "which notes
   * are there"), or 'log' magnitude (every audible note counts alike: good for harmony).
   */
  weighting?: 'magnitude' | 'power' | 'log';
}

/**
 * 12-bin pitch-class profile of `pcm` between `fromSec` and `toSec`, normalised to sum 1 (all zeros for silence).
 * Only spectral peaks count, at their parabolically interpolated frequency, so noise spreads thinly and a sine is
 * attributed to its own pitch class even in low, coarse bins.
 */
export function chroma(
  pcm: Float32Array,
  sampleRate: number,
  fromSec = 0,
  toSec = pcm.length / sampleRate,
  opts: ChromaOptions = {},
): Float64Array {
  const n = opts.frameSize ?? nextPow2(sampleRate * 0.186);
  const minHz = opts.minHz ?? 80;
  const maxHz = opts.maxHz ?? 5000;
  const weighting = opts.weighting ?? 'magnitude';
  const from = Math.max(0, Math.round(fromSec * sampleRate));
  const to = Math.min(pcm.length, Math.round(toSec * sampleRate));
  const out = new Float64Array(12);
  if (to <= from) return out;
  const hop = n / 2;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const mag = new Float64Array(n / 2 + 1);
  // Frames centred inside the span; a span shorter than a frame gets one frame centred on it.
  const starts: number[] = [];
  if (to - from <= n) starts.push(Math.round((from + to) / 2 - n / 2));
  else for (let s = from; s + n <= to; s += hop) starts.push(s);
  const k0 = Math.max(2, Math.floor((minHz * n) / sampleRate));
  const k1 = Math.min(n / 2 - 2, Math.ceil((maxHz * n) / sampleRate));
  for (const start of starts) {
    frameMagnitudes(pcm, start, n, re, im, mag);
    let mean = 0;
    for (let k = k0; k <= k1; k++) mean += mag[k] as number;
    mean /= k1 - k0 + 1;
    for (let k = k0; k <= k1; k++) {
      const m = mag[k] as number;
      if (m <= mean * 3 || m < (mag[k - 1] as number) || m <= (mag[k + 1] as number)) continue;
      const a = Math.log(((mag[k - 1] as number) || 1e-12) + 1e-12);
      const b = Math.log(m + 1e-12);
      const c = Math.log(((mag[k + 1] as number) || 1e-12) + 1e-12);
      const denom = a - 2 * b + c;
      const shift = denom !== 0 ? (0.5 * (a - c)) / denom : 0;
      const freq = ((k + shift) * sampleRate) / n;
      const midi = 69 + 12 * Math.log2(freq / 440);
      const pc = ((Math.round(midi) % 12) + 12) % 12;
      out[pc] = (out[pc] as number) + (weighting === 'power' ? m * m : weighting === 'log' ? Math.log1p(m / mean) : m);
    }
  }
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += out[i] as number;
  if (sum > 0) for (let i = 0; i < 12; i++) out[i] = (out[i] as number) / sum;
  return out;
}

/** Pitch classes (0 = C … 11 = B) whose share is at least `threshold` of the strongest one. */
export function pitchClassesPresent(profile: Float64Array, threshold = 0.15): number[] {
  let max = 0;
  for (let i = 0; i < 12; i++) max = Math.max(max, profile[i] as number);
  if (max <= 0) return [];
  const out: number[] = [];
  for (let i = 0; i < 12; i++) if ((profile[i] as number) >= threshold * max) out.push(i);
  return out;
}

/** 1 − cosine similarity of two chroma vectors (0 = same harmony, 1 = disjoint). */
export function chromaDistance(a: Float64Array, b: Float64Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < 12; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return na > 0 && nb > 0 ? 1 - dot / Math.sqrt(na * nb) : 0;
}

export interface HarmonyChanges {
  /** Chroma of each beat. */
  beatChroma: Float64Array[];
  /** change[i] = distance between beat i−1 and beat i (change[0] = 0). */
  change: number[];
  /** Mean change entering a bar (beat index ≡ 0 mod beatsPerBar). */
  barBoundaryMean: number;
  /** Mean change at the other beats. */
  midBarMean: number;
  /** barBoundaryMean / midBarMean. */
  ratio: number;
}

export interface HarmonyOptions extends ChromaOptions {
  /** Defaults to 'log' here: a chord's quieter tones count as much as the loudest melody or bass note. */
  bpm: number;
  /** Time of the first downbeat (s). */
  offsetSec?: number;
  beatsPerBar?: number;
  /** Fraction of each beat skipped at its start, so the previous chord's ring-out does not blur the change. */
  skip?: number;
}

/** Chroma per beat and how much it changes across bar lines versus inside bars. */
export function harmonyChangePoints(pcm: Float32Array, sampleRate: number, opts: HarmonyOptions): HarmonyChanges {
  const beat = 60 / opts.bpm;
  const offset = opts.offsetSec ?? 0;
  const perBar = opts.beatsPerBar ?? 4;
  const skip = opts.skip ?? 0.15;
  const duration = pcm.length / sampleRate;
  const beatChroma: Float64Array[] = [];
  for (let t = offset; t + beat <= duration + 1e-9; t += beat) {
    beatChroma.push(chroma(pcm, sampleRate, t + skip * beat, t + beat, { weighting: 'log', ...opts }));
  }
  const change = beatChroma.map((c, i) => (i === 0 ? 0 : chromaDistance(beatChroma[i - 1] as Float64Array, c)));
  let bSum = 0;
  let bN = 0;
  let mSum = 0;
  let mN = 0;
  for (let i = 1; i < change.length; i++) {
    if (i % perBar === 0) {
      bSum += change[i] as number;
      bN++;
    } else {
      mSum += change[i] as number;
      mN++;
    }
  }
  const barBoundaryMean = bN ? bSum / bN : 0;
  const midBarMean = mN ? mSum / mN : 0;
  return {
    beatChroma,
    change,
    barBoundaryMean,
    midBarMean,
    ratio: midBarMean > 0 ? barBoundaryMean / midBarMean : Infinity,
  };
}
