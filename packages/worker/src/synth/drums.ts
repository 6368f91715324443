/**
 * The drum kit, synthesised from scratch once per render and then played back as one-shots: a kick is a sine
 * sweep plus a click, a snare is a tone plus noise, hats are high-passed noise over metallic square partials, and
 * so on. The kit's character follows the drum style (soft and dusty for lofi, long 808 for trap, punchy for dance).
 */
import type { DrumPart } from './arrangement';
import type { DrumStyle } from './params';
import { mixSeed, Noise } from './rng';

export type Kit = Record<DrumPart, Float32Array[]>;

interface KickSpec {
  f0: number;
  f1: number;
  sweep: number;
  decay: number;
  length: number;
  click: number;
  drive: number;
}

const KICKS: Record<'soft' | 'punchy' | 'deep' | 'acoustic' | '808', KickSpec> = {
  soft: { f0: 110, f1: 52, sweep: 0.025, decay: 0.18, length: 0.4, click: 0.15, drive: 1.1 },
  punchy: { f0: 160, f1: 50, sweep: 0.022, decay: 0.24, length: 0.5, click: 0.45, drive: 1.5 },
  deep: { f0: 130, f1: 45, sweep: 0.035, decay: 0.35, length: 0.7, click: 0.2, drive: 1.3 },
  acoustic: { f0: 130, f1: 60, sweep: 0.018, decay: 0.14, length: 0.35, click: 0.5, drive: 1.2 },
  '808': { f0: 140, f1: 48, sweep: 0.04, decay: 0.5, length: 0.9, click: 0.1, drive: 1.2 },
};

function kickFor(style: DrumStyle): KickSpec {
  switch (style) {
    case 'lofi':
    case 'ambient':
    case 'jazz':
      return KICKS.soft;
    case 'four-on-floor':
    case 'techno':
      return KICKS.punchy;
    case 'trap':
      return KICKS['808'];
    case 'cinematic':
      return KICKS.deep;
    default:
      return KICKS.acoustic;
  }
}

const sat = (x: number): number => x / (1 + Math.abs(x));

/** Frequency of pitch class `pc` in the octave [lo, 2·lo). */
function tuned(pc: number, lo: number): number {
  const loMidi = 69 + 12 * Math.log2(lo / 440);
  let m = Math.ceil(loMidi);
  while ((((m - pc) % 12) + 12) % 12 !== 0) m++;
  return 440 * Math.pow(2, (m - 69) / 12);
}

function kick(sr: number, k: KickSpec, seed: number): Float32Array {
  const n = Math.round(k.length * sr);
  const out = new Float32Array(n);
  const noise = new Noise(seed);
  let ph = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const f = k.f1 + (k.f0 - k.f1) * Math.exp(-t / k.sweep);
    ph += (2 * Math.PI * f) / sr;
    const body = Math.sin(ph) * Math.exp(-t / k.decay) * Math.min(1, i / (0.0015 * sr));
    const click = t < 0.004 ? noise.next() * k.click * (1 - t / 0.004) : 0;
    out[i] = sat((body + click) * k.drive) * 0.95;
  }
  fadeTail(out, sr, 0.02);
  return out;
}

/** Noise through a one-pole high-pass and an envelope. */
function noiseHit(
  sr: number,
  seed: number,
  length: number,
  decay: number,
  hpHz: number,
  lpHz: number,
  attack = 0.0005,
): Float32Array {
  const n = Math.round(length * sr);
  const out = new Float32Array(n);
  const noise = new Noise(seed);
  const hp = new HighPass(hpHz, sr);
  const lpG = 1 - Math.exp((-2 * Math.PI * lpHz) / sr);
  let lp = 0;
  for (let i = 0; i < n; i++) {
    lp += lpG * (hp.process(noise.next()) - lp);
    const t = i / sr;
    out[i] = lp * Math.exp(-t / decay) * Math.min(1, t / attack);
  }
  return out;
}

/**
 * Three cascaded one-pole high-passes (18 dB/oct): cymbals keep their sizzle while their metallic partials stay
 * out of the pitched range, where they would read as notes outside the key.
 */
class HighPass {
  private readonly a: number;
  private h1 = 0;
  private h2 = 0;
  private h3 = 0;
  private p0 = 0;
  private p1 = 0;
  private p2 = 0;

