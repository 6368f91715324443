/**
 * The arrangement: which notes every part plays in a bar. `arrangeBar(plan, bar)` is a pure function of the plan
 * (which carries the seed stream) and the bar index: it reads no other bar's output, so any range of bars can be
 * rendered on its own and a continuation past the original end keeps the same groove, key and progression.
 *
 * Harmony changes only on bar lines (one or two bars per chord). Drums come from per-style 16-step grids with
 * seeded variations and fills; the bass follows chord roots; keys and pads voice the chords; the lead repeats and
 * varies a seeded two-bar motif per section kind, snapped to chord tones on strong beats.
 */
import { type BarSection, sectionAt, type SectionKind } from './form';
import type { CompStyle, SongPlan } from './params';
import { mixSeed, type Rng, rngFor } from './rng';
import { type Chord, degreeSemitones, diatonicChord, pcInRange, voiceChord } from './theory';

export const STEPS_PER_BAR = 16;

export const DRUM_PARTS = ['kick', 'snare', 'clap', 'rim', 'hat', 'openhat', 'ride', 'crash', 'shaker', 'tom'] as const;
export type DrumPart = (typeof DRUM_PARTS)[number];
export type TonalPart = 'bass' | 'chords' | 'pad' | 'lead';
export type PartId = DrumPart | TonalPart;

export interface NoteEvent {
  part: PartId;
  /** Start in 16th steps from the bar line (fractional for rolls). */
  step: number;
  /** Length in 16th steps (the gate; releases ring past it). */
  len: number;
  /** MIDI note (0 for drums). */
  midi: number;
  /** 0..1. */
  vel: number;
  /** Timing offset in ms on top of swing (humanising, strums). */
  nudgeMs: number;
  /** Position within a chord, for stereo spread. */
  voice: number;
}

export interface BarPlan {
  bar: number;
  section: BarSection;
  chord: Chord;
  events: NoteEvent[];
}

const DRUM_SET = new Set<string>(DRUM_PARTS);
export const isDrum = (part: PartId): part is DrumPart => DRUM_SET.has(part);

function progressionFor(plan: SongPlan, kind: SectionKind): readonly number[] {
  if (kind === 'chorus' || kind === 'outro') return plan.progression.chorus;
  if (kind === 'bridge') return plan.progression.bridge;
  return plan.progression.verse;
}

/** Scale degree of the chord in `bar`; the final bar resolves to the tonic. */
export function chordDegreeAt(plan: SongPlan, bar: number): number {
  const s = sectionAt(plan.form, bar);
  if (s.isFinalBar && plan.form.totalBars >= 3) return 0;
  const prog = progressionFor(plan, s.kind);
  return prog[Math.floor(s.barInSection / plan.chordBars) % prog.length] as number;
}

export function chordAt(plan: SongPlan, bar: number, size: 3 | 4 | 5 = plan.chordSize): Chord {
  return diatonicChord(plan.tonic, plan.scale, chordDegreeAt(plan, bar), size, plan.spelling, plan.dominantV);
}

