/**
 * The renderer: plan → arrangement → voices → mix → master, as stereo float PCM at 44.1 kHz.
 *
 * Determinism and partial renders: bars are grouped into chunks of a few seconds. Everything that originates in a
 * chunk — its notes, their echoes, and the chunk's reverb (run from a cleared state) — is a pure function of the
 * chunk and is confined to [chunk start, chunk end + spill). A sample's value is therefore the sum of the
 * contributions of the few chunks that reach it, added in the same order whether the render starts at bar 0 or at
 * `startBar`. The master stage's limiter computes each bar's gain from a fixed span of audio around the bar (see
 * limiter.ts), which a partial render also mixes (it starts one bar early and drops that bar); the rest of the
 * master stage (fade, soft clip) is per-sample. So rendering from `startBar` yields exactly the same bytes as the
 * corresponding part of the full render.
 */
import { AppError } from '@dawg/shared';
import { arrangeBar, chordsPerBar, type DrumPart, isDrum, type NoteEvent, STEPS_PER_BAR } from './arrangement';
import { buildKit, DRUM_GAINS, DRUM_PANS, type Kit } from './drums';
import { sectionAt, type SectionSpan } from './form';
import { limiterGain, limiterSpec, limiterWork } from './limiter';
import { type Instruments, resolvePlan, type SongPlan, type SynthRequest } from './params';
import { Reverb } from './reverb';
import { mixSeed, Noise } from './rng';
import { warmTables } from './tables';
import { midiToHz, type ScaleName } from './theory';
import * as V from './voices';

export const SAMPLE_RATE = 44100;

export interface RenderMeta {
  bpm: number;
  key: string;
  scale: ScaleName;
  genre: SongPlan['genre'];
  mood: SongPlan['mood'];
  /** Bars in the whole song. */
  bars: number;
  barDurationSec: number;
  /** Chord name of every bar of the whole song. */
  chordsPerBar: string[];
  sections: (SectionSpan & { startSec: number })[];
  instruments: Instruments;
  drumStyle: SongPlan['drumStyle'];
  /** First bar in this render (0 unless `startBar` was given) and where it sits in the song. */
  startBar: number;
  startSec: number;
  /** Length of the whole song in seconds (the render covers startSec..durationSec). */
  durationSec: number;
  seed: number;
  variant: 0 | 1;
}

export interface RenderResult {
  sampleRate: typeof SAMPLE_RATE;
  left: Float32Array;
  right: Float32Array;
  meta: RenderMeta;
}

/**
 * How far past its chunk anything may ring: note releases, echoes, the reverb tail. Longer than any voice (the
 * longest gate is two bars plus a pad's release), so the bound never truncates a sound; it only bounds the work.
 */
function spillSeconds(plan: SongPlan): number {
  return Math.max(4, 2 * plan.barSec + 2.5);
}

/**
 * A tonal part's chunk-local bus: two mono buffers (even and odd voices of a chord, panned apart) and how they
 * enter the mix.
 */
interface Bus {
  a: Float32Array;
  b: Float32Array;
  /** One past the last index written in this chunk. */
  used: number;
  /** Whether any odd voice was written (chords, pads); bass and leads only use `a`. */
  pair: boolean;
  glA: number;
  grA: number;
  glB: number;
  grB: number;
  send: number;
  ducked: boolean;
  /** Dotted-eighth ping-pong echo (leads). */
  echo: boolean;
}

interface Mixer {
  sr: number;
  plan: SongPlan;
  kit: Kit | null;
  total: number;
  winStart: number;
  left: Float32Array;
  right: Float32Array;
  duck: Float32Array | null;
  send: Float32Array;
  /** One past the last send index written in this chunk. */
  sendUsed: number;
  chunkStart: number;
  buffers: V.VoiceBuffers;
  /** Voice renderer per tonal part and per-part bus list (two per part: even and odd chord voices). */
  parts: Partial<Record<TonalPartId, PartMix>>;
  buses: Partial<Record<TonalPartId, Bus>>;
  voices: Map<string, RenderedVoice>;
  arena: Float32Array;
  arenaUsed: number;
}

type TonalPartId = 'bass' | 'chords' | 'pad' | 'lead';

const panGains = (pan: number): [number, number] => {
  const a = ((pan + 1) * Math.PI) / 4;
  return [Math.cos(a), Math.sin(a)];
};