  constructor(hz: number, sr: number) {
    this.a = Math.exp((-2 * Math.PI * hz) / sr);
  }

  process(x: number): number {
    const a = this.a;
    this.h1 = a * (this.h1 + x - this.p0);
    this.p0 = x;
    this.h2 = a * (this.h2 + this.h1 - this.p1);
    this.p1 = this.h1;
    this.h3 = a * (this.h3 + this.h2 - this.p2);
    this.p2 = this.h2;
    return this.h3;
  }
}

/** Six detuned square partials (the classic analog hi-hat recipe) plus noise, high-passed. */
function metal(sr: number, seed: number, length: number, decay: number, gainNoise: number, hpHz: number): Float32Array {
  const n = Math.round(length * sr);
  const out = noiseHit(sr, seed, length, decay, hpHz, 16000);
  const incs = [205.3, 304.4, 369.6, 522.7, 540, 800].map((f) => (f * 1.65) / sr);
  const phases = new Float64Array(incs.length);
  const hp = new HighPass(hpHz, sr);
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    let m = 0;
    for (let k = 0; k < incs.length; k++) {
      let ph = (phases[k] as number) + (incs[k] as number);
      if (ph >= 1) ph -= 1;
      phases[k] = ph;
      m += ph < 0.5 ? 1 : -1;
    }
    m /= incs.length;
    out[i] = (out[i] as number) * gainNoise + hp.process(m) * 0.6 * Math.exp(-t / decay);
  }
  return out;
}

function snare(sr: number, seed: number, brushed: boolean, body: number): Float32Array {
  const length = brushed ? 0.3 : 0.25;
  const n = Math.round(length * sr);
  const noisePart = noiseHit(
    sr,
    seed,
    length,
    brushed ? 0.09 : 0.12,
    brushed ? 1500 : 900,
    brushed ? 7000 : 9000,
    brushed ? 0.01 : 0.0005,
  );
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const tone = brushed
      ? 0
      : (Math.sin(2 * Math.PI * body * t) + 0.5 * Math.sin(2 * Math.PI * body * 1.5 * t)) * Math.exp(-t / 0.045);
    out[i] = sat(((noisePart[i] as number) * 1.4 + tone * 0.7) * 1.3) * (brushed ? 0.55 : 0.9);
  }
  fadeTail(out, sr, 0.02);
  return out;
}

function clap(sr: number, seed: number): Float32Array {
  const length = 0.3;
  const n = Math.round(length * sr);
  const body = noiseHit(sr, seed, length, 0.09, 800, 5000);
  const out = new Float32Array(n);
  // Several hands a few ms apart, then the room.
  const bursts = [0, 0.008, 0.017, 0.026];
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    let env = 0;
    for (const b of bursts) if (t >= b) env = Math.max(env, Math.exp(-(t - b) / 0.006));
    env = Math.max(env, 0.45 * Math.exp(-(t - 0.026) / 0.09) * (t > 0.026 ? 1 : 0));
    out[i] = (body[i] as number) * env * 3;
  }
  return out;
}

function rim(sr: number, seed: number, pitch: number): Float32Array {
  const n = Math.round(0.08 * sr);
  const out = noiseHit(sr, seed, 0.08, 0.01, 2000, 10000);
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    out[i] = (out[i] as number) * 0.6 + Math.sin(2 * Math.PI * pitch * t) * Math.exp(-t / 0.012) * 0.5;
  }
  return out;
}

function tom(sr: number, seed: number, deep: boolean, f0: number): Float32Array {
  const n = Math.round((deep ? 0.9 : 0.5) * sr);
  const out = new Float32Array(n);
  const noise = new Noise(seed);
  let ph = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const f = f0 * (1 + 0.6 * Math.exp(-t / 0.03));
    ph += (2 * Math.PI * f) / sr;
    const env = Math.exp(-t / (deep ? 0.35 : 0.2));
    out[i] = sat((Math.sin(ph) * env + noise.next() * 0.2 * Math.exp(-t / 0.02)) * 1.5) * 0.9;
  }
  fadeTail(out, sr, 0.02);
  return out;
}

