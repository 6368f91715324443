/**
 * Instrument voices. Each renders one note, mono, into a scratch buffer and returns how many samples it wrote;
 * the renderer then places that buffer in the mix. A voice's output depends only on its note (pitch, velocity,
 * gate, seed), never on what was rendered before: that is what makes any bar range render identically.
 *
 * Hot loops read precomputed tables (no Math.sin), update filter coefficients and LFOs once per 32-sample block,
 * and allocate nothing.
 */
import { Noise } from './rng';
import { RAD_TO_TABLE, SINE, TABLE_MASK, TABLE_SIZE, vowelTable, type WaveName, wavetable } from './tables';

export interface VoiceNote {
  freq: number;
  midi: number;
  vel: number;
  /** Samples until note-off. */
  gate: number;
  seed: number;
  /** 0..1 tone colour from the plan. */
  brightness: number;
}

export interface VoiceBuffers {
  sr: number;
  /** Output of the voice being rendered. */
  out: Float32Array;
  /** Most samples the current voice may write (the renderer's spill bound; ≤ out.length). */
  cap: number;
  env: Float32Array;
  /** Karplus–Strong delay lines. */
  ks: Float32Array;
}

const BLOCK = 32;
/** Keeps table phases positive when FM pushes them below zero. */
const PHASE_BIAS = TABLE_SIZE * 256;

const tau = (sec: number, sr: number): number => Math.exp(-1 / Math.max(1e-4, sec * sr));

/**
 * Samples a release of time constant `rel` needs to fall ~43 dB; the renderer fades the last few ms, so the cut is
 * inaudible under a mix while the voice count (the renderer's main cost) stays low.
 */
const releaseSamples = (rel: number, sr: number): number => Math.ceil(5 * rel * sr);

function lengthFor(b: VoiceBuffers, gate: number, rel: number): number {
  return Math.min(b.cap, gate + releaseSamples(rel, b.sr));
}

/**
 * Linear attack to 1, exponential decay towards `sustain` while the gate is open, exponential release after it.
 */
function adsr(
  env: Float32Array,
  n: number,
  attack: number,
  decay: number,
  sustain: number,
  release: number,
  gate: number,
  sr: number,
): void {
  const a = Math.max(1, Math.round(attack * sr));
  const dc = tau(decay, sr);
  const rc = tau(release, sr);
  let lvl = 0;
  let i = 0;
  const aEnd = Math.min(a, gate, n);
  for (; i < aEnd; i++) {
    lvl = (i + 1) / a;
    env[i] = lvl;
  }
  const gEnd = Math.min(gate, n);
  for (; i < gEnd; i++) {
    lvl = sustain + (lvl - sustain) * dc;
    env[i] = lvl;
  }
  for (; i < n; i++) {
    lvl *= rc;
    env[i] = lvl;
  }
}

/** Adds `gain · env · table(phase)` for a detuned stack of oscillators. */
function stack(
  out: Float32Array,
  env: Float32Array,
  n: number,
  table: Float32Array,
  freq: number,
  sr: number,
  detunes: readonly number[],
  gain: number,
  phaseSeed: number,
): void {
  const g = gain / detunes.length;
  for (let k = 0; k < detunes.length; k++) {
    const inc = (freq * Math.pow(2, (detunes[k] as number) / 1200) * TABLE_SIZE) / sr;
    let ph = ((phaseSeed * (k + 1) * 0.618) % 1) * TABLE_SIZE;
    for (let i = 0; i < n; i++) {
      const idx = ph | 0;
      const a = table[idx] as number;
      out[i] = (out[i] as number) + (a + ((table[idx + 1] as number) - a) * (ph - idx)) * (env[i] as number) * g;
      ph += inc;
      if (ph >= TABLE_SIZE) ph -= TABLE_SIZE;
    }
  }
}

function clear(out: Float32Array, n: number): void {
  out.fill(0, 0, n);
}

/** Cheap saturator with unity slope at 0 and asymptote ±1. */
const sat = (x: number): number => x / (1 + Math.abs(x));

