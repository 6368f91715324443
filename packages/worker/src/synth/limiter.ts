/**
 * The master bus's look-ahead peak limiter: it holds the song's peaks under a fixed ceiling so the master has a
 * moderate peak-to-loudness ratio (loudnorm can then reach its target with one constant gain, without clipping).
 *
 * Design: the gain each sample needs (ceiling / peak, or 1) → the minimum over the next `lookahead` samples → a
 * one-pole release back towards unity → a box average over `lookahead + 1` samples. Every value in that average has
 * already seen the peak it is averaged towards, so the gain reaches its target by the time the peak plays (no
 * overshoot) and moves in ramps of a few ms (no clicks). The gain is computed from the whole buffer, so the audio is
 * not delayed.
 *
 * Partial renders: the limiter has state, so the gain of a segment (a bar) is computed by running it from a cleared
 * state a fixed `warmup` before the segment. A sample's gain is then a pure function of the audio from
 * `segment start - warmup` to `segment end + lookahead`, identical whichever bar the render starts at, as long as
 * the render holds that warm-up span.
 */

export interface LimiterSpec {
  /** Highest magnitude let through, after `inGain` (linear). */
  ceiling: number;
  /** Look-ahead (and attack ramp) in samples. */
  lookahead: number;
  /** Per-sample one-pole coefficient of the release towards unity gain. */
  release: number;
  /** Samples the limiter runs, from a cleared state, before each segment. */
  warmup: number;
}

export interface LimiterWork {
  t: Float64Array;
  h: Float64Array;
  q: Int32Array;
  box: Float64Array;
}

export function limiterSpec(sr: number, ceilingDb: number, lookaheadSec: number, releaseSec: number, warmup: number) {
  return {
    ceiling: 10 ** (ceilingDb / 20),
    lookahead: Math.max(1, Math.round(lookaheadSec * sr)),
    release: 1 - Math.exp(-1 / (releaseSec * sr)),
    warmup,
  } satisfies LimiterSpec;
}

let pooled: LimiterWork | null = null;

/**
 * Work buffers for segments of up to `maxSegment` samples (warm-up and look-ahead included), reused across renders
 * in this thread (rendering is synchronous).
 */
export function limiterWork(spec: LimiterSpec, maxSegment: number): LimiterWork {
  const size = maxSegment + 2;
  if (!pooled || pooled.t.length < size || pooled.box.length !== spec.lookahead + 1) {
    pooled = {
      t: new Float64Array(size),
      h: new Float64Array(size),
      q: new Int32Array(size),
      box: new Float64Array(spec.lookahead + 1),
    };
  }
  return pooled;
}

/**
 * Writes the limiter's gain for samples [from, to) of a stereo buffer of `len` samples (to be scaled by `inGain`
 * before the limiter) into `gain[from..to)`. Returns false, writing nothing, when no sample in the segment's span
 * needs limiting (the gain is then 1 throughout).
 */
export function limiterGain(
  left: Float32Array,
  right: Float32Array,
  len: number,
  inGain: number,
  from: number,
  to: number,
  spec: LimiterSpec,
  gain: Float32Array,
  work: LimiterWork,
): boolean {
  const la = spec.lookahead;
  const w0 = Math.max(0, from - spec.warmup);
  const n = Math.min(len, to + la) - w0;
  const { t, h, q, box } = work;
  const ceil = spec.ceiling / inGain;
  let any = false;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(left[w0 + i] as number);
    const b = Math.abs(right[w0 + i] as number);
    const p = a > b ? a : b;
    if (p > ceil) {
      t[i] = ceil / p;
      any = true;
    } else t[i] = 1;
  }
  if (!any) return false;
  // h[i] = min(t[i..i+la]) (unity past the buffer), by a monotone queue of indices.
  const m = to - w0;
  let qh = 0;
  let qt = 0;
  for (let k = 0; k < m + la; k++) {
    if (k < n) {
      const v = t[k] as number;
      while (qt > qh && (t[q[qt - 1] as number] as number) >= v) qt--;
      q[qt++] = k;
    }
    const i = k - la;
    if (i < 0) continue;
    while (qh < qt && (q[qh] as number) < i) qh++;
    h[i] = qh < qt ? (t[q[qh] as number] as number) : 1;
  }
  const rel = spec.release;
  const inv = 1 / (la + 1);
  box.fill(1);
  let sum = la + 1;
  let bi = 0;
  let env = 1;
  for (let i = 0; i < m; i++) {
    const hv = h[i] as number;
    const up = env + (1 - env) * rel;
    env = hv < up ? hv : up;
    sum += env - (box[bi] as number);
    box[bi] = env;
    bi = bi === la ? 0 : bi + 1;
    if (i + w0 >= from) gain[i + w0] = sum * inv;
  }
  return true;
}
