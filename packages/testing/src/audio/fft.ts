/**
 * A small radix-2 FFT and the windowing helpers the audio analyses share.
 */

/** In-place iterative radix-2 complex FFT (forward, unscaled). `re.length` must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n & (n - 1)) throw new RangeError(`FFT size ${n} is not a power of two`);
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const tr = re[i] as number;
      re[i] = re[j] as number;
      re[j] = tr;
      const ti = im[i] as number;
      im[i] = im[j] as number;
      im[j] = ti;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < half; k++) {
        const a = i + k;
        const b = a + half;
        const br = re[b] as number;
        const bi = im[b] as number;
        const xr = br * cr - bi * ci;
        const xi = br * ci + bi * cr;
        re[b] = (re[a] as number) - xr;
        im[b] = (im[a] as number) - xi;
        re[a] = (re[a] as number) + xr;
        im[a] = (im[a] as number) + xi;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

const hannCache = new Map<number, Float64Array>();

/** Periodic Hann window of length n (cached). */
export function hann(n: number): Float64Array {
  let w = hannCache.get(n);
  if (!w) {
    w = new Float64Array(n);
    for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    hannCache.set(n, w);
  }
  return w;
}

/**
 * Magnitude spectrum (bins 0..n/2) of the Hann-windowed frame of `x` starting at `start` (zero beyond the ends).
 * `re`/`im` are caller-owned scratch of length n.
 */
export function frameMagnitudes(
  x: Float32Array,
  start: number,
  n: number,
  re: Float64Array,
  im: Float64Array,
  out: Float64Array,
): void {
  const w = hann(n);
  for (let i = 0; i < n; i++) {
    const j = start + i;
    re[i] = j >= 0 && j < x.length ? (x[j] as number) * (w[i] as number) : 0;
    im[i] = 0;
  }
  fft(re, im);
  for (let k = 0; k <= n >> 1; k++) out[k] = Math.hypot(re[k] as number, im[k] as number);
}

export const nextPow2 = (n: number): number => 1 << Math.ceil(Math.log2(Math.max(1, n)));

/** Averages channels into one. */
export function toMono(channels: readonly Float32Array[]): Float32Array {
  const first = channels[0];
  if (!first) return new Float32Array(0);
  if (channels.length === 1) return first;
  const out = new Float32Array(first.length);
  for (const ch of channels)
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (ch[i] as number) / channels.length;
  return out;
}