// ---------------------------------------------------------------------------------------------------------------
// Keys

/** Two-operator FM electric piano: the modulation index decays, so the bark softens into a bell-like sustain. */
export function rhodes(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out, env } = b;
  const rel = 0.08;
  const n = lengthFor(b, p.gate, rel);
  const decay = 1.8 * Math.pow(261 / p.freq, 0.35);
  adsr(env, n, 0.002, decay, 0, rel, p.gate, sr);
  const inc = (p.freq * TABLE_SIZE) / sr;
  let pc = 0;
  let pm = 0;
  let index = (0.8 + 1.6 * p.vel * (0.5 + p.brightness)) * RAD_TO_TABLE;
  const floor = 0.25 * RAD_TO_TABLE;
  const ic = tau(0.3, sr);
  const g = 0.5 * p.vel;
  for (let i = 0; i < n; i++) {
    const mi = pm | 0;
    const m = (SINE[mi] as number) + ((SINE[mi + 1] as number) - (SINE[mi] as number)) * (pm - mi);
    const ph = pc + (index + floor) * m + PHASE_BIAS;
    const ci = ph | 0;
    const t = ci & TABLE_MASK;
    const s = (SINE[t] as number) + ((SINE[t + 1] as number) - (SINE[t] as number)) * (ph - ci);
    out[i] = s * (env[i] as number) * g;
    index *= ic;
    pc += inc;
    if (pc >= TABLE_SIZE) pc -= TABLE_SIZE;
    pm += inc;
    if (pm >= TABLE_SIZE) pm -= TABLE_SIZE;
  }
  return n;
}

/**
 * Piano: two slightly detuned strings of a hammer-shaped spectrum, a two-stage decay (fast drop, long tail) and a
 * low-pass that closes as the note decays, plus a few ms of hammer noise.
 */
export function piano(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out, env } = b;
  const rel = 0.06;
  const n = lengthFor(b, p.gate, rel);
  const tail = Math.min(6, Math.max(0.8, 3.2 * Math.pow(261 / p.freq, 0.6)));
  // Envelope: 0.55·e^(-t/0.25) + 0.45·e^(-t/tail) while held, then the damper.
  const c1 = tau(0.25, sr);
  const c2 = tau(tail, sr);
  const rc = tau(rel, sr);
  let e1 = 0.55;
  let e2 = 0.45;
  let r = 1;
  const att = Math.round(0.002 * sr);
  for (let i = 0; i < n; i++) {
    const a = i < att ? (i + 1) / att : 1;
    env[i] = (e1 + e2) * a * r;
    e1 *= c1;
    e2 *= c2;
    if (i >= p.gate) r *= rc;
  }
  // Two strings a cent apart and a low-pass whose cutoff falls with time, in one pass.
  const table = wavetable('piano', p.freq * 1.01);
  const inc1 = (p.freq * Math.pow(2, -0.9 / 1200) * TABLE_SIZE) / sr;
  const inc2 = (p.freq * Math.pow(2, 0.9 / 1200) * TABLE_SIZE) / sr;
  let ph1 = ((p.seed >>> 0) % TABLE_SIZE) | 0;
  let ph2 = (ph1 + TABLE_SIZE / 3) % TABLE_SIZE;
  const gain = 0.275 * p.vel;
  let y = 0;
  let fc = p.freq * (6 + 18 * p.vel * (0.4 + p.brightness));
  const fEnd = p.freq * 3;
  const fcDecay = tau(0.35, sr / BLOCK);
  for (let i = 0; i < n; i += BLOCK) {
    const g = Math.min(1, (2 * Math.PI * fc) / sr);
    const end = Math.min(n, i + BLOCK);
    for (let j = i; j < end; j++) {
      const i1 = ph1 | 0;
      const i2 = ph2 | 0;
      const a1 = table[i1] as number;
      const a2 = table[i2] as number;
      const x =
        (a1 + ((table[i1 + 1] as number) - a1) * (ph1 - i1) + a2 + ((table[i2 + 1] as number) - a2) * (ph2 - i2)) *
        (env[j] as number) *
        gain;
      y += g * (x - y);
      out[j] = y;
      ph1 += inc1;
      if (ph1 >= TABLE_SIZE) ph1 -= TABLE_SIZE;
      ph2 += inc2;
      if (ph2 >= TABLE_SIZE) ph2 -= TABLE_SIZE;
    }
    fc = fEnd + (fc - fEnd) * fcDecay;
  }
  const noise = new Noise(p.seed);
  const hn = Math.min(n, Math.round(0.004 * sr));
  for (let i = 0; i < hn; i++) out[i] = (out[i] as number) + noise.next() * 0.06 * p.vel * (1 - i / hn);
  return n;
}