/** Adds a one-shot at absolute sample `at` to the dry mix (clipped to the render window) and the chunk's send. */
function placeDrum(m: Mixer, src: Float32Array, n: number, at: number, gain: number, pan: number, send: number): void {
  const [pl, pr] = panGains(pan);
  const gl = pl * gain;
  const gr = pr * gain;
  const off = at - m.winStart;
  const i0 = Math.max(0, -off);
  const i1 = Math.min(n, m.total - at);
  const { left, right } = m;
  for (let i = i0; i < i1; i++) {
    const s = src[i] as number;
    left[off + i] = (left[off + i] as number) + s * gl;
    right[off + i] = (right[off + i] as number) + s * gr;
  }
  if (send > 0) {
    const sOff = at - m.chunkStart;
    const sg = send * gain;
    const sEnd = Math.min(n, m.send.length - sOff);
    for (let i = Math.max(0, -sOff); i < sEnd; i++)
      m.send[sOff + i] = (m.send[sOff + i] as number) + (src[i] as number) * sg;
    if (sOff + sEnd > m.sendUsed) m.sendUsed = sOff + sEnd;
  }
}

/**
 * Adds `gain · src[0..n)` to a part bus (its odd-voice side when `odd`) at absolute sample `at`, fading the last
 * `fadeN` samples (a voice's release is cut at about -43 dB, or a restrike cuts it).
 */
function addToBus(
  m: Mixer,
  bus: Bus,
  odd: boolean,
  src: Float32Array,
  n: number,
  at: number,
  gain: number,
  fadeN: number,
): void {
  const buf = odd ? bus.b : bus.a;
  if (odd) bus.pair = true;
  const off = at - m.chunkStart;
  const i0 = Math.max(0, -off);
  const i1 = Math.min(n, buf.length - off);
  const fadeFrom = n - fadeN;
  const body = Math.min(i1, fadeFrom);
  for (let i = i0; i < body; i++) buf[off + i] = (buf[off + i] as number) + (src[i] as number) * gain;
  for (let i = Math.max(i0, fadeFrom); i < i1; i++) {
    buf[off + i] = (buf[off + i] as number) + (src[i] as number) * gain * ((n - i) / fadeN);
  }
  if (off + i1 > bus.used) bus.used = off + i1;
}

/**
 * Adds `gain · src[0..n)` (faded over its last `fadeN` samples) straight into the render window, panned like the
 * bus's even or odd side and ducked if the bus is, and into the chunk's reverb send. Parts without echoes take this
 * path: writing each voice once is cheaper than summing it into a bus and mixing the bus afterwards.
 */
function placeVoice(
  m: Mixer,
  bus: Bus,
  odd: boolean,
  src: Float32Array,
  n: number,
  at: number,
  gain: number,
  fadeN: number,
): void {
  const gl = (odd ? bus.glB : bus.glA) * gain;
  const gr = (odd ? bus.grB : bus.grA) * gain;
  const sg = bus.send * gain;
  const fadeFrom = n - fadeN;
  const off = at - m.winStart;
  const sOff = at - m.chunkStart;
  const sBuf = m.send;
  const i0 = Math.max(0, -off);
  const i1 = Math.min(n, m.total - at);
  const s0 = Math.max(0, -sOff);
  const s1 = Math.min(n, sBuf.length - sOff);
  const { left, right } = m;
  const duck = bus.ducked ? m.duck : null;
  // The send covers the voice from its start (also before the window); the dry mix only inside the window.
  const sBody = Math.min(s1, fadeFrom);
  for (let i = s0; i < Math.min(sBody, i0); i++) sBuf[sOff + i] = (sBuf[sOff + i] as number) + (src[i] as number) * sg;
  const body = Math.min(i1, fadeFrom, s1);
  if (duck) {
    for (let i = Math.max(i0, s0); i < body; i++) {
      const x = src[i] as number;
      sBuf[sOff + i] = (sBuf[sOff + i] as number) + x * sg;
      const y = x * (duck[off + i] as number);
      left[off + i] = (left[off + i] as number) + y * gl;
      right[off + i] = (right[off + i] as number) + y * gr;
    }
  } else {
    for (let i = Math.max(i0, s0); i < body; i++) {
      const x = src[i] as number;
      sBuf[sOff + i] = (sBuf[sOff + i] as number) + x * sg;
      left[off + i] = (left[off + i] as number) + x * gl;
      right[off + i] = (right[off + i] as number) + x * gr;
    }
  }
  // The rest: the fade-out, and any part of the window past the send buffer (never, by the spill bound).
  for (let i = Math.max(s0, body, Math.min(sBody, i0)); i < Math.max(s1, i1); i++) {
    const x = (src[i] as number) * (i < fadeFrom ? 1 : (n - i) / fadeN);
    if (i < s1) sBuf[sOff + i] = (sBuf[sOff + i] as number) + x * sg;
    if (i >= i0 && i < i1) {
      const y = duck ? x * (duck[off + i] as number) : x;
      left[off + i] = (left[off + i] as number) + y * gl;
      right[off + i] = (right[off + i] as number) + y * gr;
    }
  }
  if (sOff + s1 > m.sendUsed) m.sendUsed = sOff + s1;
}

interface RenderedVoice {
  samples: Float32Array;
  /** The velocity it was rendered at; louder or softer hits scale it. */
  vel: number;
}

