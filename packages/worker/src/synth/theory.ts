/**
 * Music theory the synth needs: note spelling, keys, modes, diatonic chords, chord names and voicings.
 * Chords are built by stacking thirds inside the scale, so every mode gets its own diatonic harmony.
 */

export const SCALE_NAMES = ['major', 'minor', 'dorian', 'mixolydian', 'phrygian', 'lydian'] as const;
export type ScaleName = (typeof SCALE_NAMES)[number];

export const SCALES: Record<ScaleName, readonly number[]> = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
  dorian: [0, 2, 3, 5, 7, 9, 10],
  mixolydian: [0, 2, 4, 5, 7, 9, 10],
  phrygian: [0, 1, 3, 5, 7, 8, 10],
  lydian: [0, 2, 4, 6, 7, 9, 11],
};

/** Modes whose tonic triad is minor: they spell and name like minor keys. */
export const isMinorMode = (scale: ScaleName): boolean =>
  scale === 'minor' || scale === 'dorian' || scale === 'phrygian';

const SHARP_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'] as const;
const FLAT_NAMES = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'Gb', 'G', 'Ab', 'A', 'Bb', 'B'] as const;

/** Tonics (as pitch classes) whose major key signature uses sharps; minor keys use their relative major's side. */
const SHARP_MAJOR_TONICS = new Set([7, 2, 9, 4, 11, 6]);

export type Spelling = 'sharp' | 'flat';

export function noteName(pc: number, spelling: Spelling): string {
  const i = ((pc % 12) + 12) % 12;
  return (spelling === 'sharp' ? SHARP_NAMES[i] : FLAT_NAMES[i]) as string;
}

/** Spelling conventional for a key: the side of the circle of fifths its relative major sits on. */
export function defaultSpelling(tonic: number, scale: ScaleName): Spelling {
  const relMajor = isMinorMode(scale) ? (tonic + (scale === 'phrygian' ? 8 : scale === 'dorian' ? 10 : 3)) % 12 : tonic;
  const major = scale === 'mixolydian' ? (tonic + 5) % 12 : scale === 'lydian' ? (tonic + 7) % 12 : relMajor;
  return SHARP_MAJOR_TONICS.has(major) ? 'sharp' : 'flat';
}

export interface ParsedKey {
  tonic: number;
  /** Present when the key string also named a quality ("F#m", "Eb minor", "D dorian"). */
  scale?: ScaleName;
  /** The spelling the caller used, when it used an accidental. */
  spelling?: Spelling;
}

const LETTERS: Record<string, number> = { c: 0, d: 2, e: 4, f: 5, g: 7, a: 9, b: 11 };

const QUALITY_WORDS: [RegExp, ScaleName][] = [
  [/^(m|-)$/, 'minor'],
  [/^M$/, 'major'],
  [/^(min|minor|aeolian)$/i, 'minor'],
  [/^(maj|major|ionian)$/i, 'major'],
  [/^dorian$/i, 'dorian'],
  [/^mixolydian$/i, 'mixolydian'],
  [/^phrygian$/i, 'phrygian'],
  [/^lydian$/i, 'lydian'],
];