/** Drawbar organ with a slow amplitude wobble (a poor man's rotary speaker). */
export function organ(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out, env } = b;
  const rel = 0.04;
  const n = lengthFor(b, p.gate, rel);
  adsr(env, n, 0.006, 1, 1, rel, p.gate, sr);
  for (let i = 0; i < n; i++)
    env[i] = (env[i] as number) * (1 + 0.12 * (SINE[((i * 6.2 * TABLE_SIZE) / sr) & TABLE_MASK] as number));
  clear(out, n);
  stack(out, env, n, wavetable('organ', p.freq), p.freq, sr, [-2, 2], 0.32 * p.vel, p.seed / 4294967296);
  return n;
}

/** Clavinet: a bright, nasal, quickly damped string. */
export function clav(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out, env } = b;
  const rel = 0.03;
  const n = lengthFor(b, p.gate, rel);
  adsr(env, n, 0.001, 0.4, 0.3, rel, p.gate, sr);
  clear(out, n);
  stack(out, env, n, wavetable('clav', p.freq), p.freq, sr, [0], 0.4 * p.vel, p.seed / 4294967296);
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Plucked strings (Karplus–Strong)

function karplus(
  b: VoiceBuffers,
  out: Float32Array,
  n: number,
  freq: number,
  decaySec: number,
  brightness: number,
  seed: number,
  gain: number,
  damp: number,
  gate: number,
): void {
  const { sr, ks } = b;
  const period = sr / freq;
  const len = Math.min(ks.length - 2, Math.ceil(period) + 2);
  const noise = new Noise(seed);
  // Excitation: noise through a one-pole low-pass (softer picks are darker).
  let lp = 0;
  const g = 0.2 + 0.75 * brightness;
  for (let i = 0; i < len; i++) {
    lp += g * (noise.next() - lp);
    ks[i] = lp;
  }
  // Loss per round trip so the string falls by 1/e in decaySec; faster after note-off (palm/fret release).
  const loss = Math.exp(-1 / (freq * decaySec));
  const lossOff = Math.exp(-1 / (freq * damp));
  const delay = period - 0.5;
  let w = 0;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    let rp = w - delay;
    while (rp < 0) rp += len;
    const ri = rp | 0;
    const frac = rp - ri;
    const x0 = ks[ri] as number;
    const x1 = ks[ri + 1 === len ? 0 : ri + 1] as number;
    const x = x0 + (x1 - x0) * frac;
    const y = 0.5 * (x + prev) * (i < gate ? loss : lossOff);
    prev = x;
    ks[w] = y;
    out[i] = (out[i] as number) + y * gain;
    w++;
    if (w === len) w = 0;
  }
}

export function guitar(b: VoiceBuffers, p: VoiceNote): number {
  const n = Math.min(b.cap, p.gate + Math.round(0.25 * b.sr));
  clear(b.out, n);
  karplus(b, b.out, n, p.freq, 1.6, 0.35 + 0.4 * p.brightness, p.seed, 0.55 * p.vel, 0.05, p.gate);
  return n;
}