/** Samples of rendered voices kept per render (~16 MB); when full, the cache starts over. */
const VOICE_ARENA = 4 * 1024 * 1024;

/**
 * A note's sound. Voices are pure functions of (part, pitch, quantised velocity, gate), and grooves repeat the same
 * notes bar after bar, so each render keeps them and reuses them: the result is bit-identical to rendering again,
 * at a fraction of the cost. The cache lives for one render only.
 */
function voiceFor(m: Mixer, part: TonalPartId, mix: PartMix, e: NoteEvent, gate: number): RenderedVoice {
  const vel = Math.max(1, Math.round(e.vel * 12)) / 12;
  const key = `${part}|${e.midi}|${vel}|${gate}`;
  const hit = m.voices.get(key);
  if (hit) return hit;
  const b = m.buffers;
  b.cap = b.out.length;
  const note: V.VoiceNote = {
    freq: midiToHz(e.midi),
    midi: e.midi,
    vel,
    gate: Math.min(b.cap, gate),
    seed: mixSeed(m.plan.seed, 'voice', key),
    brightness: m.plan.brightness,
  };
  const n = mix.render(b, note);
  // Cached voices live in one reused arena (no per-note allocation for the collector to chase).
  if (m.arenaUsed + n > m.arena.length) {
    m.voices.clear();
    m.arenaUsed = 0;
  }
  const samples = m.arena.subarray(m.arenaUsed, m.arenaUsed + n);
  samples.set(b.out.subarray(0, n));
  m.arenaUsed += n;
  const rendered = { samples, vel };
  m.voices.set(key, rendered);
  return rendered;
}

/**
 * Mixes a chunk's bus into the dry mix (with side-chain ducking and echoes) and the reverb send, and clears it, in
 * one pass: the send covers the whole chunk (the reverb needs what precedes the window too), the dry mix only the
 * render window.
 */
function flushBus(m: Mixer, bus: Bus, echoDelay: number): void {
  const { a, b, glA, grA, glB, grB, send } = bus;
  const used = Math.min(a.length, bus.used + (bus.echo ? 2 * echoDelay : 0));
  if (used === 0) return;
  const off = m.chunkStart - m.winStart;
  const i0 = Math.min(used, Math.max(0, -off));
  const i1 = Math.max(i0, Math.min(used, m.total - m.chunkStart));
  const { left, right } = m;
  const duck = bus.ducked ? m.duck : null;
  const sendBuf = m.send;
  if (used > m.sendUsed) m.sendUsed = used;
  if (bus.echo) {
    // Two taps, left then right, a dotted eighth apart (before the bus is cleared below).
    const level = 0.5 * (glA + grA);
    const taps: [number, number, number][] = [
      [echoDelay, 0.34 * level, -0.7],
      [2 * echoDelay, 0.14 * level, 0.7],
    ];
    for (const [d, g, pan] of taps) {
      const [pl, pr] = panGains(pan);
      for (let i = Math.max(i0, d); i < i1; i++) {
        const x = (a[i - d] as number) * g;
        left[off + i] = (left[off + i] as number) + x * pl;
        right[off + i] = (right[off + i] as number) + x * pr;
      }
    }
  }
  const sendOnly = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      sendBuf[i] = (sendBuf[i] as number) + ((a[i] as number) + (b[i] as number)) * send;
      a[i] = 0;
      b[i] = 0;
    }
  };
  sendOnly(0, i0);
  if (!bus.pair && !duck) {
    for (let i = i0; i < i1; i++) {
      const x = a[i] as number;
      sendBuf[i] = (sendBuf[i] as number) + x * send;
      left[off + i] = (left[off + i] as number) + x * glA;
      right[off + i] = (right[off + i] as number) + x * grA;
      a[i] = 0;
    }
  } else {
    for (let i = i0; i < i1; i++) {
      const xa = a[i] as number;
      const xb = b[i] as number;
      const d = duck ? (duck[off + i] as number) : 1;
      sendBuf[i] = (sendBuf[i] as number) + (xa + xb) * send;
      left[off + i] = (left[off + i] as number) + (xa * glA + xb * glB) * d;
      right[off + i] = (right[off + i] as number) + (xa * grA + xb * grB) * d;
      a[i] = 0;
      b[i] = 0;
    }
  }
  sendOnly(i1, used);
  bus.used = 0;
  bus.pair = false;
}

function chordVoice(sound: Instruments['chords']): (b: V.VoiceBuffers, p: V.VoiceNote) => number {
  switch (sound) {
    case 'piano':
      return V.piano;
    case 'rhodes':
      return V.rhodes;
    case 'organ':
      return V.organ;
    case 'guitar':
      return V.guitar;
    case 'distorted-guitar':
      return V.distortedGuitar;
    case 'strings':
      return V.strings;
    case 'pluck':
      return V.pluck;
    case 'clav':
      return V.clav;
    case 'pad':
      return (b, p) => V.pad(b, p, false);
  }
}

