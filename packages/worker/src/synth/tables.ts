/**
 * Precomputed oscillator tables. Band-limited wavetables are built once per thread by inverse FFT, one per octave
 * of harmonic count ("mipmaps"), so a note reads the richest table that stays below Nyquist: no aliasing and no
 * Math.sin in the inner loops.
 */

export const TABLE_BITS = 11;
export const TABLE_SIZE = 1 << TABLE_BITS;
export const TABLE_MASK = TABLE_SIZE - 1;
/** Radians → table units. */
export const RAD_TO_TABLE = TABLE_SIZE / (2 * Math.PI);

/** In-place iterative radix-2 complex FFT; `inverse` uses e^{+i} and does not scale. */
export function fft(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
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
    const ang = ((inverse ? 2 : -2) * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k;
        const b = a + len / 2;
        const xr = (re[b] as number) * cr - (im[b] as number) * ci;
        const xi = (re[b] as number) * ci + (im[b] as number) * cr;
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

/**
 * One cycle of Σ amp(h)·sin(2πh·n/N) for h ≤ maxHarmonic, peak-normalised, with a guard sample so linear
 * interpolation can read index N.
 */
export function buildTable(amp: (h: number) => number, maxHarmonic: number): Float32Array {
  const re = new Float64Array(TABLE_SIZE);
  const im = new Float64Array(TABLE_SIZE);
  const top = Math.min(maxHarmonic, TABLE_SIZE / 2 - 1);
  for (let h = 1; h <= top; h++) {
    const a = amp(h);
    im[h] = -a / 2;
    im[TABLE_SIZE - h] = a / 2;
  }
  fft(re, im, true);
  let peak = 0;
  for (let i = 0; i < TABLE_SIZE; i++) peak = Math.max(peak, Math.abs(re[i] as number));
  const out = new Float32Array(TABLE_SIZE + 1);
  const k = peak > 0 ? 1 / peak : 0;
  for (let i = 0; i < TABLE_SIZE; i++) out[i] = (re[i] as number) * k;
  out[TABLE_SIZE] = out[0] as number;
  return out;
}

export type WaveName = 'saw' | 'square' | 'soft' | 'triangle' | 'organ' | 'piano' | 'sub' | 'clav';

const SPECTRA: Record<WaveName, (h: number) => number> = {
  saw: (h) => 1 / h,
  square: (h) => (h % 2 === 1 ? 1 / h : 0),
  // Pads: a saw rolled off steeply, warm without a filter.
  soft: (h) => 1 / Math.pow(h, 1.7),
  triangle: (h) => (h % 2 === 1 ? (((h - 1) / 2) % 2 === 0 ? 1 : -1) / (h * h) : 0),
  // Drawbars 8', 4', 2 2/3', 2', 1 3/5', 1'.
  organ: (h) => ({ 1: 1, 2: 0.7, 3: 0.55, 4: 0.4, 5: 0.12, 6: 0.25, 8: 0.18 })[h] ?? 0,
  // Hammer struck near 1/7 of the string: the 7th harmonic and its multiples are weak.
  piano: (h) => (Math.abs(Math.sin((Math.PI * h) / 7.3)) + 0.08) / Math.pow(h, 1.25),
  sub: (h) => (h === 1 ? 1 : h === 2 ? 0.12 : h === 3 ? 0.04 : 0),
  clav: (h) => (Math.abs(Math.sin((Math.PI * h) / 9.5)) + 0.05) / Math.pow(h, 0.8),
};

const MIP_LEVELS = 10; // harmonic counts 1, 2, 4, ... 512
const mips = new Map<WaveName, Float32Array[]>();

function mipsOf(wave: WaveName): Float32Array[] {
  let levels = mips.get(wave);
  if (!levels) {
    levels = [];
    for (let k = 0; k < MIP_LEVELS; k++) levels.push(buildTable(SPECTRA[wave], 1 << k));
    mips.set(wave, levels);
  }
  return levels;
}

/** The richest table of `wave` whose harmonics all stay below ~18 kHz at `maxFreq`. */
export function wavetable(wave: WaveName, maxFreq: number): Float32Array {
  const levels = mipsOf(wave);
  const allowed = Math.max(1, Math.floor(18000 / Math.max(1, maxFreq)));
  let k = Math.min(MIP_LEVELS - 1, Math.floor(Math.log2(allowed)));
  if (k < 0) k = 0;
  return levels[k] as Float32Array;
}

export const SINE: Float32Array = (() => {
  const t = new Float32Array(TABLE_SIZE + 1);
  for (let i = 0; i <= TABLE_SIZE; i++) t[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);
  return t;
})();

const vowelCache = new Map<number, Float32Array>();

/**
 * A sung "oh" at a given MIDI pitch: harmonics weighted by fixed formants (500, 900, 2500 Hz), which is what makes
 * a vowel sound like a voice at every pitch. Cached per pitch.
 */
export function vowelTable(midi: number): Float32Array {
  let t = vowelCache.get(midi);
  if (!t) {
    const f0 = 440 * Math.pow(2, (midi - 69) / 12);
    const formants: [number, number, number][] = [
      [500, 90, 1],
      [900, 120, 0.55],
      [2500, 200, 0.18],
    ];
    t = buildTable((h) => {
      const f = h * f0;
      if (f > 9000) return 0;
      let a = 0.04 / h;
      for (const [c, w, g] of formants) a += g * Math.exp(-((f - c) * (f - c)) / (2 * w * w));
      return a;
    }, 256);
    vowelCache.set(midi, t);
  }
  return t;
}

/** Builds every table now, so the first render does not pay for it mid-song. */
export function warmTables(): void {
  for (const w of Object.keys(SPECTRA) as WaveName[]) mipsOf(w);
}