/** Power chord (root, fifth, octave) through a saturating amp and a speaker-ish low-pass. */
export function distortedGuitar(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out } = b;
  const n = Math.min(b.cap, p.gate + Math.round(0.12 * sr));
  clear(out, n);
  for (const [k, ratio] of [1, 1.4983, 2].entries()) {
    karplus(b, out, n, p.freq * ratio, 2.5, 0.8, p.seed + k * 7919, 1, 0.03, p.gate);
  }
  const drive = 6;
  let y1 = 0;
  let y2 = 0;
  const g = Math.min(1, (2 * Math.PI * 3200) / sr);
  for (let i = 0; i < n; i++) {
    const x = sat((out[i] as number) * drive);
    y1 += g * (x - y1);
    y2 += g * (y1 - y2);
    out[i] = y2 * 0.3 * p.vel;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------------
// Pads and strings

export function pad(b: VoiceBuffers, p: VoiceNote, dark: boolean): number {
  const { sr, out, env } = b;
  const rel = 0.35;
  const n = lengthFor(b, p.gate, rel);
  adsr(env, n, dark ? 0.6 : 0.35, 1.5, 0.8, rel, p.gate, sr);
  clear(out, n);
  stack(
    out,
    env,
    n,
    wavetable(dark ? 'saw' : 'soft', p.freq * 1.01),
    p.freq,
    sr,
    [-9, 8],
    0.3 * p.vel,
    p.seed / 4294967296,
  );
  const fc = dark ? 500 + 500 * p.brightness : 1400 + 2200 * p.brightness;
  onePole2(out, n, fc, sr);
  return n;
}

/** String section: saws with delayed vibrato, slow bow attack, two-pole low-pass. */
export function strings(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out, env } = b;
  // Short notes are bowed short (spiccato): quick attack, quick release.
  const short = p.gate < 0.3 * sr;
  const rel = short ? 0.08 : 0.35;
  const n = lengthFor(b, p.gate, rel);
  adsr(env, n, short ? 0.02 : 0.22, 1, 0.85, rel, p.gate, sr);
  clear(out, n);
  const table = wavetable('saw', p.freq * 1.02);
  const detunes = [-7, 6];
  for (let k = 0; k < detunes.length; k++) {
    const base = (p.freq * Math.pow(2, (detunes[k] as number) / 1200) * TABLE_SIZE) / sr;
    let ph = (((p.seed >>> 0) * (k + 1) * 0.37) % 1) * TABLE_SIZE;
    let lfo = k * 300;
    const lfoInc = ((5.2 + k * 0.3) * TABLE_SIZE * BLOCK) / sr;
    for (let i = 0; i < n; i += BLOCK) {
      const depth = Math.min(1, i / (0.35 * sr)) * 0.0035;
      const inc = base * (1 + depth * (SINE[(lfo | 0) & TABLE_MASK] as number));
      lfo += lfoInc;
      const end = Math.min(n, i + BLOCK);
      for (let j = i; j < end; j++) {
        const idx = ph | 0;
        const a = table[idx] as number;
        out[j] =
          (out[j] as number) + (a + ((table[idx + 1] as number) - a) * (ph - idx)) * (env[j] as number) * 0.1 * p.vel;
        ph += inc;
        if (ph >= TABLE_SIZE) ph -= TABLE_SIZE;
      }
    }
  }
  onePole2(out, n, 2200 + 2500 * p.brightness, sr);
  return n;
}

/** Sung vowel with vibrato: the choir pad and the non-instrumental lead. */
export function voice(b: VoiceBuffers, p: VoiceNote, attack: number, gain: number): number {
  const { sr, out, env } = b;
  const rel = 0.18;
  const n = lengthFor(b, p.gate, rel);
  adsr(env, n, attack, 1, 0.9, rel, p.gate, sr);
  clear(out, n);
  const table = vowelTable(p.midi);
  const base = (p.freq * TABLE_SIZE) / sr;
  let ph = 0;
  let lfo = 0;
  const lfoInc = (5.4 * TABLE_SIZE * BLOCK) / sr;
  for (let i = 0; i < n; i += BLOCK) {
    const depth = Math.min(1, i / (0.3 * sr)) * 0.006;
    const inc = base * (1 + depth * (SINE[(lfo | 0) & TABLE_MASK] as number));
    lfo += lfoInc;
    const end = Math.min(n, i + BLOCK);
    for (let j = i; j < end; j++) {
      const idx = ph | 0;
      const a = table[idx] as number;
      out[j] = (a + ((table[idx + 1] as number) - a) * (ph - idx)) * (env[j] as number) * gain * p.vel;
      ph += inc;
      if (ph >= TABLE_SIZE) ph -= TABLE_SIZE;
    }
  }
  return n;
}