function padVoice(sound: NonNullable<Instruments['pad']>): (b: V.VoiceBuffers, p: V.VoiceNote) => number {
  switch (sound) {
    case 'warm-pad':
      return (b, p) => V.pad(b, p, false);
    case 'dark-pad':
      return (b, p) => V.pad(b, p, true);
    case 'strings':
      return V.strings;
    case 'choir':
      return (b, p) => V.voice(b, p, 0.25, 0.22);
  }
}

function leadVoice(sound: NonNullable<Instruments['lead']>): (b: V.VoiceBuffers, p: V.VoiceNote) => number {
  switch (sound) {
    case 'saw-lead':
      return V.sawLead;
    case 'square-lead':
      return V.squareLead;
    case 'bells':
      return V.bells;
    case 'pluck':
      return V.pluck;
    case 'flute':
      return V.flute;
    case 'piano':
      return V.piano;
    case 'rhodes':
      return V.rhodes;
    case 'vocal':
      return (b, p) => V.voice(b, p, 0.06, 0.5);
    case 'brass':
      return V.brass;
  }
}

function bassVoice(sound: NonNullable<Instruments['bass']>): (b: V.VoiceBuffers, p: V.VoiceNote) => number {
  switch (sound) {
    case 'synth':
      return V.synthBass;
    case 'sub':
      return V.subBass;
    case '808':
      return V.bass808;
    case 'upright':
      return V.uprightBass;
    case 'electric':
      return V.electricBass;
    case 'reese':
      return V.reeseBass;
    case 'acid':
      return V.acidBass;
  }
}

/** Mix levels, balanced by measuring each part's RMS against the full mix across genres. */
const CHORD_GAIN: Record<Instruments['chords'], number> = {
  piano: 0.6,
  rhodes: 0.55,
  organ: 0.75,
  guitar: 0.6,
  'distorted-guitar': 0.55,
  strings: 0.9,
  pluck: 0.6,
  clav: 0.8,
  pad: 0.45,
};

const BASS_GAIN: Record<NonNullable<Instruments['bass']>, number> = {
  synth: 0.6,
  sub: 0.4,
  '808': 0.6,
  upright: 0.45,
  electric: 0.7,
  reese: 0.6,
  acid: 0.85,
};

const LEAD_GAIN: Record<NonNullable<Instruments['lead']>, number> = {
  'saw-lead': 0.7,
  'square-lead': 0.8,
  bells: 0.75,
  pluck: 0.75,
  flute: 0.55,
  piano: 0.7,
  vocal: 0.6,
  brass: 0.75,
  rhodes: 0.7,
};

/** Drum bus level per style: brushed jazz kits, dusty lofi kits and one-drop rims are quiet by nature. */
const DRUM_STYLE_GAIN: Partial<Record<SongPlan['drumStyle'], number>> = {
  lofi: 1.6,
  jazz: 2.2,
  'one-drop': 1.8,
  funk: 1.2,
};

interface PartMix {
  render: (b: V.VoiceBuffers, p: V.VoiceNote) => number;
  gain: number;
  send: number;
  ducked: boolean;
  /** Pan of voice 0 and the spread between a chord's voices. */
  pan: number;
  spread: number;
  echo: boolean;
}

function partMixes(plan: SongPlan, only?: readonly PartGroup[]): Partial<Record<TonalPartId, PartMix>> {
  const out = allPartMixes(plan);
  if (only) for (const part of Object.keys(out) as TonalPartId[]) if (!only.includes(part)) delete out[part];
  return out;
}

function allPartMixes(plan: SongPlan): Partial<Record<TonalPartId, PartMix>> {
  const i = plan.instruments;
  const r = plan.reverb;
  const out: Partial<Record<'bass' | 'chords' | 'pad' | 'lead', PartMix>> = {
    chords: {
      render: chordVoice(i.chords),
      gain: CHORD_GAIN[i.chords],
      send: 0.15 + 0.4 * r,
      ducked: i.chords === 'pad',
      pan: 0,
      spread: 0.22,
      echo: false,
    },
  };
  if (i.bass)
    out.bass = {
      render: bassVoice(i.bass),
      gain: BASS_GAIN[i.bass],
      send: 0.02,
      ducked: true,
      pan: 0,
      spread: 0,
      echo: false,
    };
  if (i.pad)
    out.pad = {
      render: padVoice(i.pad),
      gain: 0.32,
      send: 0.3 + 0.5 * r,
      ducked: true,
      pan: 0,
      spread: 0.45,
      echo: false,
    };
  if (i.lead) {
    const sustained = i.lead !== 'piano' && i.lead !== 'bells' && i.lead !== 'rhodes';
    out.lead = {
      render: leadVoice(i.lead),
      gain: LEAD_GAIN[i.lead],
      send: 0.2 + 0.4 * r,
      ducked: false,
      pan: 0.05,
      spread: 0,
      echo: sustained || i.lead === 'bells',
    };
  }
  return out;
}

