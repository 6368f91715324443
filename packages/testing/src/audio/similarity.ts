/**
 * How alike two signals are, allowing for a time shift: the maximum normalised cross-correlation over lags. Two
 * renders that differ only by an offset score ~1; unrelated music scores near 0.
 */
import { fft, nextPow2 } from './fft';

export interface CrossCorrelation {
  /** Maximum of |Σ a[i]·b[i−lag]| / √(Σa²·Σb²) over the lags searched. */
  max: number;
  /** The lag (in samples of the inputs, b relative to a) where it occurs. */
  lag: number;
}

/** Averages blocks of `factor` samples (a crude low-pass and decimation, enough for similarity). */
export function decimate(x: Float32Array, factor: number): Float32Array {
  const n = Math.floor(x.length / factor);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < factor; j++) s += x[i * factor + j] as number;
    out[i] = s / factor;
  }
  return out;
}

/** Normalised cross-correlation of `a` and `b` over lags in [−maxLag, maxLag] (FFT-based). */
export function maxCrossCorrelation(a: Float32Array, b: Float32Array, maxLag: number): CrossCorrelation {
  const size = nextPow2(a.length + b.length);
  const ar = new Float64Array(size);
  const ai = new Float64Array(size);
  const br = new Float64Array(size);
  const bi = new Float64Array(size);
  let ea = 0;
  let eb = 0;
  for (let i = 0; i < a.length; i++) {
    ar[i] = a[i] as number;
    ea += (a[i] as number) ** 2;
  }
  for (let i = 0; i < b.length; i++) {
    br[i] = b[i] as number;
    eb += (b[i] as number) ** 2;
  }
  if (ea === 0 || eb === 0) return { max: 0, lag: 0 };
  fft(ar, ai);
  fft(br, bi);
  // A · conj(B), then the inverse transform as conj(FFT(conj(x))) / N.
  for (let k = 0; k < size; k++) {
    const re = (ar[k] as number) * (br[k] as number) + (ai[k] as number) * (bi[k] as number);
    const im = (ai[k] as number) * (br[k] as number) - (ar[k] as number) * (bi[k] as number);
    ar[k] = re;
    ai[k] = -im;
  }
  fft(ar, ai);
  const norm = Math.sqrt(ea * eb) * size;
  let best = 0;
  let bestLag = 0;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const v = Math.abs((ar[(lag + size) % size] as number) / norm);
    if (v > best) [best, bestLag] = [v, lag];
  }
  return { max: best, lag: bestLag };
}