/** Two cascaded one-pole low-passes (12 dB/oct) at a fixed cutoff. */
function onePole2(out: Float32Array, n: number, fc: number, sr: number): void {
  const g = 1 - Math.exp((-2 * Math.PI * fc) / sr);
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < n; i++) {
    y1 += g * ((out[i] as number) - y1);
    y2 += g * (y1 - y2);
    out[i] = y2;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Filtered oscillators: bass and leads

interface FilterSpec {
  /** Cutoff as a multiple of the note's frequency: start, end, and the decay from one to the other (s). */
  from: number;
  to: number;
  decay: number;
  /** 1/Q of the state-variable filter. */
  damping: number;
  /** Rise time of the cutoff in seconds (brass swell); 0 = starts open. */
  rise?: number;
}

/**
 * Oscillators (a detuned stack of one wave) through a Chamberlin state-variable low-pass whose cutoff follows an
 * envelope; optional vibrato. The SVF coefficient is refreshed once per block.
 */
function filteredOsc(
  b: VoiceBuffers,
  p: VoiceNote,
  wave: WaveName,
  detunes: readonly number[],
  f: FilterSpec,
  amp: { attack: number; decay: number; sustain: number; release: number },
  gain: number,
  vibrato: number,
): number {
  const { sr, out, env } = b;
  const n = lengthFor(b, p.gate, amp.release);
  adsr(env, n, amp.attack, amp.decay, amp.sustain, amp.release, p.gate, sr);
  clear(out, n);
  const table = wavetable(wave, p.freq * 1.03);
  const g = gain / detunes.length;
  const phases = detunes.map((_, k) => (((p.seed >>> 0) * (k + 1) * 0.618) % 1) * TABLE_SIZE);
  const incs = detunes.map((d) => (p.freq * Math.pow(2, d / 1200) * TABLE_SIZE) / sr);
  let low = 0;
  let band = 0;
  let lfo = 0;
  const lfoInc = (5.5 * TABLE_SIZE * BLOCK) / sr;
  const maxFc = 0.16 * sr;
  const blockDecay = tau(f.decay, sr / BLOCK);
  let cut = f.from;
  for (let i = 0; i < n; i += BLOCK) {
    const t = i / sr;
    const rise = f.rise ? Math.min(1, t / f.rise) : 1;
    const fc = Math.min(maxFc, p.freq * (f.to + (cut - f.to) * rise) + 40);
    cut = f.to + (cut - f.to) * blockDecay;
    const fcoef = 2 * (SINE[Math.round((fc / sr) * 0.5 * TABLE_SIZE) & TABLE_MASK] as number);
    const vib = vibrato > 0 ? 1 + vibrato * Math.min(1, t / 0.3) * (SINE[(lfo | 0) & TABLE_MASK] as number) : 1;
    lfo += lfoInc;
    const end = Math.min(n, i + BLOCK);
    for (let k = 0; k < detunes.length; k++) {
      let ph = phases[k] as number;
      const inc = (incs[k] as number) * vib;
      for (let j = i; j < end; j++) {
        const idx = ph | 0;
        const a = table[idx] as number;
        out[j] = (out[j] as number) + (a + ((table[idx + 1] as number) - a) * (ph - idx)) * g;
        ph += inc;
        if (ph >= TABLE_SIZE) ph -= TABLE_SIZE;
      }
      phases[k] = ph;
    }
    for (let j = i; j < end; j++) {
      low += fcoef * band;
      const high = (out[j] as number) - low - f.damping * band;
      band += fcoef * high;
      out[j] = low * (env[j] as number);
    }
  }
  return n;
}

export function synthBass(b: VoiceBuffers, p: VoiceNote): number {
  const n = filteredOsc(
    b,
    p,
    'saw',
    [0],
    { from: 4 + 10 * p.brightness * p.vel, to: 2.2, decay: 0.12, damping: 0.9 },
    { attack: 0.003, decay: 0.4, sustain: 0.8, release: 0.03 },
    0.55 * p.vel,
    0,
  );
  addSub(b, p, n, 0.3);
  return n;
}

export function acidBass(b: VoiceBuffers, p: VoiceNote): number {
  const accent = (p.seed & 3) === 0 ? 1.6 : 1;
  return filteredOsc(
    b,
    p,
    'saw',
    [0],
    { from: (6 + 14 * p.brightness) * accent, to: 1.5, decay: 0.09, damping: 0.22 },
    { attack: 0.002, decay: 0.2, sustain: 0.6, release: 0.02 },
    0.45 * p.vel,
    0,
  );
}

export function electricBass(b: VoiceBuffers, p: VoiceNote): number {
  const n = filteredOsc(
    b,
    p,
    'saw',
    [0],
    { from: 8 * (0.5 + p.brightness), to: 2.5, decay: 0.2, damping: 1.2 },
    { attack: 0.002, decay: 0.9, sustain: 0.45, release: 0.04 },
    0.6 * p.vel,
    0,
  );
  addSub(b, p, n, 0.25);
  return n;
}

/** Upright bass: a round, quickly decaying tone with the finger's thump at the start. */
export function uprightBass(b: VoiceBuffers, p: VoiceNote): number {
  const n = filteredOsc(
    b,
    p,
    'triangle',
    [0],
    { from: 8, to: 2, decay: 0.06, damping: 1.1 },
    { attack: 0.002, decay: 0.45, sustain: 0.25, release: 0.06 },
    0.85 * p.vel,
    0,
  );
  const noise = new Noise(p.seed);
  const thump = Math.min(n, Math.round(0.012 * b.sr));
  let lp = 0;
  for (let i = 0; i < thump; i++) {
    lp += 0.15 * (noise.next() - lp);
    b.out[i] = (b.out[i] as number) + lp * 0.6 * p.vel * (1 - i / thump);
  }
  return n;
}

export function reeseBass(b: VoiceBuffers, p: VoiceNote): number {
  const n = filteredOsc(
    b,
    p,
    'saw',
    [-14, 14],
    { from: 6, to: 4, decay: 0.3, damping: 1 },
    { attack: 0.01, decay: 1, sustain: 0.9, release: 0.05 },
    0.45 * p.vel,
    0,
  );
  addSub(b, p, n, 0.4);
  return n;
}

/** Sub bass: a near-sine, felt more than heard. */
export function subBass(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out, env } = b;
  const rel = 0.06;
  const n = lengthFor(b, p.gate, rel);
  adsr(env, n, 0.008, 1, 0.95, rel, p.gate, sr);
  clear(out, n);
  stack(out, env, n, wavetable('sub', p.freq), p.freq, sr, [0], 0.75 * p.vel, 0);
  return n;
}