function eventTime(plan: SongPlan, bar: number, e: NoteEvent): number {
  const stepSec = plan.barSec / STEPS_PER_BAR;
  let t = bar * plan.barSec + e.step * stepSec + e.nudgeMs / 1000;
  // Swing delays the off-beat 16ths; capped so a groove stays tight at slow tempi.
  if (plan.swing > 0 && Number.isInteger(e.step) && e.step % 2 === 1) t += Math.min(plan.swing * stepSec, 0.018);
  return Math.max(0, t);
}

function renderBar(m: Mixer, bar: number, limit: number): void {
  const { plan, sr } = m;
  const { events } = arrangeBar(plan, bar);
  const stepSamples = (plan.barSec / STEPS_PER_BAR) * sr;
  const fade = Math.round(0.012 * sr);
  for (let idx = 0; idx < events.length; idx++) {
    const e = events[idx] as NoteEvent;
    const at = Math.round(eventTime(plan, bar, e) * sr);
    if (at >= m.total || at >= limit) continue;
    if (isDrum(e.part)) {
      if (!m.kit) continue;
      const variants = m.kit[e.part as DrumPart];
      const sample = variants[mixSeed(plan.seed, bar, idx) % variants.length] as Float32Array;
      const n = Math.min(sample.length, limit - at);
      // Only the mid-range hits go to the reverb; kicks and cymbals would only muddy it.
      const send = e.part === 'snare' || e.part === 'clap' || e.part === 'tom' || e.part === 'rim' ? 0.25 : 0;
      const level = DRUM_GAINS[e.part as DrumPart] * (DRUM_STYLE_GAIN[plan.drumStyle] ?? 1) * e.vel;
      placeDrum(m, sample, n, at, level, DRUM_PANS[e.part as DrumPart], send * (0.5 + plan.reverb));
      continue;
    }
    const part = e.part as TonalPartId;
    const mix = m.parts[part];
    const bus = m.buses[part];
    if (!mix || !bus) continue;
    // A key struck again cuts its previous sound (one voice per part and pitch), with a short fade.
    const again = restrikeStep(events, idx);
    const cut = again === null ? Infinity : Math.round((again - e.step) * stepSamples) + fade;
    const sound = voiceFor(m, part, mix, e, Math.max(1, Math.round(e.len * stepSamples)));
    const n = Math.min(sound.samples.length, limit - at, cut);
    const place = bus.echo ? addToBus : placeVoice;
    place(m, bus, e.voice % 2 === 1, sound.samples, n, at, e.vel / sound.vel, Math.min(fade, n >> 2));
  }
  if (plan.instruments.vinyl && m.kit) vinyl(m, bar);
}

/** Step of the next event of the same part and pitch in the bar, or null. */
function restrikeStep(events: NoteEvent[], idx: number): number | null {
  const e = events[idx] as NoteEvent;
  let best: number | null = null;
  for (let j = 0; j < events.length; j++) {
    const o = events[j] as NoteEvent;
    if (o.part === e.part && o.midi === e.midi && o.step > e.step && (best === null || o.step < best)) best = o.step;
  }
  return best;
}

/** Vinyl hiss and sparse crackle for one bar, seeded by the bar. */
function vinyl(m: Mixer, bar: number): void {
  const { plan, sr } = m;
  const from = Math.round(bar * plan.barSec * sr);
  const to = Math.min(m.total, Math.round((bar + 1) * plan.barSec * sr));
  const noise = new Noise(mixSeed(plan.seed, 'vinyl', bar));
  let lp = 0;
  for (let a = from; a < to; a++) {
    const o = a - m.winStart;
    lp += 0.08 * (noise.next() - lp);
    const pop = noise.next() > 0.9997 ? noise.next() * 0.02 : 0;
    if (o < 0) continue;
    const v = lp * 0.012 + pop;
    m.left[o] = (m.left[o] as number) + v;
    m.right[o] = (m.right[o] as number) + v * 0.9;
  }
}

/**
 * Side-chain gain: pads and bass dip under every beat where the groove has a four-on-the-floor kick. Fills
 * `duck[0..count)` with the gain of absolute samples `from..from+count` of a render whose window starts at `origin`
 * (a sample's value depends only on the sample and its beat, whichever slice of the window is asked for).
 */
