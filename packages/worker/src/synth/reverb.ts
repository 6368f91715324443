/**
 * A small feedback-delay-network reverb (four damped delay lines, Householder mixing, two input diffusers), run at
 * a quarter of the sample rate: its damping keeps the tail below ~2 kHz anyway, and that quarters the cost. It is linear and time-invariant, so the
 * renderer can reverberate each chunk of bars separately (from a cleared state) and sum the tails: the result is
 * the same reverb, and each chunk's contribution is a pure function of that chunk.
 */

/** Delay lengths at 22.05 kHz (scaled to the working rate). */
const LINES = [743, 877, 1019, 1153];
const DIFFUSERS = [113, 337];
/** Decimation factor: the network runs at sr / RATE. */
const RATE = 4;

export class Reverb {
  private readonly lines: Float32Array[];
  private readonly lens: number[];
  private readonly fb: number[];
  private readonly diff: Float32Array[];
  private readonly damp: number;
  private wetL = new Float32Array(0);
  private wetR = new Float32Array(0);

  constructor(sr: number, size: number, rt60: number, damping: number) {
    const rate = sr / RATE;
    const scale = (rate / 22050) * (0.6 + 0.6 * size);
    this.lens = LINES.map((l) => Math.max(8, Math.round(l * scale)));
    this.lines = this.lens.map((l) => new Float32Array(l));
    this.fb = this.lens.map((l) => Math.pow(10, (-3 * l) / (rate * rt60)));
    this.diff = DIFFUSERS.map((l) => new Float32Array(Math.max(4, Math.round(l * (rate / 22050)))));
    // The damping coefficient was tuned at 22.05 kHz; keep its cutoff frequency at the new rate.
    this.damp = 1 - Math.pow(1 - damping, 22050 / rate);
  }

  /**
   * Reverberates mono `input[0..n)` from a silent state and adds the wet signal to `outL/outR` at `outAt + i`,
   * keeping only indices inside [0, outLen). The last `fadeN` samples fade out (the tail is cut at the chunk's
   * spill bound). `n` must be a multiple of 4.
   */
  process(
    input: Float32Array,
    n: number,
    outL: Float32Array,
    outR: Float32Array,
    outAt: number,
    outLen: number,
    gain: number,
    fadeN: number,
  ): void {
    for (const l of this.lines) l.fill(0);
    for (const d of this.diff) d.fill(0);
    const frames = Math.floor(n / RATE);
    if (this.wetL.length < frames + 1) {
      this.wetL = new Float32Array(frames + 1);
      this.wetR = new Float32Array(frames + 1);
    }
    const wetL = this.wetL;
    const wetR = this.wetR;
    const [l0, l1, l2, l3] = this.lines as [Float32Array, Float32Array, Float32Array, Float32Array];
    const [n0, n1, n2, n3] = this.lens as [number, number, number, number];
    const [g0, g1, g2, g3] = this.fb as [number, number, number, number];
    const [a0, a1] = this.diff as [Float32Array, Float32Array];
    const m0 = a0.length;
    const m1 = a1.length;
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    let p3 = 0;
    let q0 = 0;
    let q1 = 0;
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    const d = this.damp;
    const ag = 0.6;
    wetL[0] = 0;
    wetR[0] = 0;
    for (let k = 0; k < frames; k++) {
      const j = RATE * k;
      let x =
        0.25 * ((input[j] as number) + (input[j + 1] as number) + (input[j + 2] as number) + (input[j + 3] as number));
      // Two Schroeder all-passes smear the input so the network starts dense.
      let b = a0[q0] as number;
      let y = b - ag * x;
      a0[q0] = x + ag * y;
      if (++q0 === m0) q0 = 0;
      x = y;
      b = a1[q1] as number;
      y = b - ag * x;
      a1[q1] = x + ag * y;
      if (++q1 === m1) q1 = 0;
      x = y;

      z0 += d * ((l0[p0] as number) - z0);
      z1 += d * ((l1[p1] as number) - z1);
      z2 += d * ((l2[p2] as number) - z2);
      z3 += d * ((l3[p3] as number) - z3);
      const h = 0.5 * (z0 + z1 + z2 + z3);
      l0[p0] = x + g0 * (z0 - h);
      l1[p1] = x + g1 * (z1 - h);
      l2[p2] = x + g2 * (z2 - h);
      l3[p3] = x + g3 * (z3 - h);
      if (++p0 === n0) p0 = 0;
      if (++p1 === n1) p1 = 0;
      if (++p2 === n2) p2 = 0;
      if (++p3 === n3) p3 = 0;
      wetL[k + 1] = (z0 - z2 + 0.6 * z1) * gain;
      wetR[k + 1] = (z1 - z3 + 0.6 * z2) * gain;
    }
    // Back to the full rate by linear interpolation: the RATE samples of frame k run from wet[k] to wet[k + 1].
    const i0 = Math.max(0, -outAt);
    const i1 = Math.min(frames * RATE, outLen - outAt);
    const fadeStart = n - fadeN;
    const step = 1 / RATE;
    for (let k = Math.floor(i0 / RATE); k * RATE < i1; k++) {
      const l0 = wetL[k] as number;
      const r0 = wetR[k] as number;
      const dl = ((wetL[k + 1] as number) - l0) * step;
      const dr = ((wetR[k + 1] as number) - r0) * step;
      for (let q = 0; q < RATE; q++) {
        const i = k * RATE + q;
        if (i < i0 || i >= i1) continue;
        let vl = l0 + dl * (q + 1);
        let vr = r0 + dr * (q + 1);
        if (i >= fadeStart) {
          const fade = (n - i) / fadeN;
          vl *= fade;
          vr *= fade;
        }
        const o = outAt + i;
        outL[o] = (outL[o] as number) + vl;
        outR[o] = (outR[o] as number) + vr;
      }
    }
  }
}