/** 808: a sine whose pitch drops onto the note, saturated for harmonics a small speaker can play. */
export function bass808(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out, env } = b;
  const rel = 0.05;
  const n = lengthFor(b, p.gate, rel);
  adsr(env, n, 0.001, 1.4, 0.25, rel, p.gate, sr);
  const base = (p.freq * TABLE_SIZE) / sr;
  let ph = 0;
  let bend = 1;
  const bc = tau(0.03, sr);
  for (let i = 0; i < n; i++) {
    const idx = ph | 0;
    const s = (SINE[idx] as number) + ((SINE[idx + 1] as number) - (SINE[idx] as number)) * (ph - idx);
    out[i] = sat(s * 2.2) * 0.9 * (env[i] as number) * p.vel;
    ph += base * (1 + bend);
    if (ph >= TABLE_SIZE) ph -= TABLE_SIZE;
    bend *= bc;
  }
  return n;
}

function addSub(b: VoiceBuffers, p: VoiceNote, n: number, gain: number): void {
  const { sr, out, env } = b;
  const inc = (p.freq * TABLE_SIZE) / sr;
  let ph = 0;
  for (let i = 0; i < n; i++) {
    const idx = ph | 0;
    out[i] = (out[i] as number) + (SINE[idx] as number) * (env[i] as number) * gain * p.vel;
    ph += inc;
    if (ph >= TABLE_SIZE) ph -= TABLE_SIZE;
  }
}