function duckFill(duck: Float32Array, plan: SongPlan, sr: number, origin: number, from: number, count: number): void {
  duck.fill(1, 0, count);
  const beat = (plan.barSec / 4) * sr;
  // The beat holding `from` starts at most one beat before floor(from / beat) (beat starts are rounded).
  const firstBeat = Math.max(Math.floor(origin / beat), Math.floor(from / beat) - 1);
  const rel = 1 / (0.14 * sr);
  for (let b = firstBeat; ; b++) {
    const start = Math.round(b * beat);
    if (start - from >= count) break;
    const bar = Math.floor(b / 4);
    const kind = bar < plan.form.totalBars ? sectionAt(plan.form, bar).kind : 'outro';
    if (kind === 'bridge') continue;
    const end = Math.round((b + 1) * beat);
    for (let a = Math.max(start, origin, from); a < end && a - from < count; a++) {
      const t = (a - start) * rel;
      duck[a - from] = 1 - 0.45 * Math.max(0, 1 - t) * Math.min(1, (a - start) / (0.004 * sr));
    }
  }
}

const scratchPool = new Map<string, Float32Array>();

/**
 * Working buffers reused across renders in this thread (rendering is synchronous, so one set suffices); reusing
 * them keeps multi-megabyte allocations, and the collections they cause, out of every render.
 */
function scratch(name: string, length: number): Float32Array {
  let buf = scratchPool.get(name);
  if (!buf || buf.length < length) {
    buf = new Float32Array(length);
    scratchPool.set(name, buf);
  }
  return buf.length === length ? buf : buf.subarray(0, length);
}

const KNEE = 0.8;

/** Soft clip with unity gain below the knee (0.8) and an asymptote at 0.99, so the output never exceeds 0.99. */
function softClip(x: number): number {
  const a = x < 0 ? -x : x;
  if (a <= KNEE) return x;
  const d = (a - KNEE) / 0.19;
  const y = KNEE + (0.19 * d) / (1 + d);
  return x < 0 ? -y : y;
}

const MASTER_GAIN = 0.8;

/**
 * The master limiter: peaks held at -4 dBFS (true peaks near -3 dBTP) while the mix sits near -15 LUFS, so the
 * peak-to-loudness ratio stays under ~12 dB and loudnorm normalises with one linear gain. A 3 ms look-ahead ramp and
 * a 100 ms release: a couple of dB off the loudest hits, without pumping.
 */
const LIMIT_CEILING_DB = -4;
const LIMIT_LOOKAHEAD_SEC = 0.003;
const LIMIT_RELEASE_SEC = 0.1;
const LIMIT_WARMUP_SEC = 0.3;

export const PART_GROUPS = ['drums', 'bass', 'chords', 'pad', 'lead'] as const;
export type PartGroup = (typeof PART_GROUPS)[number];

export interface RenderOptions {
  /** Render only these groups (stems); default all. */
  only?: readonly PartGroup[];
}

/**
 * Receives a render's finished samples in order, a bar (or the song's tail) at a time. The arrays are views of the
 * renderer's working window, valid only during the call: copy or write them out before returning.
 */
export type RenderSink = (left: Float32Array, right: Float32Array) => void;

export interface StreamedRender {
  sampleRate: typeof SAMPLE_RATE;
  /** Frames handed to the sink. */
  frames: number;
  meta: RenderMeta;
}

/**
 * Renders a resolved plan from `startBar` to the end of the song, handing the finished samples to `sink` as they
 * are done. The mix lives in a sliding window a few chunks long, not in song-length buffers: once a chunk is
 * rendered, everything before the next chunk's first bar is final (nothing sounds before its bar line), so those
 * bars go through the master limiter and out, and the window moves on. The samples are exactly those of a
 * whole-song render (same operations on the same values, only where they are stored differs).
 */