/** Parses 'C', 'F#', 'Bb', 'F#m', 'Eb minor', 'A dorian'. Returns null for anything else. */
export function parseKey(input: string): ParsedKey | null {
  const m = /^\s*([A-Ga-g])\s*(#|♯|b|♭)?\s*([A-Za-z-]*)\s*$/.exec(input);
  if (!m) return null;
  const letter = LETTERS[(m[1] as string).toLowerCase()];
  if (letter === undefined) return null;
  const acc = m[2];
  const sharp = acc === '#' || acc === '♯';
  const flat = acc === 'b' || acc === '♭';
  const tonic = (letter + (sharp ? 1 : flat ? -1 : 0) + 12) % 12;
  const quality = m[3] ?? '';
  const out: ParsedKey = { tonic };
  if (sharp) out.spelling = 'sharp';
  if (flat) out.spelling = 'flat';
  if (quality) {
    const hit = QUALITY_WORDS.find(([re]) => re.test(quality));
    if (!hit) return null;
    out.scale = hit[1];
  }
  return out;
}

export interface Chord {
  /** Scale degree of the root, 0-based (0 = tonic). */
  degree: number;
  /** Root pitch class. */
  root: number;
  /** Pitch classes from the root upwards (root, third, fifth, [seventh], [ninth]). */
  tones: number[];
  name: string;
}

/** Semitones of scale degree `d` (any integer) above the tonic, octaves included. */
export function degreeSemitones(scale: ScaleName, d: number): number {
  const steps = SCALES[scale];
  const oct = Math.floor(d / 7);
  return oct * 12 + (steps[d - oct * 7] as number);
}

/**
 * Diatonic chord on `degree`: a triad, seventh or ninth chord. `dominantV` raises the third of a minor-mode v to
 * make the harmonic-minor V that classical and cinematic cadences expect.
 */
export function diatonicChord(
  tonic: number,
  scale: ScaleName,
  degree: number,
  size: 3 | 4 | 5,
  spelling: Spelling,
  dominantV = false,
): Chord {
  const d = ((degree % 7) + 7) % 7;
  const base = degreeSemitones(scale, d);
  const intervals: number[] = [];
  for (let k = 0; k < size; k++) intervals.push(degreeSemitones(scale, d + 2 * k) - base);
  if (dominantV && d === 4 && intervals[1] === 3) intervals[1] = 4;
  const root = (tonic + base) % 12;
  return { degree: d, root, tones: intervals.map((i) => (root + i) % 12), name: chordName(root, intervals, spelling) };
}

function chordName(root: number, iv: number[], spelling: Spelling): string {
  const third = iv[1];
  const fifth = iv[2];
  const seventh = iv[3];
  const ninth = iv[4];
  const r = noteName(root, spelling);
  const minor = third === 3;
  const dim = minor && fifth === 6;
  const aug = !minor && fifth === 8;
  if (seventh === undefined) return r + (dim ? 'dim' : aug ? 'aug' : minor ? 'm' : '');
  const ext = ninth !== undefined ? '9' : '7';
  if (dim) return r + (seventh === 9 ? 'dim7' : ninth !== undefined ? 'm9b5' : 'm7b5');
  if (minor) return r + (seventh === 11 ? `m(maj${ext})` : `m${ext}`);
  if (seventh === 11) return r + (aug ? `maj${ext}#5` : `maj${ext}`);
  return r + ext;
}

/**
 * A close voicing of `tones` whose average pitch is nearest `centre` (a MIDI note). Choosing the inversion this way
 * depends on the chord alone (pure), yet keeps neighbouring chords near each other, which is most of voice leading.
 */
export function voiceChord(tones: readonly number[], centre: number): number[] {
  let best: number[] = [];
  let bestDist = Infinity;
  for (let inv = 0; inv < tones.length; inv++) {
    for (let octave = -1; octave <= 1; octave++) {
      const notes: number[] = [];
      let prev = -Infinity;
      for (let k = 0; k < tones.length; k++) {
        const pc = tones[(inv + k) % tones.length] as number;
        let n = Math.floor(centre / 12) * 12 + octave * 12 - 12 + pc;
        while (n <= prev) n += 12;
        if (k === 0) while (n < centre - 10) n += 12;
        notes.push(n);
        prev = n;
      }
      const mean = notes.reduce((a, b) => a + b, 0) / notes.length;
      const dist = Math.abs(mean - centre);
      if (dist < bestDist - 1e-9) {
        bestDist = dist;
        best = notes;
      }
    }
  }
  return best;
}

/** The MIDI note of pitch class `pc` in the octave window [lo, lo + 11]. */
export function pcInRange(pc: number, lo: number): number {
  return lo + ((((pc - lo) % 12) + 12) % 12);
}

export const midiToHz = (m: number): number => 440 * Math.pow(2, (m - 69) / 12);