export function sawLead(b: VoiceBuffers, p: VoiceNote): number {
  return filteredOsc(
    b,
    p,
    'saw',
    [-6, 6],
    { from: 3 + 6 * p.brightness, to: 2.5 + 3 * p.brightness, decay: 0.25, damping: 0.7 },
    { attack: 0.008, decay: 0.5, sustain: 0.75, release: 0.08 },
    0.4 * p.vel,
    0.004,
  );
}

export function squareLead(b: VoiceBuffers, p: VoiceNote): number {
  return filteredOsc(
    b,
    p,
    'square',
    [0, 4],
    { from: 5, to: 3 + 2 * p.brightness, decay: 0.2, damping: 1 },
    { attack: 0.005, decay: 0.4, sustain: 0.7, release: 0.06 },
    0.32 * p.vel,
    0.004,
  );
}

export function brass(b: VoiceBuffers, p: VoiceNote): number {
  return filteredOsc(
    b,
    p,
    'saw',
    [-5, 5],
    { from: 6, to: 3.5, decay: 0.4, damping: 0.9, rise: 0.07 },
    { attack: 0.03, decay: 0.6, sustain: 0.8, release: 0.08 },
    0.38 * p.vel,
    0.003,
  );
}

export function pluck(b: VoiceBuffers, p: VoiceNote): number {
  return filteredOsc(
    b,
    p,
    'saw',
    [-4, 4],
    { from: 10 + 10 * p.brightness, to: 1.2, decay: 0.07, damping: 0.8 },
    { attack: 0.002, decay: 0.3, sustain: 0, release: 0.04 },
    0.5 * p.vel,
    0,
  );
}

export function flute(b: VoiceBuffers, p: VoiceNote): number {
  const n = filteredOsc(
    b,
    p,
    'triangle',
    [0],
    { from: 6, to: 6, decay: 1, damping: 1.4 },
    { attack: 0.06, decay: 1, sustain: 0.9, release: 0.08 },
    0.5 * p.vel,
    0.005,
  );
  const noise = new Noise(p.seed);
  const { out, env } = b;
  let lp = 0;
  for (let i = 0; i < n; i++) {
    lp += 0.3 * (noise.next() - lp);
    out[i] = (out[i] as number) + lp * 0.025 * (env[i] as number) * p.vel;
  }
  return n;
}

/** FM bell (harmonic 1:4 ratio so it stays in key), long decay; the index falls faster than the amplitude. */
export function bells(b: VoiceBuffers, p: VoiceNote): number {
  const { sr, out, env } = b;
  const rel = 0.3;
  const n = lengthFor(b, p.gate, rel);
  adsr(env, n, 0.001, 1.1, 0, rel, p.gate, sr);
  const inc = (p.freq * TABLE_SIZE) / sr;
  let pc = 0;
  let pm = 0;
  let index = (1.2 + 1.2 * p.vel) * RAD_TO_TABLE;
  const ic = tau(0.25, sr);
  for (let i = 0; i < n; i++) {
    const mi = pm | 0;
    const m = SINE[mi] as number;
    const ph = pc + index * m + PHASE_BIAS;
    const t = (ph | 0) & TABLE_MASK;
    out[i] = (SINE[t] as number) * (env[i] as number) * 0.35 * p.vel;
    index *= ic;
    pc += inc;
    if (pc >= TABLE_SIZE) pc -= TABLE_SIZE;
    pm += inc * 4;
    if (pm >= TABLE_SIZE) pm -= TABLE_SIZE;
  }
  return n;
}