export function renderPlanStream(
  plan: SongPlan,
  startBar: number,
  opts: RenderOptions,
  sink: RenderSink,
): StreamedRender {
  const sr = SAMPLE_RATE;
  const totalBars = plan.form.totalBars;
  if (!Number.isInteger(startBar) || startBar < 0 || startBar >= totalBars) {
    throw new AppError('BAD_REQUEST', `invalid synth request: startBar must be in [0, ${totalBars - 1}]`, {
      details: [{ path: ['startBar'], message: `must be in [0, ${totalBars - 1}]` }],
    });
  }
  warmTables();
  const barStart = (bar: number): number => Math.round(bar * plan.barSec * sr);
  const total = Math.round(plan.durationSec * sr);
  // A partial render mixes one bar more, in front, for the master limiter's warm-up; that bar is never handed out.
  const origin = barStart(Math.max(0, startBar - 1));
  const outStart = barStart(startBar);
  const spill = Math.round(spillSeconds(plan) * sr);
  const chunkBars = Math.max(1, Math.round(8 / plan.barSec));
  const maxChunk = barStart(chunkBars) + 2;
  const send = scratch('send', ((maxChunk + spill + 1) >> 1) << 1);
  // The window holds what a chunk can write (up to its end plus the spill, a voice at most maxChunk + spill long)
  // behind the at most three bars still waiting for the limiter when the chunk starts, and the song's tail after its
  // last bar line.
  const reach = 2 * maxChunk + spill + 2;
  const size = Math.min(total - origin, barStart(3) + reach + Math.max(0, total - barStart(totalBars)));
  const left = scratch('left', size).fill(0);
  const right = scratch('right', size).fill(0);
  const duck = plan.sidechain ? scratch('duck', size) : null;
  if (duck) duckFill(duck, plan, sr, origin, origin, size);
  const m: Mixer = {
    sr,
    plan,
    kit:
      plan.drumStyle === 'none' || (opts.only && !opts.only.includes('drums'))
        ? null
        : buildKit(plan.drumStyle, plan.tonic, sr),
    total,
    winStart: origin,
    left,
    right,
    duck,
    send,
    sendUsed: 0,
    chunkStart: 0,
    buffers: {
      sr,
      out: scratch('out', maxChunk + spill),
      env: scratch('env', maxChunk + spill),
      cap: 0,
      ks: scratch('ks', 4096),
    },
    parts: partMixes(plan, opts.only),
    buses: {},
    voices: new Map(),
    arena: scratch('voices', Math.max(VOICE_ARENA, maxChunk + spill)),
    arenaUsed: 0,
  };
  for (const [part, mix] of Object.entries(m.parts) as [TonalPartId, PartMix][]) {
    const clamp = (x: number): number => Math.max(-0.9, Math.min(0.9, x));
    const [glA, grA] = panGains(clamp(mix.pan - mix.spread));
    const [glB, grB] = panGains(clamp(mix.pan + mix.spread));
    const a = scratch(`bus-${part}-a`, send.length);
    const b = scratch(`bus-${part}-b`, send.length);
    a.fill(0);
    b.fill(0);
    m.buses[part] = {
      a,
      b,
      used: 0,
      pair: false,
      glA: glA * mix.gain,
      grA: grA * mix.gain,
      glB: glB * mix.gain,
      grB: grB * mix.gain,
      send: mix.send * mix.gain,
      ducked: mix.ducked && plan.sidechain,
      echo: mix.echo,
    };
  }
  const echoDelay = Math.round(3 * (plan.barSec / STEPS_PER_BAR) * sr);
  const rt60 = 1.1 + 2 * plan.reverb;
  const reverb = new Reverb(sr, plan.reverb, rt60, 0.35);
  const reverbTail = Math.round(0.75 * rt60 * sr);
  const wet = 0.5 + 0.6 * plan.reverb;

  // Master: fixed gain (so any bar range gets the same scaling), the limiter, the song's fade-out, soft clip.
  // Arrangements without drums and bass are sparse and would come out ~8 dB quieter.
  const masterGain =
    MASTER_GAIN * (plan.drumStyle === 'none' && !plan.instruments.bass ? 2.2 : plan.drumStyle === 'none' ? 1.5 : 1);
  const gain = scratch('limiter-gain', size);
  const warmup = Math.min(Math.round(LIMIT_WARMUP_SEC * sr), barStart(1) - 1);
  const spec = limiterSpec(sr, LIMIT_CEILING_DB, LIMIT_LOOKAHEAD_SEC, LIMIT_RELEASE_SEC, warmup);
  const work = limiterWork(spec, barStart(2) + Math.max(0, total - barStart(totalBars)) + warmup + spec.lookahead);
  const fadeLen = Math.min(total, Math.round(Math.min(2, plan.barSec) * sr));
  const fadeFrom = total - fadeLen;
  // Bars [startBar, limited) have their limiter gain; bars [startBar, emitted) went to the sink.
  let limited = startBar;
  let emitted = startBar;
  let frames = 0;
  // Absolute span of a bar in the output: the last bar runs to the end of the song.
  const barEnd = (bar: number): number => (bar === totalBars - 1 ? total : Math.min(total, barStart(bar + 1)));

  /** Limiter gains for the bars whose samples (look-ahead included) are final up to absolute sample `final`. */
  const limitUpTo = (final: number): void => {
    const len = total - m.winStart;
    for (; limited < totalBars; limited++) {
      const from = barStart(limited) - m.winStart;
      const to = barEnd(limited) - m.winStart;
      if (from >= to) {
        limited = totalBars;
        break;
      }
      if (Math.min(len, to + spec.lookahead) > final - m.winStart) break;
      if (!limiterGain(left, right, len, masterGain, from, to, spec, gain, work)) gain.fill(1, from, to);
    }
  };
  /** Applies gain, fade and soft clip to the bars before `upTo` and hands them out. */
  const emitUpTo = (upTo: number): void => {
    for (; emitted < upTo; emitted++) {
      const from = barStart(emitted) - m.winStart;
      const to = barEnd(emitted) - m.winStart;
      if (from >= to) break;
      const fadeAt = Math.max(from, Math.min(to, fadeFrom - m.winStart));
      for (let o = from; o < fadeAt; o++) {
        const g = masterGain * (gain[o] as number);
        const l = (left[o] as number) * g;
        const r = (right[o] as number) * g;
        left[o] = l > KNEE || l < -KNEE ? softClip(l) : l;
        right[o] = r > KNEE || r < -KNEE ? softClip(r) : r;
      }
      for (let o = fadeAt; o < to; o++) {
        const g = masterGain * (gain[o] as number) * Math.cos(((o + m.winStart - fadeFrom) / fadeLen) * (Math.PI / 2));
        left[o] = softClip((left[o] as number) * g);
        right[o] = softClip((right[o] as number) * g);
      }
      sink(left.subarray(from, to), right.subarray(from, to));
      frames += to - from;
    }
  };
  /** Moves the window to start at absolute sample `keep` (what lies before it is out and no longer read). */
  const slide = (keep: number): void => {
    const shift = keep - m.winStart;
    if (shift <= 0) return;
    const kept = size - shift;
    left.copyWithin(0, shift, size);
    right.copyWithin(0, shift, size);
    gain.copyWithin(0, shift, size);
    left.fill(0, kept);
    right.fill(0, kept);
    if (duck) {
      duck.copyWithin(0, shift, size);
      duckFill(duck.subarray(kept), plan, sr, origin, keep + kept, shift);
    }
    m.winStart = keep;
  };

  for (let c = 0; c * chunkBars < totalBars; c++) {
    const firstBar = c * chunkBars;
    const endBar = Math.min(totalBars, firstBar + chunkBars);
    const chunkStart = barStart(firstBar);
    const chunkEnd = barStart(endBar);
    const limit = chunkEnd + spill;
    if (limit <= origin) continue;
    if (chunkStart >= total) break;
    // Keep the bars not yet out and the limiter's warm-up before the next bar to limit.
    slide(Math.max(origin, Math.min(barStart(emitted), barStart(limited) - warmup)));
    if (Math.min(total, endBar >= totalBars ? total : chunkStart + reach) - m.winStart > size) {
      throw new Error(`synth window too small at bar ${firstBar}`);
    }
    m.chunkStart = chunkStart;
    const sendCap = Math.min(send.length, limit - chunkStart);
    send.fill(0, 0, sendCap);
    m.sendUsed = 0;
    for (let bar = firstBar; bar < endBar; bar++) renderBar(m, bar, limit);
    for (const bus of Object.values(m.buses)) flushBus(m, bus, echoDelay);
    // The reverb runs until its tail has decayed ~45 dB past the last input, or to the chunk's spill bound.
    const sendLen = Math.min(sendCap, m.sendUsed + reverbTail);
    reverb.process(
      send,
      sendLen,
      left,
      right,
      chunkStart - m.winStart,
      Math.min(size, total - m.winStart),
      wet,
      Math.min(sendLen >> 2, Math.round(0.4 * sr)),
    );
    // Later chunks only write from their own first bar on.
    const final = endBar >= totalBars ? total : chunkEnd;
    limitUpTo(final);
    // A bar's samples are still read by the next bar's warm-up until that bar is limited.
    emitUpTo(limited >= totalBars ? totalBars : limited - 1);
  }
  limitUpTo(total);
  emitUpTo(totalBars);
  const sections = plan.sections.map((s) => ({ ...s, startSec: s.startBar * plan.barSec }));
  return {
    sampleRate: SAMPLE_RATE,
    frames,
    meta: {
      bpm: plan.bpm,
      key: plan.key,
      scale: plan.scale,
      genre: plan.genre,
      mood: plan.mood,
      bars: totalBars,
      barDurationSec: plan.barSec,
      chordsPerBar: chordsPerBar(plan),
      sections,
      instruments: plan.instruments,
      drumStyle: plan.drumStyle,
      startBar,
      startSec: outStart / sr,
      durationSec: plan.durationSec,
      seed: plan.seed,
      variant: plan.variant,
    },
  };
}

/** Renders a resolved plan from `startBar` to the end of the song, into song-length arrays. */
export function renderPlan(plan: SongPlan, startBar = 0, opts: RenderOptions = {}): RenderResult {
  const frames = Math.max(
    0,
    Math.round(plan.durationSec * SAMPLE_RATE) - Math.round(startBar * plan.barSec * SAMPLE_RATE),
  );
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  let at = 0;
  const { meta } = renderPlanStream(plan, startBar, opts, (l, r) => {
    left.set(l, at);
    right.set(r, at);
    at += l.length;
  });
  return { sampleRate: SAMPLE_RATE, left, right, meta };
}

/** Renders a song request (validated), handing its samples to `sink` as they are finished. */
export function renderSongStream(req: SynthRequest, sink: RenderSink): StreamedRender {
  return renderPlanStream(resolvePlan(req), req.startBar ?? 0, {}, sink);
}

/** Renders a song request (validated) to stereo float PCM. */
export function renderSong(req: SynthRequest): RenderResult {
  const plan = resolvePlan(req);
  return renderPlan(plan, req.startBar ?? 0);
}
