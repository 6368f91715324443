/**
 * Onsets: a spectral-flux onset-strength envelope, peak-picked onsets, and how well onsets sit on a metrical grid.
 *
 * The flux is "SuperFlux"-style (Böck & Widmer, DAFx 2013): log-compressed STFT magnitudes are compared with the
 * frame two hops earlier after a ±1-bin maximum filter, and only increases count. The maximum filter and the
 * lag keep the random bin-to-bin fluctuations of a decaying noise (a snare's or cymbal's tail) from reading as new
 * onsets, while real attacks still rise above it.
 */
import { frameMagnitudes } from './fft';

export interface OnsetEnvelope {
  values: Float64Array;
  /** Envelope frames per second. */
  frameRate: number;
  /** Time (s) of frame 0: frame i is at offsetSec + i / frameRate (the centre of its analysis window). */
  offsetSec: number;
}

export interface OnsetStrengthOptions {
  /** Analysis window (samples, power of two); default 1024 at 44.1 kHz scaled to the rate. */
  frameSize?: number;
  /** Hop (samples); default frameSize / 4. */
  hop?: number;
  /** Only bins at or above this frequency count (e.g. 2000 for hats and snares). */
  minHz?: number;
  maxHz?: number;
}

/** Spectral-flux onset strength of a mono signal. */
export function onsetStrength(pcm: Float32Array, sampleRate: number, opts: OnsetStrengthOptions = {}): OnsetEnvelope {
  const n = opts.frameSize ?? (sampleRate > 32000 ? 1024 : 512);
  const hop = opts.hop ?? n / 4;
  const bins = n / 2 + 1;
  const k0 = Math.max(1, Math.floor(((opts.minHz ?? 0) * n) / sampleRate));
  const k1 = Math.min(bins - 1, Math.ceil(((opts.maxHz ?? sampleRate / 2) * n) / sampleRate));
  const frames = Math.max(0, Math.floor((pcm.length - n) / hop) + 1);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const mag = new Float64Array(bins);
  // Ring of the last three log spectra: the reference is two hops back.
  const ring = [new Float64Array(bins), new Float64Array(bins), new Float64Array(bins)];
  const values = new Float64Array(frames);
  // Log compression makes quiet hats count next to loud kicks; gamma scales full-scale sines to ~log(1e3).
  const gamma = 1000 / n;
  const lag = 2;
  for (let f = 0; f < frames; f++) {
    frameMagnitudes(pcm, f * hop, n, re, im, mag);
    const cur = ring[f % 3] as Float64Array;
    const ref = ring[(f + 3 - lag) % 3] as Float64Array;
    for (let k = 0; k < bins; k++) cur[k] = Math.log1p(gamma * (mag[k] as number));
    let flux = 0;
    if (f >= lag) {
      for (let k = k0; k <= k1; k++) {
        const r = Math.max(ref[k - 1] ?? 0, ref[k] as number, ref[k + 1] ?? 0);
        const d = (cur[k] as number) - r;
        if (d > 0) flux += d;
      }
    }
    values[f] = flux;
  }
  // With a two-hop lag, an attack shows half a hop later than the window centre it entered.
  return { values, frameRate: sampleRate / hop, offsetSec: (n / 2 - hop / 2) / sampleRate };
}

export interface OnsetOptions extends OnsetStrengthOptions {
  /** Peak must exceed the local mean by this fraction of the envelope's 99th percentile (default 0.08). */
  delta?: number;
  /** Minimum spacing between onsets in seconds (default 0.03). */
  minGapSec?: number;
}

/** Onset times in seconds: local maxima of the onset strength above an adaptive threshold. */
export function detectOnsets(pcm: Float32Array, sampleRate: number, opts: OnsetOptions = {}): number[] {
  const env = onsetStrength(pcm, sampleRate, opts);
  return pickOnsets(env, opts.delta ?? 0.08, opts.minGapSec ?? 0.03);
}

export function pickOnsets(env: OnsetEnvelope, delta: number, minGapSec: number): number[] {
  const v = env.values;
  if (v.length === 0) return [];
  const sorted = Float64Array.from(v).sort();
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] as number;
  if (p99 <= 0) return [];
  const w = Math.max(1, Math.round(0.1 * env.frameRate));
  const localMax = Math.max(1, Math.round(0.02 * env.frameRate));
  const minGap = minGapSec * env.frameRate;
  const out: number[] = [];
  let last = -Infinity;
  // Running sum for the local mean over [i - w, i + w].
  let sum = 0;
  let lo = 0;
  let hi = -1;
  for (let i = 0; i < v.length; i++) {
    while (hi < Math.min(v.length - 1, i + w)) sum += v[++hi] as number;
    while (lo < i - w) sum -= v[lo++] as number;
    const mean = sum / (hi - lo + 1);
    const x = v[i] as number;
    if (x < mean + delta * p99) continue;
    let isMax = true;
    for (let j = Math.max(0, i - localMax); j <= Math.min(v.length - 1, i + localMax); j++) {
      if ((v[j] as number) > x || ((v[j] as number) === x && j < i)) {
        isMax = false;
        break;
      }
    }
    if (!isMax || i - last < minGap) continue;
    out.push(env.offsetSec + i / env.frameRate);
    last = i;
  }
  return out;
}

export interface GridAlignment {
  /** Share of onsets within the tolerance of a grid line. */
  fraction: number;
  /** Mean distance to the nearest grid line (ms). */
  meanErrorMs: number;
  count: number;
}

/**
 * How many onsets fall on a metrical grid: lines every beat/`subdivision` from `offsetSec` (subdivision 4 = 16ths,
 * 2 = 8ths), within ±`toleranceMs`.
 */
export function onsetGridAlignment(
  onsets: readonly number[],
  bpm: number,
  offsetSec = 0,
  opts: { subdivision?: number; toleranceMs?: number } = {},
): GridAlignment {
  const step = 60 / bpm / (opts.subdivision ?? 4);
  const tol = (opts.toleranceMs ?? 25) / 1000;
  let on = 0;
  let err = 0;
  for (const t of onsets) {
    const pos = (t - offsetSec) / step;
    const d = Math.abs(pos - Math.round(pos)) * step;
    err += d;
    if (d <= tol) on++;
  }
  const count = onsets.length;
  return { fraction: count ? on / count : 0, meanErrorMs: count ? (err / count) * 1000 : 0, count };
}