/** Chord names of every bar of the song. */
export function chordsPerBar(plan: SongPlan): string[] {
  const out: string[] = [];
  for (let b = 0; b < plan.form.totalBars; b++) out.push(chordAt(plan, b).name);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Drums

/** 16-step grids: X 1.0, x 0.8, o 0.55, - 0.3 (ghost), . rest. Each list holds variations; the first is the main. */
interface Groove {
  kick: string[];
  snare?: string[];
  clap?: string[];
  rim?: string[];
  hat?: string[];
  openhat?: string[];
  ride?: string[];
  shaker?: string[];
  tom?: string[];
  /** Parts that drop out in breakdowns (bridge) and intros. */
  breakdownKeeps: DrumPart[];
  fill: 'snare' | 'toms' | 'build' | 'none';
}

const GROOVES: Record<Exclude<SongPlan['drumStyle'], 'none'>, Groove> = {
  lofi: {
    kick: ['x......x..x.....', 'x.....x...x..x..', 'x......x.x......'],
    snare: ['....x.......x...', '....x.......x..-'],
    hat: ['o.-.o.-.o.-.o.-.', 'o.-.o.-oo.-.o.-.'],
    breakdownKeeps: ['hat', 'rim'],
    fill: 'snare',
  },
  'boom-bap': {
    kick: ['X.....x...x.....', 'X......xx.....x.', 'X.....x..x.x....'],
    snare: ['....X.......X...', '....X.......X..-'],
    hat: ['x.o.x.o.x.o.x.o.', 'x.o.x.oox.o.x.o.'],
    breakdownKeeps: ['hat'],
    fill: 'snare',
  },
  'four-on-floor': {
    kick: ['X...X...X...X...'],
    clap: ['....x.......x...'],
    hat: ['-.-.-.-.-.-.-.-.', '-.-.-.-.-.-.-.--'],
    openhat: ['..o...o...o...o.'],
    shaker: ['-o-o-o-o-o-o-o-o'],
    breakdownKeeps: ['hat', 'openhat', 'shaker'],
    fill: 'build',
  },
  techno: {
    kick: ['X...X...X...X...'],
    clap: ['....x.......x...'],
    rim: ['.......o.....o..', '...o......o..o..'],
    hat: ['o-x-o-x-o-x-o-x-', 'o-x-o-x-o-x-o-xo'],
    openhat: ['..o...o...o...o.'],
    breakdownKeeps: ['hat', 'rim'],
    fill: 'build',
  },
  trap: {
    kick: ['X.........x.....', 'X......x..x.....', 'X.....x.......x.'],
    clap: ['........X.......'],
    hat: ['x.o.x.o.x.o.x.o.', 'x.o.x.o.xoxox.o.', 'xooox.o.x.o.xooo'],
    breakdownKeeps: ['hat'],
    fill: 'none',
  },
  breakbeat: {
    kick: ['X.........x.....', 'X.x.......x.....', 'X.........X..x..'],
    snare: ['....X.......X...', '....X..-....X.-.'],
    hat: ['x.o.x.o.x.o.x.o.', 'x.oox.o.x.o.x.oo'],
    ride: ['x.x.x.x.x.x.x.x.'],
    breakdownKeeps: ['hat', 'ride'],
    fill: 'snare',
  },
  rock: {
    kick: ['X.......X.x.....', 'X.x.....X.......', 'X.......X.x...x.'],
    snare: ['....X.......X...'],
    hat: ['x.o.x.o.x.o.x.o.'],
    ride: ['x.o.x.o.x.o.x.o.'],
    breakdownKeeps: ['hat', 'kick'],
    fill: 'snare',
  },
  jazz: {
    kick: ['-...............', '-.......-.......'],
    ride: ['x...x..ox...x..o', 'x...x..ox...x...', 'x...x...x...x..o'],
    hat: ['....x.......x...'],
    breakdownKeeps: ['ride', 'hat', 'kick'],
    fill: 'none',
  },
  pop: {
    kick: ['X.....x.X.......', 'X.....x.X.x.....', 'X.......X.......'],
    snare: ['....X.......X...'],
    clap: ['....x.......x...'],
    hat: ['x.o.x.o.x.o.x.o.', 'x.o.x.o.x.o.x.oo'],
    shaker: ['-o-o-o-o-o-o-o-o'],
    breakdownKeeps: ['hat', 'shaker'],
    fill: 'snare',
  },
  funk: {
    kick: ['X..x..x...x..x..', 'X.x...x...x..x..', 'X..x......x..x.x'],
    snare: ['....X..-.-..X..-', '....X.-..-..X.-.'],
    hat: ['xoxoxoxoxoxoxoxo', 'xoxoxoxoxoxoxo.o'],
    openhat: ['..............x.'],
    breakdownKeeps: ['hat', 'kick'],
    fill: 'snare',
  },
  'one-drop': {
    kick: ['........X.......'],
    rim: ['........x.......', '........x.....-.'],
    hat: ['x.o.x.o.x.o.x.o.', 'x.o.x.o.x.oox.o.'],
    breakdownKeeps: ['hat', 'rim'],
    fill: 'none',
  },
  cinematic: {
    kick: ['X.......X.......'],
    tom: ['X.....x.X.......', 'X..x..x.X...x...'],
    snare: ['........x.......'],
    breakdownKeeps: ['tom'],
    fill: 'toms',
  },
  ambient: {
    kick: ['x.......x.......', 'x.........x.....'],
    rim: ['....o.......o...'],
    shaker: ['-o-o-o-o-o-o-o-o'],
    breakdownKeeps: ['shaker', 'rim'],
    fill: 'none',
  },
};

const VEL: Record<string, number> = { X: 1, x: 0.8, o: 0.55, '-': 0.3 };

function gridEvents(part: DrumPart, grid: string, velScale: number, rng: Rng, out: NoteEvent[]): void {
  for (let i = 0; i < STEPS_PER_BAR; i++) {
    const v = VEL[grid[i] ?? '.'];
    if (v === undefined) continue;
    // Humanising only ever delays: nothing sounds before its bar line, so a bar's audio never reaches back into
    // the previous bar (the seam of a continuation stays exact).
    const human = part === 'kick' ? 0 : rng.range(0, 3);
    out.push({ part, step: i, len: 1, midi: 0, vel: v * velScale * rng.range(0.9, 1), nudgeMs: human, voice: 0 });
  }
}

/** The main variation most of the time, others now and then (never two random picks in a row per bar). */
function pickVariant(list: readonly string[] | undefined, rng: Rng): string | undefined {
  if (!list || list.length === 0) return undefined;
  if (list.length === 1 || rng.chance(0.55)) return list[0];
  return list[1 + Math.floor(rng.next() * (list.length - 1))];
}

function drumEvents(plan: SongPlan, bar: number, s: BarSection): NoteEvent[] {
  if (plan.drumStyle === 'none') return [];
  const groove = GROOVES[plan.drumStyle];
  const rng = rngFor(plan.seed, 'drums', bar);
  const out: NoteEvent[] = [];
  const energy = 0.75 + 0.25 * plan.energy;
  const parts: DrumPart[] = ['kick', 'snare', 'clap', 'rim', 'hat', 'openhat', 'ride', 'shaker', 'tom'];
  const dance = plan.drumStyle === 'four-on-floor' || plan.drumStyle === 'techno';

  if (s.kind === 'outro' && s.isFinalBar) {
    out.push({ part: 'kick', step: 0, len: 1, midi: 0, vel: 0.9, nudgeMs: 0, voice: 0 });
    out.push({ part: 'crash', step: 0, len: 1, midi: 0, vel: 0.7, nudgeMs: 0, voice: 0 });
    return out;
  }

  for (const part of parts) {
    const grid = pickVariant(groove[part as keyof Groove] as string[] | undefined, rng);
    if (!grid) continue;
    let scale = energy;
    if (s.kind === 'intro') {
      const keep = dance ? part === 'kick' || part === 'hat' : groove.breakdownKeeps.includes(part) || part === 'hat';
      if (!keep) continue;
      scale *= 0.75;
    } else if (s.kind === 'bridge') {
      if (!groove.breakdownKeeps.includes(part)) continue;
      scale *= 0.8;
    } else if (s.kind === 'verse') {
      if (part === 'shaker' || (part === 'ride' && plan.drumStyle !== 'jazz')) continue;
      if (part === 'openhat' && !dance) continue;
    } else if (s.kind === 'outro') {
      if (part === 'openhat' || part === 'shaker') continue;
      scale *= 0.85;
    }
    if (part === 'hat' && s.kind === 'chorus' && groove.ride && plan.drumStyle === 'rock') continue;
    if (part === 'ride' && s.kind !== 'chorus' && plan.drumStyle === 'rock') continue;
    gridEvents(part, grid, scale, rng, out);
  }

  if (plan.drumStyle === 'jazz' && s.kind !== 'intro') {
    // Brush/snare comping: a few ghosted hits on off-beat 8ths, different every bar.
    for (const step of [2, 6, 10, 14]) {
      if (rng.chance(0.3))
        out.push({ part: 'snare', step, len: 1, midi: 0, vel: rng.range(0.2, 0.4), nudgeMs: 0, voice: 0 });
    }
  }

  if (plan.drumStyle === 'trap' && s.kind !== 'intro') {
    // Hi-hat rolls (32nds) on one beat now and then: the genre's signature.
    if (rng.chance(0.5)) {
      const beat = rng.pick([1, 3]);
      const from = beat * 4 + 2;
      for (let k = 0; k < 4; k++) {
        out.push({ part: 'hat', step: from + k * 0.5, len: 0.5, midi: 0, vel: 0.35 + 0.1 * k, nudgeMs: 0, voice: 0 });
      }
    }
  }

  if (s.barInSection === 0 && (s.kind === 'chorus' || (s.kind === 'verse' && s.occurrence > 0))) {
    out.push({ part: 'crash', step: 0, len: 1, midi: 0, vel: s.kind === 'chorus' ? 0.75 : 0.55, nudgeMs: 0, voice: 0 });
  }

  if (s.isLastBar && !s.isFinalBar && s.kind !== 'outro') addFill(groove.fill, s, rng, out);
  return out;
}

function addFill(fill: Groove['fill'], s: BarSection, rng: Rng, out: NoteEvent[]): void {
  if (fill === 'none') return;
  const clearFrom = (from: number, parts: DrumPart[]): void => {
    for (let i = out.length - 1; i >= 0; i--) {
      const e = out[i] as NoteEvent;
      if (e.step >= from && parts.includes(e.part as DrumPart)) out.splice(i, 1);
    }
  };
  if (fill === 'snare') {
    clearFrom(12, ['snare', 'hat', 'openhat', 'kick']);
    const pattern = rng.pick([
      [12, 13, 14, 15],
      [12, 14, 15],
      [12, 13, 14],
    ]);
    pattern.forEach((step, k) =>
      out.push({ part: 'snare', step, len: 1, midi: 0, vel: 0.5 + 0.12 * k, nudgeMs: 0, voice: 0 }),
    );
  } else if (fill === 'toms') {
    clearFrom(8, ['tom', 'snare']);
    for (let step = 8; step < 16; step += 2)
      out.push({ part: 'tom', step, len: 1, midi: 0, vel: 0.6 + step / 40, nudgeMs: 0, voice: 0 });
  } else if (fill === 'build' && (s.kind === 'bridge' || s.kind === 'intro')) {
    // Dance build-up: a snare/clap roll on 16ths rising in level over the bar.
    for (let step = 0; step < 16; step += step < 8 ? 2 : 1) {
      out.push({ part: 'clap', step, len: 1, midi: 0, vel: 0.25 + (step / 16) * 0.6, nudgeMs: 0, voice: 0 });
    }
  } else if (fill === 'build') {
    clearFrom(14, ['openhat']);
    out.push({ part: 'clap', step: 14, len: 1, midi: 0, vel: 0.5, nudgeMs: 0, voice: 0 });
    out.push({ part: 'clap', step: 15, len: 1, midi: 0, vel: 0.65, nudgeMs: 0, voice: 0 });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Bass

type Tone = 'R' | '5' | '8' | '3' | '7' | 'A' | 'b';
type BassCell = readonly [step: number, len: number, tone: Tone];

const BASS_PATTERNS: Record<Exclude<SongPlan['bassStyle'], 'walking' | '808'>, BassCell[][]> = {
  lofi: [
    [
      [0, 6, 'R'],
      [7, 2, 'R'],
      [10, 4, '5'],
    ],
    [
      [0, 3, 'R'],
      [3, 3, 'R'],
      [8, 4, '5'],
      [14, 2, 'A'],
    ],
    [
      [0, 8, 'R'],
      [10, 2, '8'],
      [12, 3, '5'],
    ],
  ],
  offbeat: [
    [
      [2, 1.5, 'R'],
      [6, 1.5, 'R'],
      [10, 1.5, 'R'],
      [14, 1.5, 'R'],
    ],
    [
      [2, 1.5, 'R'],
      [6, 1.5, '8'],
      [10, 1.5, 'R'],
      [14, 1.5, '5'],
    ],
    [
      [2, 1.5, 'R'],
      [5, 1, 'R'],
      [6, 1.5, 'R'],
      [10, 1.5, 'R'],
      [14, 1.5, '8'],
    ],
  ],
  rolling: [
    [
      [1, 0.8, 'R'],
      [2, 0.8, 'R'],
      [3, 0.8, '8'],
      [5, 0.8, 'R'],
      [6, 0.8, 'R'],
      [7, 0.8, '8'],
      [9, 0.8, 'R'],
      [10, 0.8, 'R'],
      [11, 0.8, '8'],
      [13, 0.8, 'R'],
      [14, 0.8, '5'],
      [15, 0.8, '8'],
    ],
    [
      [2, 1.5, 'R'],
      [3, 0.8, 'R'],
      [6, 1.5, 'R'],
      [7, 0.8, '8'],
      [10, 1.5, 'R'],
      [11, 0.8, 'R'],
      [14, 1.5, '5'],
      [15, 0.8, 'R'],
    ],
  ],
  sub: [
    [
      [0, 10, 'R'],
      [10, 6, 'R'],
    ],
    [[0, 16, 'R']],
    [
      [0, 6, 'R'],
      [6, 4, '8'],
      [10, 6, '5'],
    ],
  ],
  eighths: [
    [
      [0, 1.8, 'R'],
      [2, 1.8, 'R'],
      [4, 1.8, 'R'],
      [6, 1.8, 'R'],
      [8, 1.8, 'R'],
      [10, 1.8, 'R'],
      [12, 1.8, 'R'],
      [14, 1.8, 'R'],
    ],
    [
      [0, 1.8, 'R'],
      [2, 1.8, 'R'],
      [4, 1.8, 'R'],
      [6, 1.8, 'R'],
      [8, 1.8, 'R'],
      [10, 1.8, 'R'],
      [12, 1.8, '5'],
      [14, 1.8, 'A'],
    ],
  ],
  pop: [
    [
      [0, 3, 'R'],
      [3, 3, 'R'],
      [6, 2, 'R'],
      [8, 3, '5'],
      [11, 3, 'R'],
      [14, 2, '8'],
    ],
    [
      [0, 4, 'R'],
      [6, 2, 'R'],
      [8, 4, '5'],
      [12, 2, '8'],
      [14, 2, 'A'],
    ],
    [
      [0, 6, 'R'],
      [6, 2, 'R'],
      [8, 6, '5'],
      [14, 2, 'R'],
    ],
  ],
  slap: [
    [
      [0, 1, 'R'],
      [3, 1, '8'],
      [4, 1, 'R'],
      [6, 1, 'R'],
      [7, 1, '8'],
      [10, 1, 'R'],
      [11, 1, '5'],
      [14, 1, '8'],
      [15, 1, '7'],
    ],
    [
      [0, 2, 'R'],
      [3, 1, 'R'],
      [6, 1, '8'],
      [8, 1, 'R'],
      [10, 1, '5'],
      [11, 1, '8'],
      [13, 1, 'R'],
      [14, 2, 'A'],
    ],
  ],
  reggae: [
    [
      [2, 2, 'R'],
      [4, 1, 'R'],
      [6, 2, '5'],
      [8, 3, '8'],
      [12, 3, '5'],
      [15, 1, 'A'],
    ],
    [
      [0, 3, 'R'],
      [4, 2, '3'],
      [6, 2, '5'],
      [10, 2, 'R'],
      [12, 3, '5'],
    ],
  ],
  sustain: [
    [[0, 16, 'R']],
    [
      [0, 8, 'R'],
      [8, 8, '5'],
    ],
  ],
};

function bassRange(plan: SongPlan): number {
  const b = plan.instruments.bass;
  return b === '808' || b === 'sub' || b === 'reese' ? 29 : 33;
}

function toneMidi(plan: SongPlan, tone: Tone, chord: Chord, next: Chord, rng: Rng): number {
  const lo = bassRange(plan);
  const root = pcInRange(chord.root, lo);
  switch (tone) {
    case 'R':
      return root;
    case '5':
      return root + (((((chord.tones[2] as number) - chord.root) % 12) + 12) % 12);
    case '8':
      return root + 12;
    case '3':
      return root + (((((chord.tones[1] as number) - chord.root) % 12) + 12) % 12);
    case '7': {
      const t = chord.tones[3];
      return t === undefined ? root + 12 : root + ((((t - chord.root) % 12) + 12) % 12);
    }
    case 'b':
      return root - (degreeSemitones(plan.scale, chord.degree) - degreeSemitones(plan.scale, chord.degree - 1));
    case 'A': {
      // A scale step above or below the next chord's root leads into it.
      const nextRoot = pcInRange(next.root, lo);
      const above = rng.chance(0.5);
      const step = above
        ? degreeSemitones(plan.scale, next.degree + 1) - degreeSemitones(plan.scale, next.degree)
        : -(degreeSemitones(plan.scale, next.degree) - degreeSemitones(plan.scale, next.degree - 1));
      return nextRoot + step;
    }
  }
}

function bassEvents(
  plan: SongPlan,
  bar: number,
  s: BarSection,
  chord: Chord,
  next: Chord,
  kicks: NoteEvent[],
): NoteEvent[] {
  if (!plan.instruments.bass) return [];
  const rng = rngFor(plan.seed, 'bass', bar);
  const out: NoteEvent[] = [];
  const lo = bassRange(plan);
  const ambientish = plan.bassStyle === 'sustain';
  if (s.kind === 'intro' && !ambientish) return out;
  if (s.isFinalBar && plan.form.totalBars >= 3) {
    out.push({ part: 'bass', step: 0, len: 16, midi: pcInRange(chord.root, lo), vel: 0.8, nudgeMs: 0, voice: 0 });
    return out;
  }
  const vel = 0.7 + 0.3 * plan.energy;
  if (s.kind === 'bridge' && plan.bassStyle !== 'walking') {
    if (s.barInSection % plan.chordBars === 0) {
      out.push({
        part: 'bass',
        step: 0,
        len: 16 * plan.chordBars,
        midi: pcInRange(chord.root, lo),
        vel: vel * 0.8,
        nudgeMs: 0,
        voice: 0,
      });
    }
    return out;
  }
  if (plan.bassStyle === 'walking') {
    // Quarter notes: root, a chord tone, another chord or scale tone, then a chromatic approach to the next root.
    const root = pcInRange(chord.root, lo);
    const third = toneMidi(plan, '3', chord, next, rng);
    const fifth = toneMidi(plan, '5', chord, next, rng);
    const nextRoot = pcInRange(next.root, lo);
    // Mostly a scale step into the next root, sometimes the chromatic neighbour.
    const approach = rng.chance(0.3) ? nextRoot + (rng.chance(0.5) ? 1 : -1) : toneMidi(plan, 'A', chord, next, rng);
    const second = rng.chance(0.5) ? third : fifth;
    const third2 = rng.chance(0.5) ? fifth : root + 12 > lo + 14 ? root : root + 12;
    [root, second, third2, approach].forEach((midi, beat) =>
      out.push({
        part: 'bass',
        step: beat * 4,
        len: 3.6,
        midi,
        vel: beat === 0 ? vel : vel * 0.85,
        nudgeMs: 0,
        voice: 0,
      }),
    );
    return out;
  }
  if (plan.bassStyle === '808') {
    // The 808 rides the kick: each kick starts a note that holds until the next one.
    const hits = kicks.filter((k) => k.part === 'kick').map((k) => k.step);
    if (hits.length === 0) hits.push(0);
    hits.forEach((step, i) => {
      const end = hits[i + 1] ?? 16;
      const tone: Tone = i > 0 && rng.chance(0.25) ? rng.pick<Tone>(['8', '5', 'b']) : 'R';
      out.push({
        part: 'bass',
        step,
        len: Math.max(1, end - step - 0.25),
        midi: toneMidi(plan, tone, chord, next, rng),
        vel,
        nudgeMs: 0,
        voice: 0,
      });
    });
    return out;
  }
  const patterns = BASS_PATTERNS[plan.bassStyle];
  const pattern = rng.chance(0.6) ? (patterns[0] as BassCell[]) : rng.pick(patterns);
  const changes = chordDegreeAt(plan, bar + 1) !== chord.degree;
  for (const [step, len, tone] of pattern) {
    // Approach notes only make sense when the next bar brings a new chord.
    const t: Tone = tone === 'A' && !changes ? '5' : tone;
    const accent = step % 4 === 0 ? 1 : 0.85;
    out.push({
      part: 'bass',
      step,
      len,
      midi: toneMidi(plan, t, chord, next, rng),
      vel: vel * accent,
      nudgeMs: 0,
      voice: 0,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Keys / comping

type CompCell = readonly [step: number, len: number];

const COMP_PATTERNS: Record<Exclude<CompStyle, 'arp' | 'alberti' | 'ostinato'>, CompCell[][]> = {
  lofi: [
    [
      [0, 7],
      [7, 9],
    ],
    [[0, 14]],
    [
      [0, 3],
      [3, 5],
      [10, 6],
    ],
    [
      [0, 6],
      [6, 2],
      [10, 6],
    ],
  ],
  stabs: [
    [
      [0, 2],
      [3, 2],
      [6, 2],
      [10, 2],
      [13, 2],
    ],
    [
      [2, 2],
      [6, 2],
      [10, 2],
      [14, 2],
    ],
    [
      [0, 2],
      [3, 2],
      [6, 3],
      [12, 2],
    ],
  ],
  pulse: [
    [
      [0, 2],
      [2, 2],
      [4, 2],
      [6, 2],
      [8, 2],
      [10, 2],
      [12, 2],
      [14, 2],
    ],
    [
      [0, 4],
      [4, 4],
      [8, 4],
      [12, 4],
    ],
    [
      [0, 3],
      [3, 3],
      [6, 2],
      [8, 3],
      [11, 3],
      [14, 2],
    ],
  ],
  // Comping: a stab, then a held chord; the harmony keeps sounding through the bar under the walking bass.
  jazz: [
    [
      [0, 3],
      [6, 10],
    ],
    [
      [2, 4],
      [6, 10],
    ],
    [
      [0, 6],
      [10, 6],
    ],
    [
      [0, 3],
      [3, 7],
      [10, 6],
    ],
  ],
  power: [
    [
      [0, 1.6],
      [2, 1.6],
      [4, 1.6],
      [6, 1.6],
      [8, 1.6],
      [10, 1.6],
      [12, 1.6],
      [14, 1.6],
    ],
  ],
  strum: [
    [
      [0, 3],
      [4, 2],
      [6, 2],
      [10, 2],
      [12, 2],
      [14, 2],
    ],
    [
      [0, 4],
      [4, 4],
      [8, 2],
      [10, 2],
      [12, 4],
    ],
  ],
  skank: [
    [
      [4, 1.5],
      [12, 1.5],
    ],
    [
      [4, 1.5],
      [6, 1],
      [12, 1.5],
      [14, 1],
    ],
  ],
  chops: [
    [
      [0, 1],
      [3, 1],
      [6, 1],
      [8, 1],
      [11, 1],
      [14, 1],
    ],
    [
      [2, 1],
      [4, 1],
      [7, 1],
      [10, 1],
      [12, 1],
      [15, 1],
    ],
  ],
  sustain: [[[0, 16]]],
};

function chordCentre(plan: SongPlan): number {
  switch (plan.instruments.chords) {
    case 'guitar':
      return 57;
    case 'distorted-guitar':
      return 48;
    case 'pluck':
      return 67;
    case 'strings':
    case 'organ':
    case 'pad':
      return 63;
    default:
      return 62;
  }
}

/** The chord's voicing for keys: rootless for sevenths and ninths when a bass plays the root. */
function keysVoicing(plan: SongPlan, chord: Chord): number[] {
  const tones = chord.tones.length >= 4 && plan.instruments.bass ? chord.tones.slice(1) : chord.tones;
  return voiceChord(tones, chordCentre(plan));
}

function compEvents(plan: SongPlan, bar: number, s: BarSection, chord: Chord): NoteEvent[] {
  const rng = rngFor(plan.seed, 'comp', bar);
  const out: NoteEvent[] = [];
  const vel = 0.55 + 0.3 * plan.energy;
  const voicing = keysVoicing(plan, chord);
  const firstOfChord = s.barInSection % plan.chordBars === 0 || s.barInSection === 0;

  if (s.isFinalBar && plan.form.totalBars >= 3) {
    voicing.forEach((midi, voice) =>
      out.push({ part: 'chords', step: 0, len: 16, midi, vel: vel * 0.9, nudgeMs: voice * 4, voice }),
    );
    return out;
  }

  let style: CompStyle = plan.comp;
  // Sections breathe: intros and bridges sustain where the groove would be busy.
  if ((s.kind === 'intro' || s.kind === 'bridge') && (style === 'power' || style === 'chops' || style === 'stabs'))
    style = 'sustain';

  if (style === 'arp') {
    const tones = voiceChord(chord.tones.slice(0, 3), chordCentre(plan));
    const seq = [...tones, (tones[0] as number) + 12, ...tones.slice(1).reverse()];
    const order = rngFor(plan.seed, 'arp-shape', Math.floor(bar / 4)).pick([
      [0, 1, 2, 3, 2, 1],
      [0, 2, 1, 3],
      [0, 1, 2, 3],
      [3, 2, 1, 0],
    ]);
    const rate = s.kind === 'intro' || s.kind === 'bridge' ? 2 : 1;
    let k = 0;
    for (let step = 0; step < 16; step += rate, k++) {
      const idx = order[k % order.length] as number;
      const midi = (seq[idx % seq.length] ?? tones[0]) as number;
      out.push({
        part: 'chords',
        step,
        len: 1.5 * rate,
        midi,
        vel: vel * (step % 4 === 0 ? 1 : 0.75),
        nudgeMs: 0,
        voice: k % 2,
      });
    }
    return out;
  }

  if (style === 'alberti') {
    // Low–high–middle–high over the triad, in the left hand's register.
    const tri = voiceChord(chord.tones.slice(0, 3), 55);
    const order = [0, 2, 1, 2];
    for (let step = 0; step < 16; step += 2) {
      const midi = tri[order[(step / 2) % 4] as number] as number;
      out.push({
        part: 'chords',
        step,
        len: 2.2,
        midi,
        vel: vel * (step % 8 === 0 ? 0.9 : 0.7),
        nudgeMs: 0,
        voice: step % 3,
      });
    }
    return out;
  }

  if (style === 'ostinato') {
    const root = pcInRange(chord.root, 45);
    const fifth = root + (((((chord.tones[2] as number) - chord.root) % 12) + 12) % 12);
    const cells = s.kind === 'intro' ? [0, 4, 8, 12] : [0, 2, 4, 6, 8, 10, 12, 14];
    cells.forEach((step, k) => {
      const midi = k % 4 === 3 ? fifth : k % 2 === 1 ? root + 12 : root;
      out.push({
        part: 'chords',
        step,
        len: 1.2,
        midi,
        vel: vel * (step % 4 === 0 ? 1 : 0.7),
        nudgeMs: 0,
        voice: k % 2,
      });
    });
    return out;
  }

  if (style === 'sustain') {
    if (!firstOfChord) return out;
    voicing.forEach((midi, voice) =>
      out.push({ part: 'chords', step: 0, len: 16 * plan.chordBars - 0.5, midi, vel: vel * 0.85, nudgeMs: 0, voice }),
    );
    return out;
  }

  const patterns = COMP_PATTERNS[style];
  const pattern =
    s.kind === 'verse' && style === 'pulse'
      ? (patterns[1] as CompCell[])
      : rng.chance(0.5)
        ? (patterns[0] as CompCell[])
        : rng.pick(patterns);
  const notes = style === 'power' ? powerChord(chord) : voicing;
  for (const [step, len] of pattern) {
    const accent = step % 4 === 0 ? 1 : 0.82;
    // Strums and rolled chords: a few ms between strings, downward strums on beats.
    const spread = style === 'strum' ? 5 : style === 'lofi' ? 6 : style === 'jazz' ? 2 : 0;
    notes.forEach((midi, voice) =>
      out.push({
        part: 'chords',
        step,
        len,
        midi,
        vel: vel * accent * rng.range(0.92, 1),
        nudgeMs: voice * spread,
        voice,
      }),
    );
  }
  return out;
}

function powerChord(chord: Chord): number[] {
  const root = pcInRange(chord.root, 40);
  return [root];
}

function padEvents(plan: SongPlan, s: BarSection, chord: Chord): NoteEvent[] {
  if (!plan.instruments.pad) return [];
  const firstOfChord = s.barInSection % plan.chordBars === 0 || s.barInSection === 0;
  // Where the keys only arpeggiate, the pad carries the harmony in every section.
  const always =
    plan.genre === 'ambient' ||
    plan.genre === 'cinematic' ||
    plan.genre === 'trap' ||
    plan.genre === 'classical' ||
    plan.comp === 'arp';
  const plays = always || s.kind === 'chorus' || s.kind === 'intro' || s.kind === 'bridge' || s.kind === 'outro';
  if (!plays || !firstOfChord) return [];
  const tones = chord.tones.length > 4 ? chord.tones.slice(0, 4) : chord.tones;
  const voicing = voiceChord(tones, plan.instruments.pad === 'dark-pad' ? 57 : 60);
  const len = s.isFinalBar ? 16 : 16 * Math.min(plan.chordBars, s.sectionBars - s.barInSection) - 0.25;
  const vel = s.kind === 'chorus' ? 0.8 : 0.65;
  return voicing.map((midi, voice) => ({ part: 'pad' as const, step: 0, len, midi, vel, nudgeMs: 0, voice }));
}

// ---------------------------------------------------------------------------------------------------------------
// Lead

interface MotifNote {
  step: number;
  len: number;
  /** Scale degree relative to the tonic (may exceed 6 or be negative). */
  degree: number;
}

const MOTIF_BARS = 2;

function leadStyle(plan: SongPlan): { dense: boolean; staccato: boolean } {
  const lead = plan.instruments.lead;
  return {
    dense: plan.energy > 0.6 || plan.genre === 'jazz' || plan.genre === 'funk',
    staccato: lead === 'pluck' || lead === 'bells',
  };
}

/** A seeded two-bar motif for a section kind: a rhythm of onsets and a melodic walk on scale degrees. */
function makeMotif(plan: SongPlan, kind: SectionKind, variation: number): MotifNote[] {
  const rng = rngFor(plan.seed, 'motif', kind, variation);
  const { dense, staccato } = leadStyle(plan);
  const notes: MotifNote[] = [];
  const onsets: number[] = [];
  for (let step = 0; step < 16 * MOTIF_BARS; step += 2) {
    const beatPos = step % 16;
    const inSecondHalf = step >= 16 * MOTIF_BARS - 6;
    let p = beatPos % 8 === 0 ? 0.8 : beatPos % 4 === 0 ? 0.6 : dense ? 0.5 : 0.3;
    if (inSecondHalf) p = 0.15;
    if (step === 0 || rng.chance(p)) onsets.push(step);
    if (dense && beatPos % 4 === 2 && rng.chance(0.15) && !inSecondHalf) onsets.push(step + 1);
  }
  onsets.sort((a, b) => a - b);
  let degree = rng.pick([0, 2, 4, 7]);
  const hi = 9;
  const lo = -2;
  onsets.forEach((step, i) => {
    const next = onsets[i + 1] ?? 16 * MOTIF_BARS;
    const room = next - step;
    const len = staccato ? Math.min(room, 2) : Math.max(1, Math.min(room - (rng.chance(0.3) ? 1 : 0), 8));
    if (i > 0) {
      const leap = rng.pick([-2, -1, -1, 1, 1, 2, -3, 3, 0]);
      degree += leap;
      if (degree > hi) degree -= 3;
      if (degree < lo) degree += 3;
    }
    notes.push({ step, len, degree });
  });
  return notes;
}

/** Nearest chord tone (in scale degrees) to `degree`. */
function snapToChord(degree: number, chord: Chord): number {
  let best = degree;
  let bestDist = Infinity;
  for (let d = degree - 3; d <= degree + 3; d++) {
    const rel = (((d - chord.degree) % 7) + 7) % 7;
    if (rel === 0 || rel === 2 || rel === 4) {
      const dist = Math.abs(d - degree) + (d > degree ? 0.1 : 0);
      if (dist < bestDist) {
        bestDist = dist;
        best = d;
      }
    }
  }
  return best;
}

function leadBase(plan: SongPlan): number {
  switch (plan.instruments.lead) {
    case 'bells':
      return pcInRange(plan.tonic, 72);
    case 'vocal':
    case 'brass':
    case 'flute':
      return pcInRange(plan.tonic, 62);
    case 'piano':
    case 'rhodes':
      return pcInRange(plan.tonic, 67);
    default:
      return pcInRange(plan.tonic, 64);
  }
}

function leadEvents(plan: SongPlan, s: BarSection, chord: Chord): NoteEvent[] {
  if (!plan.instruments.lead) return [];
  if (s.kind === 'intro' || s.kind === 'outro') return [];
  const kind = s.kind;
  const rep = Math.floor(s.barInSection / MOTIF_BARS);
  const motifBar = s.barInSection % MOTIF_BARS;
  // Odd repetitions answer the call: same first bar, a new second bar.
  const base = makeMotif(plan, kind, 0);
  const answer = rep % 2 === 1 ? makeMotif(plan, kind, 1) : null;
  const source = answer && motifBar === 1 ? answer : base;
  const notes = source.filter((n) => Math.floor(n.step / 16) === motifBar);
  const out: NoteEvent[] = [];
  const rootMidi = leadBase(plan);
  const vel = kind === 'chorus' ? 0.85 : kind === 'bridge' ? 0.65 : 0.6;
  const lift = kind === 'chorus' ? 2 : 0;
  const lastRep = s.isLastBar && motifBar === 1;
  notes.forEach((n, i) => {
    let degree = n.degree + lift;
    const step = n.step % 16;
    let len = n.len;
    // Chord tones on the beats (and on long notes), passing tones between: the melody spells the harmony.
    const strong = step % 4 === 0 || len >= 4;
    if (strong || (lastRep && i === notes.length - 1)) degree = snapToChord(degree, chord);
    if (lastRep && i === notes.length - 1) len = Math.max(len, 16 - step - 1);
    let midi = rootMidi + degreeSemitones(plan.scale, degree);
    // Over the harmonic-minor V, the seventh degree is raised to the leading tone.
    if (plan.dominantV && chord.degree === 4 && ((degree % 7) + 7) % 7 === 6) midi += 1;
    out.push({
      part: 'lead',
      step,
      len: Math.min(len, 16 - step + 4),
      midi,
      vel: vel * (strong ? 1 : 0.85),
      nudgeMs: 0,
      voice: 0,
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

/** Every note of `bar`. Pure: depends on the plan (including its seed stream) and the bar index only. */
export function arrangeBar(plan: SongPlan, bar: number): BarPlan {
  const section = sectionAt(plan.form, bar);
  const chord = chordAt(plan, bar);
  const next = chordAt(plan, bar + 1 < plan.form.totalBars ? bar + 1 : bar);
  const drums = drumEvents(plan, bar, section);
  const events = [
    ...drums,
    ...bassEvents(plan, bar, section, chord, next, drums),
    ...compEvents(plan, bar, section, chord),
    ...padEvents(plan, section, chord),
    ...leadEvents(plan, section, chord),
  ];
  return { bar, section, chord, events };
}

/** A per-render random stream for a voice, keyed by the bar and the event's index: pure like the events. */
export const voiceSeed = (plan: SongPlan, bar: number, index: number): number =>
  mixSeed(plan.seed, 'voice', bar, index);