function shaker(sr: number, seed: number): Float32Array {
  return noiseHit(sr, seed, 0.09, 0.03, 5000, 12000, 0.012);
}

function fadeTail(buf: Float32Array, sr: number, sec: number): void {
  const n = Math.min(buf.length, Math.round(sec * sr));
  for (let i = 0; i < n; i++) {
    const j = buf.length - 1 - i;
    buf[j] = (buf[j] as number) * (i / n);
  }
}

/** Level of each part relative to the kick. */
export const DRUM_GAINS: Record<DrumPart, number> = {
  kick: 0.95,
  snare: 0.62,
  clap: 0.5,
  rim: 0.35,
  hat: 0.2,
  openhat: 0.18,
  ride: 0.18,
  crash: 0.22,
  shaker: 0.22,
  tom: 0.6,
};

/** Pan of each part, -1 (left) .. 1 (right), from the drummer's seat. */
export const DRUM_PANS: Record<DrumPart, number> = {
  kick: 0,
  snare: 0.05,
  clap: 0,
  rim: 0.1,
  hat: 0.3,
  openhat: 0.3,
  ride: -0.35,
  crash: -0.25,
  shaker: 0.45,
  tom: -0.15,
};

type Pitched = Pick<Kit, 'kick' | 'snare' | 'rim' | 'tom'>;
type Unpitched = Omit<Kit, keyof Pitched>;

const pitchedKits = new Map<string, Pitched>();
const unpitchedKits = new Map<string, Unpitched>();

function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let v = map.get(key);
  if (!v) {
    v = make();
    map.set(key, v);
  }
  return v;
}

/**
 * The kit for a style; each part has a few variants (different noise) so repeated hits are not clones. Kits are a
 * function of the style (and, for the tuned drums, the tonic) alone, so each is built once per thread and shared by
 * renders (read-only).
 */
export function buildKit(style: DrumStyle, tonic: number, sr: number): Kit {
  return {
    ...cached(pitchedKits, `${style}/${tonic}@${sr}`, () => makePitched(style, tonic, sr)),
    ...cached(unpitchedKits, `${style}@${sr}`, () => makeUnpitched(style, sr)),
  };
}

const seedFor = (style: DrumStyle, part: string, v: number): number => mixSeed(0x5eed, 'kit', style, part, v);
const variants = <T>(count: number, make: (v: number) => T): T[] => Array.from({ length: count }, (_, v) => make(v));

/** Drums are tuned to the song's tonic (kick, snare body, toms) and fifth (rim), as producers tune their kits. */
function makePitched(style: DrumStyle, tonic: number, sr: number): Pitched {
  const base = kickFor(style);
  const spec = { ...base, f1: tuned(tonic, base.f1 * 0.84) };
  const body = tuned(tonic, 160);
  const fifth = (tonic + 7) % 12;
  return {
    kick: variants(1, (v) => kick(sr, spec, seedFor(style, 'kick', v))),
    snare: variants(2, (v) => snare(sr, seedFor(style, 'snare', v), style === 'jazz', body)),
    rim: variants(1, (v) => rim(sr, seedFor(style, 'rim', v), tuned(fifth, 1200))),
    tom: variants(1, (v) =>
      tom(sr, seedFor(style, 'tom', v), style === 'cinematic', tuned(tonic, style === 'cinematic' ? 70 : 110)),
    ),
  };
}

function makeUnpitched(style: DrumStyle, sr: number): Unpitched {
  const s = (part: string, v: number): number => seedFor(style, part, v);
  const lofi = style === 'lofi';
  return {
    clap: variants(2, (v) => clap(sr, s('clap', v))),
    hat: variants(3, (v) => metal(sr, s('hat', v), 0.12, lofi ? 0.025 : 0.035, 0.7, lofi ? 6000 : 7500)),
    openhat: variants(2, (v) => metal(sr, s('openhat', v), 0.5, 0.16, 0.7, 7000)),
    ride: variants(2, (v) => metal(sr, s('ride', v), 0.7, 0.22, 0.35, 4500)),
    crash: variants(1, (v) => metal(sr, s('crash', v), 1.8, 0.5, 1, 3500)),
    shaker: variants(2, (v) => shaker(sr, s('shaker', v))),
  };
}
