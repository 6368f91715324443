/**
 * What a song request means: the request shape of the local synth and the prompt interpreter that turns words into
 * a musical plan (genre, mood, tempo, key, scale, instruments, groove, harmony, form).
 *
 * Precedence, strongest first: explicit request fields (bpm, key, scale, genre) > words in the prompt > the genre's
 * (or mood's) defaults. Where a genre offers several equally good options (tempo, key, progression), the seed picks
 * one, deterministically.
 */
import { AppError } from '@dawg/shared';
import { type FormLayout, layoutForm, layoutSections, type SectionSpan } from './form';
import { mixSeed, Rng } from './rng';
import { defaultSpelling, isMinorMode, noteName, parseKey, SCALE_NAMES, type ScaleName, type Spelling } from './theory';

export interface SynthRequest {
  prompt: string;
  genre?: string;
  /** 40–240; wins over tempo words and genre defaults. */
  bpm?: number;
  /** 'C', 'F#', 'Bb', also 'F#m' / 'Eb minor' (the quality then sets the scale unless `scale` is given). */
  key?: string;
  scale?: ScaleName;
  /** 5–300 seconds. */
  durationSec: number;
  /** uint32. */
  seed: number;
  /** Vocals are not synthesised; a non-instrumental song gets a sung-vowel lead instead of a synth lead. */
  instrumental?: boolean;
  /** 0 or 1: a second take of the same request draws from another seed stream. */
  variant?: 0 | 1;
  /** Render from this bar to the end (for extend); bars before it are not part of the output. */
  startBar?: number;
  /**
   * Bar count that sizes the intro and the section phrases (default: the song's own). An extension passes the
   * original song's, so the form of the bars it continues from is unchanged.
   */
  formBars?: number;
}

export const GENRES = [
  'lofi',
  'hip-hop',
  'house',
  'techno',
  'trap',
  'drum-and-bass',
  'rock',
  'jazz',
  'ambient',
  'pop',
  'funk',
  'cinematic',
  'classical',
  'electronic',
  'reggae',
] as const;
export type Genre = (typeof GENRES)[number];

export const MOODS = ['neutral', 'dark', 'happy', 'sad', 'chill', 'epic', 'dreamy', 'aggressive'] as const;
export type Mood = (typeof MOODS)[number];

export type DrumStyle =
  | 'lofi'
  | 'boom-bap'
  | 'four-on-floor'
  | 'techno'
  | 'trap'
  | 'breakbeat'
  | 'rock'
  | 'jazz'
  | 'pop'
  | 'funk'
  | 'one-drop'
  | 'cinematic'
  | 'ambient'
  | 'none';

export type BassStyle =
  'lofi' | 'offbeat' | 'rolling' | '808' | 'sub' | 'eighths' | 'walking' | 'pop' | 'slap' | 'reggae' | 'sustain';

export type CompStyle =
  | 'lofi'
  | 'stabs'
  | 'pulse'
  | 'arp'
  | 'jazz'
  | 'power'
  | 'strum'
  | 'skank'
  | 'alberti'
  | 'chops'
  | 'ostinato'
  | 'sustain';

export type BassSound = 'synth' | 'sub' | '808' | 'upright' | 'electric' | 'reese' | 'acid';
export type ChordSound =
  'piano' | 'rhodes' | 'organ' | 'guitar' | 'distorted-guitar' | 'strings' | 'pluck' | 'clav' | 'pad';
export type PadSound = 'warm-pad' | 'dark-pad' | 'strings' | 'choir';
export type LeadSound =
  'saw-lead' | 'square-lead' | 'bells' | 'pluck' | 'flute' | 'piano' | 'vocal' | 'brass' | 'rhodes';

export interface Instruments {
  drums: boolean;
  bass: BassSound | null;
  chords: ChordSound;
  pad: PadSound | null;
  lead: LeadSound | null;
  /** Vinyl hiss under the mix (lofi). */
  vinyl: boolean;
}

/** Chord progressions as 0-based scale degrees; consecutive chords (wrapping around) always differ. */
export interface Progression {
  verse: readonly number[];
  chorus: readonly number[];
  bridge: readonly number[];
}

export interface SongPlan {
  prompt: string;
  genre: Genre;
  mood: Mood;
  bpm: number;
  /** Tonic spelled for display, e.g. 'F#' or 'Bb'. */
  key: string;
  tonic: number;
  scale: ScaleName;
  spelling: Spelling;
  instruments: Instruments;
  drumStyle: DrumStyle;
  bassStyle: BassStyle;
  comp: CompStyle;
  progression: Progression;
  /** Bars per chord: chords change only on bar lines. */
  chordBars: 1 | 2;
  /** Notes per chord: triads, sevenths or ninths. */
  chordSize: 3 | 4 | 5;
  /** Minor modes cadence on a major V (harmonic minor). */
  dominantV: boolean;
  /** Delay of off-beat 16ths as a fraction of a 16th note (0 = straight). */
  swing: number;
  /** 0..1: how busy and loud the arrangement is. */
  energy: number;
  /** 0..1: filter openness. */
  brightness: number;
  /** 0..1: reverb send. */
  reverb: number;
  /** Pads and bass duck under the kick. */
  sidechain: boolean;
  durationSec: number;
  /** The seed stream all musical choices come from (request seed mixed with the variant). */
  seed: number;
  variant: 0 | 1;
  instrumental: boolean;
  /** Where the headline choices came from, for logs and tests. */
  sources: { genre: Source; bpm: Source; key: Source; scale: Source };
  barSec: number;
  form: FormLayout;
  sections: SectionSpan[];
}

export type Source = 'param' | 'prompt' | 'mood' | 'genre' | 'default';

interface GenreProfile {
  words: string[];
  bpm: readonly number[];
  bpmRange: readonly [number, number];
  scales: readonly ScaleName[];
  keys: readonly number[];
  drumStyle: DrumStyle;
  bassStyle: BassStyle;
  comp: CompStyle;
  instruments: Instruments;
  progressions: ProgressionStyle;
  chordBars: 1 | 2;
  chordSize: 3 | 4 | 5;
  dominantV: boolean;
  swing: number;
  energy: number;
  brightness: number;
  reverb: number;
  sidechain: boolean;
}

type ProgressionStyle = 'pop' | 'jazz' | 'lofi' | 'dance' | 'rock' | 'cinematic' | 'classical';

const inst = (o: Partial<Instruments> & Pick<Instruments, 'chords'>): Instruments => ({
  drums: true,
  bass: 'synth',
  pad: null,
  lead: null,
  vinyl: false,
  ...o,
});

const GENRE_PROFILES: Record<Genre, GenreProfile> = {
  lofi: {
    words: ['lofi', 'lo-fi', 'lo fi', 'chillhop', 'chill hop', 'study beats', 'lofi hip hop', 'lo-fi hip hop'],
    bpm: [72, 76, 80, 84, 88],
    bpmRange: [60, 96],
    scales: ['minor', 'dorian', 'major'],
    keys: [0, 2, 4, 5, 7, 9],
    drumStyle: 'lofi',
    bassStyle: 'lofi',
    comp: 'lofi',
    instruments: inst({ chords: 'rhodes', bass: 'electric', lead: 'bells', vinyl: true }),
    progressions: 'lofi',
    chordBars: 1,
    chordSize: 5,
    dominantV: false,
    swing: 0.09,
    energy: 0.4,
    brightness: 0.35,
    reverb: 0.35,
    sidechain: false,
  },
  'hip-hop': {
    words: ['hip hop', 'hip-hop', 'hiphop', 'rap', 'boom bap', 'boom-bap', 'r&b', 'rnb', 'neo soul'],
    bpm: [86, 88, 90, 92, 94],
    bpmRange: [70, 105],
    scales: ['minor', 'dorian'],
    keys: [0, 2, 5, 7, 9, 10],
    drumStyle: 'boom-bap',
    bassStyle: 'lofi',
    comp: 'lofi',
    instruments: inst({ chords: 'piano', bass: 'electric', lead: 'rhodes' }),
    progressions: 'lofi',
    chordBars: 1,
    chordSize: 4,
    dominantV: false,
    swing: 0.08,
    energy: 0.6,
    brightness: 0.45,
    reverb: 0.25,
    sidechain: false,
  },
  house: {
    words: ['house', 'deep house', 'disco', 'garage', 'dance', 'club'],
    bpm: [120, 122, 124, 126],
    bpmRange: [115, 130],
    scales: ['minor', 'dorian', 'major'],
    keys: [0, 2, 5, 7, 9],
    drumStyle: 'four-on-floor',
    bassStyle: 'offbeat',
    comp: 'stabs',
    instruments: inst({ chords: 'piano', bass: 'synth', pad: 'warm-pad', lead: 'pluck' }),
    progressions: 'dance',
    chordBars: 2,
    chordSize: 4,
    dominantV: false,
    swing: 0,
    energy: 0.75,
    brightness: 0.6,
    reverb: 0.3,
    sidechain: true,
  },
  techno: {
    words: ['techno', 'minimal', 'industrial', 'rave', 'warehouse'],
    bpm: [126, 128, 130, 132],
    bpmRange: [120, 145],
    scales: ['minor', 'phrygian'],
    keys: [0, 2, 4, 5, 7, 9],
    drumStyle: 'techno',
    bassStyle: 'rolling',
    comp: 'arp',
    instruments: inst({ chords: 'pluck', bass: 'acid', pad: 'dark-pad', lead: null }),
    progressions: 'dance',
    chordBars: 2,
    chordSize: 3,
    dominantV: false,
    swing: 0,
    energy: 0.85,
    brightness: 0.5,
    reverb: 0.3,
    sidechain: true,
  },
  trap: {
    words: ['trap', 'drill', 'phonk', '808s'],
    bpm: [136, 140, 142, 145],
    bpmRange: [120, 160],
    scales: ['minor', 'phrygian'],
    keys: [0, 1, 3, 5, 6, 8],
    drumStyle: 'trap',
    bassStyle: '808',
    comp: 'sustain',
    instruments: inst({ chords: 'pad', bass: '808', pad: 'dark-pad', lead: 'bells' }),
    progressions: 'cinematic',
    chordBars: 2,
    chordSize: 3,
    dominantV: false,
    swing: 0,
    energy: 0.7,
    brightness: 0.45,
    reverb: 0.3,
    sidechain: false,
  },
  'drum-and-bass': {
    words: ['drum and bass', 'drum & bass', 'drum n bass', "drum 'n' bass", 'dnb', 'd&b', 'jungle', 'liquid'],
    bpm: [170, 172, 174, 176],
    bpmRange: [160, 180],
    scales: ['minor', 'dorian'],
    keys: [0, 2, 5, 7, 9],
    drumStyle: 'breakbeat',
    bassStyle: 'sub',
    comp: 'sustain',
    instruments: inst({ chords: 'pad', bass: 'reese', pad: 'warm-pad', lead: 'pluck' }),
    progressions: 'dance',
    chordBars: 2,
    chordSize: 4,
    dominantV: false,
    swing: 0,
    energy: 0.85,
    brightness: 0.55,
    reverb: 0.35,
    sidechain: false,
  },
  rock: {
    words: ['rock', 'punk', 'metal', 'grunge', 'indie', 'alternative', 'garage rock', 'blues'],
    bpm: [112, 120, 126, 132, 140],
    bpmRange: [90, 180],
    scales: ['major', 'mixolydian', 'minor'],
    keys: [4, 9, 2, 7, 0],
    drumStyle: 'rock',
    bassStyle: 'eighths',
    comp: 'power',
    instruments: inst({ chords: 'distorted-guitar', bass: 'electric', lead: 'saw-lead' }),
    progressions: 'rock',
    chordBars: 1,
    chordSize: 3,
    dominantV: false,
    swing: 0,
    energy: 0.85,
    brightness: 0.7,
    reverb: 0.2,
    sidechain: false,
  },
  jazz: {
    words: ['jazz', 'jazzy', 'swing', 'bebop', 'bossa', 'bossa nova', 'lounge', 'trio', 'smooth jazz'],
    bpm: [110, 120, 126, 132, 140],
    bpmRange: [80, 200],
    scales: ['major', 'dorian', 'minor'],
    keys: [0, 5, 10, 3, 7],
    drumStyle: 'jazz',
    bassStyle: 'walking',
    comp: 'jazz',
    instruments: inst({ chords: 'piano', bass: 'upright', lead: 'piano' }),
    progressions: 'jazz',
    chordBars: 1,
    chordSize: 4,
    dominantV: true,
    swing: 0.08,
    energy: 0.5,
    brightness: 0.5,
    reverb: 0.3,
    sidechain: false,
  },
  ambient: {
    words: ['ambient', 'drone', 'meditation', 'new age', 'soundscape', 'chillout', 'chill-out', 'downtempo'],
    bpm: [66, 70, 72, 76, 80],
    bpmRange: [50, 96],
    scales: ['lydian', 'major', 'dorian'],
    keys: [0, 2, 4, 7, 9],
    drumStyle: 'ambient',
    bassStyle: 'sustain',
    comp: 'sustain',
    instruments: inst({ chords: 'pad', bass: 'sub', pad: 'warm-pad', lead: 'bells' }),
    progressions: 'cinematic',
    chordBars: 2,
    chordSize: 5,
    dominantV: false,
    swing: 0,
    energy: 0.25,
    brightness: 0.35,
    reverb: 0.6,
    sidechain: false,
  },
  pop: {
    words: [
      'pop',
      'synthpop',
      'synth pop',
      'ballad',
      'radio',
      'catchy',
      'country',
      'folk',
      'acoustic',
      'k-pop',
      'kpop',
    ],
    bpm: [100, 104, 110, 116, 120],
    bpmRange: [70, 140],
    scales: ['major'],
    keys: [0, 2, 4, 5, 7, 9],
    drumStyle: 'pop',
    bassStyle: 'pop',
    comp: 'pulse',
    instruments: inst({ chords: 'piano', bass: 'synth', pad: 'warm-pad', lead: 'square-lead' }),
    progressions: 'pop',
    chordBars: 1,
    chordSize: 3,
    dominantV: false,
    swing: 0,
    energy: 0.7,
    brightness: 0.6,
    reverb: 0.3,
    sidechain: false,
  },
  funk: {
    words: ['funk', 'funky', 'groove', 'groovy', 'soul', 'motown'],
    bpm: [98, 102, 106, 110, 114],
    bpmRange: [85, 125],
    scales: ['dorian', 'mixolydian'],
    keys: [4, 9, 2, 7, 0],
    drumStyle: 'funk',
    bassStyle: 'slap',
    comp: 'chops',
    instruments: inst({ chords: 'clav', bass: 'electric', lead: 'brass' }),
    progressions: 'rock',
    chordBars: 1,
    chordSize: 4,
    dominantV: false,
    swing: 0.04,
    energy: 0.75,
    brightness: 0.65,
    reverb: 0.2,
    sidechain: false,
  },
  cinematic: {
    words: ['cinematic', 'orchestral', 'film score', 'soundtrack', 'trailer', 'score', 'movie', 'game music'],
    bpm: [80, 86, 90, 96, 100],
    bpmRange: [60, 140],
    scales: ['minor'],
    keys: [2, 4, 7, 9, 0],
    drumStyle: 'cinematic',
    bassStyle: 'sustain',
    comp: 'ostinato',
    instruments: inst({ chords: 'strings', bass: 'sub', pad: 'strings', lead: 'brass' }),
    progressions: 'cinematic',
    chordBars: 2,
    chordSize: 3,
    dominantV: true,
    swing: 0,
    energy: 0.7,
    brightness: 0.5,
    reverb: 0.55,
    sidechain: false,
  },
  classical: {
    words: ['classical', 'baroque', 'sonata', 'concerto', 'symphony', 'waltz', 'chamber', 'romantic era', 'nocturne'],
    bpm: [84, 90, 96, 100, 108],
    bpmRange: [56, 144],
    scales: ['major', 'minor'],
    keys: [0, 7, 2, 9, 5],
    drumStyle: 'none',
    bassStyle: 'sustain',
    comp: 'alberti',
    instruments: inst({ chords: 'piano', bass: null, pad: 'strings', lead: 'piano', drums: false }),
    progressions: 'classical',
    chordBars: 1,
    chordSize: 3,
    dominantV: true,
    swing: 0,
    energy: 0.4,
    brightness: 0.5,
    reverb: 0.45,
    sidechain: false,
  },
  electronic: {
    words: [
      'electronic',
      'edm',
      'synthwave',
      'retrowave',
      'trance',
      'electro',
      'future bass',
      'idm',
      'chiptune',
      'synth',
    ],
    bpm: [118, 122, 124, 128],
    bpmRange: [100, 150],
    scales: ['minor', 'major'],
    keys: [0, 2, 5, 7, 9],
    drumStyle: 'four-on-floor',
    bassStyle: 'offbeat',
    comp: 'arp',
    instruments: inst({ chords: 'pluck', bass: 'synth', pad: 'warm-pad', lead: 'saw-lead' }),
    progressions: 'dance',
    chordBars: 2,
    chordSize: 3,
    dominantV: false,
    swing: 0,
    energy: 0.75,
    brightness: 0.6,
    reverb: 0.35,
    sidechain: true,
  },
  reggae: {
    words: ['reggae', 'dub', 'ska', 'dancehall', 'roots', 'rocksteady'],
    bpm: [72, 76, 80, 84],
    bpmRange: [60, 100],
    scales: ['major', 'minor'],
    keys: [7, 9, 2, 0, 5],
    drumStyle: 'one-drop',
    bassStyle: 'reggae',
    comp: 'skank',
    instruments: inst({ chords: 'organ', bass: 'electric', lead: 'flute' }),
    progressions: 'rock',
    chordBars: 1,
    chordSize: 3,
    dominantV: false,
    swing: 0.05,
    energy: 0.55,
    brightness: 0.5,
    reverb: 0.3,
    sidechain: false,
  },
};

interface MoodProfile {
  words: string[];
  scales: readonly ScaleName[] | null;
  bpmFactor: number;
  brightness: number;
  energy: number;
  reverb: number;
  /** Genre when the prompt names none. */
  genre: Genre;
}

const MOOD_PROFILES: Record<Exclude<Mood, 'neutral'>, MoodProfile> = {
  dark: {
    words: [
      'dark',
      'sinister',
      'ominous',
      'menacing',
      'evil',
      'gloomy',
      'moody',
      'haunting',
      'eerie',
      'night',
      'spooky',
    ],
    scales: ['minor', 'phrygian'],
    bpmFactor: 1,
    brightness: -0.2,
    energy: 0,
    reverb: 0.1,
    genre: 'electronic',
  },
  happy: {
    words: ['happy', 'joyful', 'uplifting', 'cheerful', 'sunny', 'bright', 'fun', 'playful', 'positive', 'summer'],
    scales: ['major', 'mixolydian'],
    bpmFactor: 1.05,
    brightness: 0.15,
    energy: 0.1,
    reverb: 0,
    genre: 'pop',
  },
  sad: {
    words: [
      'sad',
      'melancholic',
      'melancholy',
      'sorrowful',
      'emotional',
      'heartbreak',
      'lonely',
      'nostalgic',
      'bittersweet',
      'tears',
      'rainy',
    ],
    scales: ['minor'],
    bpmFactor: 0.9,
    brightness: -0.1,
    energy: -0.15,
    reverb: 0.1,
    genre: 'pop',
  },
  chill: {
    words: [
      'chill',
      'relaxed',
      'relaxing',
      'calm',
      'mellow',
      'laid back',
      'laid-back',
      'peaceful',
      'study',
      'cozy',
      'smooth',
      'soft',
    ],
    scales: null,
    bpmFactor: 0.93,
    brightness: -0.1,
    energy: -0.15,
    reverb: 0.05,
    genre: 'lofi',
  },
  epic: {
    words: ['epic', 'heroic', 'powerful', 'triumphant', 'massive', 'anthem', 'anthemic', 'grand', 'majestic', 'battle'],
    scales: ['minor'],
    bpmFactor: 1,
    brightness: 0.1,
    energy: 0.2,
    reverb: 0.1,
    genre: 'cinematic',
  },
  dreamy: {
    words: [
      'dreamy',
      'ethereal',
      'floating',
      'atmospheric',
      'spacey',
      'spacy',
      'hazy',
      'dream',
      'celestial',
      'shimmering',
    ],
    scales: ['lydian', 'major'],
    bpmFactor: 0.95,
    brightness: -0.05,
    energy: -0.1,
    reverb: 0.25,
    genre: 'ambient',
  },
  aggressive: {
    words: ['aggressive', 'angry', 'hard', 'intense', 'heavy', 'brutal', 'rage', 'furious', 'hardcore', 'gritty'],
    scales: ['minor', 'phrygian'],
    bpmFactor: 1.08,
    brightness: 0.2,
    energy: 0.2,
    reverb: -0.1,
    genre: 'rock',
  },
};

/** Compound phrases checked before single genre words, so "lofi hip hop" is lofi rather than a tie. */
const COMPOUND_GENRES: [string, Genre][] = [
  ['lofi hip hop', 'lofi'],
  ['lo-fi hip hop', 'lofi'],
  ['lo fi hip hop', 'lofi'],
  ['jazz hop', 'lofi'],
  ['jazzy hip hop', 'hip-hop'],
  ['garage rock', 'rock'],
  ['deep house', 'house'],
  ['future bass', 'electronic'],
  ['drum and bass', 'drum-and-bass'],
  ['smooth jazz', 'jazz'],
  ['piano ballad', 'pop'],
];

const PROGRESSIONS: Record<ProgressionStyle, { major: Progression[]; minor: Progression[] }> = {
  pop: {
    major: [
      { verse: [0, 4, 5, 3], chorus: [5, 3, 0, 4], bridge: [3, 4, 2, 5] },
      { verse: [0, 5, 3, 4], chorus: [3, 0, 4, 5], bridge: [5, 2, 3, 4] },
      { verse: [0, 3, 5, 4], chorus: [0, 4, 5, 3], bridge: [1, 4, 2, 5] },
    ],
    minor: [
      { verse: [0, 5, 2, 6], chorus: [5, 2, 6, 0], bridge: [3, 5, 6, 4] },
      { verse: [0, 3, 5, 4], chorus: [5, 6, 0, 4], bridge: [3, 0, 5, 6] },
    ],
  },
  rock: {
    major: [
      { verse: [0, 4, 3, 4], chorus: [3, 0, 4, 5], bridge: [5, 3, 4, 1] },
      { verse: [0, 3, 4, 3], chorus: [0, 4, 5, 3], bridge: [5, 4, 3, 4] },
    ],
    minor: [
      { verse: [0, 6, 5, 6], chorus: [5, 6, 0, 4], bridge: [3, 4, 5, 6] },
      { verse: [0, 3, 6, 3], chorus: [0, 5, 6, 4], bridge: [5, 6, 3, 4] },
    ],
  },
  jazz: {
    major: [
      { verse: [1, 4, 0, 5], chorus: [0, 5, 1, 4], bridge: [3, 2, 1, 4] },
      { verse: [0, 5, 1, 4], chorus: [2, 5, 1, 4], bridge: [3, 6, 2, 4] },
    ],
    minor: [
      { verse: [0, 3, 6, 2], chorus: [5, 1, 4, 0], bridge: [3, 6, 2, 5] },
      { verse: [3, 6, 2, 5], chorus: [1, 4, 0, 5], bridge: [0, 3, 1, 4] },
    ],
  },
  lofi: {
    major: [
      { verse: [3, 2, 1, 0], chorus: [1, 4, 0, 5], bridge: [3, 4, 2, 5] },
      { verse: [0, 5, 1, 4], chorus: [3, 2, 5, 4], bridge: [1, 2, 3, 4] },
    ],
    minor: [
      { verse: [0, 3, 6, 2], chorus: [5, 6, 0, 3], bridge: [3, 4, 5, 6] },
      { verse: [5, 4, 0, 3], chorus: [0, 6, 5, 4], bridge: [3, 6, 2, 5] },
    ],
  },
  dance: {
    major: [
      { verse: [0, 4, 5, 3], chorus: [5, 3, 0, 4], bridge: [3, 4, 5, 4] },
      { verse: [5, 3, 0, 4], chorus: [3, 4, 5, 0], bridge: [1, 4, 5, 3] },
    ],
    minor: [
      { verse: [0, 5, 6, 4], chorus: [5, 6, 0, 3], bridge: [3, 5, 6, 5] },
      { verse: [0, 6, 5, 6], chorus: [5, 2, 6, 0], bridge: [3, 6, 5, 6] },
      { verse: [0, 5, 2, 6], chorus: [5, 6, 0, 6], bridge: [3, 4, 5, 6] },
    ],
  },
  cinematic: {
    major: [
      { verse: [0, 2, 5, 3], chorus: [3, 0, 4, 5], bridge: [5, 3, 1, 4] },
      { verse: [0, 3, 5, 4], chorus: [5, 3, 0, 4], bridge: [1, 3, 4, 3] },
    ],
    minor: [
      { verse: [0, 5, 2, 6], chorus: [5, 2, 6, 0], bridge: [3, 0, 4, 5] },
      { verse: [0, 5, 3, 4], chorus: [5, 6, 2, 4], bridge: [3, 6, 2, 4] },
    ],
  },
  classical: {
    major: [
      { verse: [0, 3, 1, 4], chorus: [0, 5, 1, 4], bridge: [5, 1, 4, 0] },
      { verse: [0, 4, 5, 2], chorus: [3, 0, 1, 4], bridge: [5, 3, 1, 4] },
    ],
    minor: [
      { verse: [0, 3, 4, 5], chorus: [0, 5, 3, 4], bridge: [2, 5, 1, 4] },
      { verse: [0, 5, 3, 4], chorus: [0, 3, 6, 2], bridge: [5, 1, 4, 0] },
    ],
  },
};

/** Modal vamps: a mode's colour is its characteristic chord against the tonic. */
const MODAL_PROGRESSIONS: Partial<Record<ScaleName, Progression[]>> = {
  dorian: [
    { verse: [0, 3, 0, 6], chorus: [0, 3, 6, 4], bridge: [2, 3, 6, 3] },
    { verse: [0, 6, 3, 6], chorus: [3, 4, 0, 6], bridge: [2, 3, 4, 3] },
  ],
  mixolydian: [
    { verse: [0, 6, 3, 6], chorus: [3, 0, 6, 4], bridge: [5, 6, 3, 4] },
    { verse: [0, 3, 6, 3], chorus: [6, 3, 0, 4], bridge: [5, 4, 3, 6] },
  ],
  phrygian: [
    { verse: [0, 1, 0, 6], chorus: [5, 1, 0, 6], bridge: [3, 1, 5, 6] },
    { verse: [0, 6, 1, 6], chorus: [5, 6, 1, 0], bridge: [3, 5, 6, 1] },
  ],
  lydian: [
    { verse: [0, 1, 0, 4], chorus: [5, 1, 4, 0], bridge: [2, 1, 5, 4] },
    { verse: [0, 1, 5, 4], chorus: [3, 4, 1, 0], bridge: [5, 1, 2, 1] },
  ],
};

/** Every progression in the library, for tests of its invariants. */
export function allProgressions(): Progression[] {
  const out: Progression[] = [];
  for (const style of Object.values(PROGRESSIONS)) out.push(...style.major, ...style.minor);
  for (const list of Object.values(MODAL_PROGRESSIONS)) out.push(...(list ?? []));
  return out;
}

const INSTRUMENT_WORDS: [string[], (i: Instruments, ctx: { genre: Genre }) => void][] = [
  [['rhodes', 'electric piano', 'e-piano', 'epiano', 'wurlitzer', 'wurli', 'keys'], (i) => (i.chords = 'rhodes')],
  [['piano', 'grand piano', 'upright piano', 'keyboard'], (i) => (i.chords = 'piano')],
  [['organ', 'hammond'], (i) => (i.chords = 'organ')],
  [
    ['guitar', 'guitars', 'acoustic guitar', 'electric guitar', 'strum', 'strumming'],
    (i, c) => (i.chords = c.genre === 'rock' ? 'distorted-guitar' : 'guitar'),
  ],
  [['distorted', 'distortion', 'power chords', 'fuzz'], (i) => (i.chords = 'distorted-guitar')],
  [['clavinet', 'clav'], (i) => (i.chords = 'clav')],
  [
    ['strings', 'string', 'orchestra', 'violin', 'violins', 'cello', 'cellos', 'viola', 'quartet'],
    (i) => (i.pad = 'strings'),
  ],
  [['pad', 'pads', 'synth pad', 'atmosphere', 'atmospheres', 'texture'], (i) => (i.pad = i.pad ?? 'warm-pad')],
  [['choir', 'choral', 'voices', 'aahs', 'oohs'], (i) => (i.pad = 'choir')],
  [['pluck', 'plucks', 'arp', 'arps', 'arpeggio', 'arpeggios', 'arpeggiated'], (i) => (i.chords = 'pluck')],
  [['808', '808s'], (i) => (i.bass = '808')],
  [['sub bass', 'sub-bass', 'subbass'], (i) => (i.bass = 'sub')],
  [['upright bass', 'double bass', 'acoustic bass', 'contrabass'], (i) => (i.bass = 'upright')],
  [['acid', '303'], (i) => (i.bass = 'acid')],
  [['reese'], (i) => (i.bass = 'reese')],
  [['synth bass', 'bassline', 'bass line'], (i) => (i.bass = i.bass ?? 'synth')],
  [
    ['bells', 'bell', 'glockenspiel', 'music box', 'chimes', 'celesta', 'vibraphone', 'marimba'],
    (i) => (i.lead = 'bells'),
  ],
  [['synth lead', 'lead synth', 'saw lead', 'supersaw', 'lead'], (i) => (i.lead = 'saw-lead')],
  [['chiptune', '8-bit', '8 bit', 'square lead'], (i) => (i.lead = 'square-lead')],
  [['flute', 'flutes', 'pan flute', 'whistle', 'recorder'], (i) => (i.lead = 'flute')],
  [['brass', 'horns', 'horn', 'trumpet', 'trumpets', 'saxophone', 'sax', 'trombone'], (i) => (i.lead = 'brass')],
  [['vocal', 'vocals', 'singing', 'singer', 'voice', 'humming'], (i) => (i.lead = 'vocal')],
  [['vinyl', 'crackle', 'tape', 'dusty'], (i) => (i.vinyl = true)],
];

const NO_DRUMS = ['no drums', 'without drums', 'drumless', 'no percussion', 'beatless', 'no beat', 'solo piano'];
const NO_BASS = ['no bass', 'without bass', 'solo piano'];
const SLOW_WORDS = ['slow', 'slower', 'downtempo', 'relaxed', 'lazy', 'laid back', 'laid-back', 'ballad', 'half time'];
const FAST_WORDS = [
  'fast',
  'faster',
  'upbeat',
  'up-tempo',
  'uptempo',
  'energetic',
  'driving',
  'high energy',
  'frantic',
  'quick',
];

const GENRE_ALIASES: Record<string, Genre> = Object.fromEntries(
  GENRES.flatMap((g) => [[g, g] as const, ...GENRE_PROFILES[g].words.map((w) => [normalize(w), g] as const)]),
);

function normalize(s: string): string {
  return s
    .toLowerCase()
    .replace(/[_/,.;:!?()[\]{}"]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function phraseRegex(phrase: string): RegExp {
  const body = normalize(phrase)
    .split(/[\s-]+/)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\&']/g, (c) => `\\${c}`))
    .join('[\\s-]?');
  return new RegExp(`(?:^|[^a-z0-9])${body}(?=$|[^a-z0-9])`);
}

const regexCache = new Map<string, RegExp>();
/** Index of the first occurrence of `phrase` as whole words in `text`, or -1. */
function findPhrase(text: string, phrase: string): number {
  let re = regexCache.get(phrase);
  if (!re) {
    re = phraseRegex(phrase);
    regexCache.set(phrase, re);
  }
  const m = re.exec(text);
  return m ? m.index : -1;
}

const mentions = (text: string, words: readonly string[]): boolean => words.some((w) => findPhrase(text, w) >= 0);

/** Earliest-mentioned entry of a keyword table, or null. */
function firstMentioned<T>(text: string, table: readonly (readonly [readonly string[], T])[]): T | null {
  let best: T | null = null;
  let bestAt = Infinity;
  for (const [words, value] of table) {
    for (const w of words) {
      const at = findPhrase(text, w);
      if (at >= 0 && at < bestAt) {
        bestAt = at;
        best = value;
      }
    }
  }
  return best;
}

/** Maps a free-text genre (a request field or a word) to one of ours, or null. */
export function genreFromText(text: string): Genre | null {
  const t = normalize(text);
  const direct = GENRE_ALIASES[t];
  if (direct) return direct;
  for (const [phrase, g] of COMPOUND_GENRES) if (findPhrase(t, phrase) >= 0) return g;
  return firstMentioned(
    t,
    GENRES.map((g) => [[g, ...GENRE_PROFILES[g].words], g] as const),
  );
}

/** A tempo written in the prompt: "90 bpm", "bpm 90", "at 128", or a bare 40–240 number that is no other unit. */
export function tempoFromText(text: string): number | null {
  const t = normalize(text);
  const tagged = /(\d{2,3}(?:\.\d+)?)\s*bpm\b/.exec(t) ?? /\bbpm\s*(?:=|of|at)?\s*(\d{2,3}(?:\.\d+)?)\b/.exec(t);
  if (tagged) {
    const v = Number(tagged[1]);
    return v >= 40 && v <= 240 ? v : null;
  }
  const bare = /(?:^|\s)(\d{2,3})(?![\d.]|\s*(?:s\b|'s|sec|second|seconds|min|minute|minutes|%|hz|khz|ms|bars?|x\b))/g;
  for (const m of t.matchAll(bare)) {
    const v = Number(m[1]);
    if (v === 808 || v === 909 || v === 303) continue;
    if (v >= 40 && v <= 240) return v;
  }
  return null;
}

/** A key written in the prompt: "in F# minor", "key of Bb", "A dorian", "C major". Case matters for the letter. */
export function keyFromText(text: string): ReturnType<typeof parseKey> {
  const qualities = 'major|minor|maj|min|dorian|mixolydian|phrygian|lydian|aeolian|ionian';
  const withQuality = new RegExp(`(?:^|[^A-Za-z])([A-G](?:#|♯|b|♭)?)\\s*(${qualities})\\b`);
  for (const m of text.matchAll(new RegExp(withQuality.source, 'gi'))) {
    if (/[A-G]/.test((m[1] as string)[0] as string)) return parseKey(`${m[1]} ${m[2]}`);
  }
  const keyOf = /\b(?:key of|in the key of|key)\s+([A-G](?:#|♯|b|♭)?m?)\b/i.exec(text);
  if (keyOf) return parseKey(keyOf[1] as string);
  const inKey = /\bin\s+([A-G](?:#|♯|b|♭)?m?)(?=$|[\s,.;])/.exec(text);
  if (inKey) return parseKey(inKey[1] as string);
  return null;
}

function scaleFromText(text: string): ScaleName | null {
  const t = normalize(text);
  const table: [string[], ScaleName][] = [
    [['dorian'], 'dorian'],
    [['mixolydian'], 'mixolydian'],
    [['phrygian'], 'phrygian'],
    [['lydian'], 'lydian'],
    [['minor', 'minor key', 'aeolian'], 'minor'],
    [['major', 'major key', 'ionian'], 'major'],
  ];
  return firstMentioned(t, table);
}

function moodFromText(text: string): Exclude<Mood, 'neutral'> | null {
  const t = normalize(text);
  return firstMentioned(
    t,
    (Object.keys(MOOD_PROFILES) as Exclude<Mood, 'neutral'>[]).map((m) => [MOOD_PROFILES[m].words, m] as const),
  );
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

function invalid(path: string, message: string): AppError {
  return new AppError('BAD_REQUEST', `invalid synth request: ${path} ${message}`, {
    details: [{ path: [path], message }],
  });
}

/** Validates the numeric ranges of a request; throws AppError BAD_REQUEST naming the field. */
export function validateRequest(req: SynthRequest): void {
  if (typeof req.prompt !== 'string') throw invalid('prompt', 'must be a string');
  if (!Number.isFinite(req.durationSec) || req.durationSec < 5 || req.durationSec > 300)
    throw invalid('durationSec', 'must be between 5 and 300');
  if (!Number.isInteger(req.seed) || req.seed < 0 || req.seed > 0xffffffff) throw invalid('seed', 'must be a uint32');
  if (req.bpm !== undefined && (!Number.isFinite(req.bpm) || req.bpm < 40 || req.bpm > 240))
    throw invalid('bpm', 'must be between 40 and 240');
  if (req.key !== undefined && parseKey(req.key) === null) throw invalid('key', `"${req.key}" is not a key`);
  if (req.scale !== undefined && !(SCALE_NAMES as readonly string[]).includes(req.scale))
    throw invalid('scale', `must be one of ${SCALE_NAMES.join(', ')}`);
  if (req.variant !== undefined && req.variant !== 0 && req.variant !== 1) throw invalid('variant', 'must be 0 or 1');
  if (req.startBar !== undefined && (!Number.isInteger(req.startBar) || req.startBar < 0))
    throw invalid('startBar', 'must be a non-negative integer');
  if (req.formBars !== undefined && (!Number.isInteger(req.formBars) || req.formBars < 1 || req.formBars > 1000))
    throw invalid('formBars', 'must be a positive integer');
}

export interface PlanOptions {
  seed?: number;
  durationSec?: number;
  bpm?: number;
  key?: string;
  scale?: ScaleName;
  variant?: 0 | 1;
  instrumental?: boolean;
  formBars?: number;
}

/** The seed stream of a request: variant 0 is the request seed itself, variant 1 another stream. */
export const streamSeed = (seed: number, variant: 0 | 1 = 0): number =>
  variant === 0 ? seed >>> 0 : mixSeed(seed, 'variant', variant);

/**
 * Turns a prompt (and an optional genre field) into a full song plan. `options` carries the explicit request fields
 * that win over words; without them the plan is for a 30 s song with seed 0.
 */
export function interpretPrompt(prompt: string, genre?: string, options: PlanOptions = {}): SongPlan {
  const variant = options.variant ?? 0;
  const seed = streamSeed(options.seed ?? 0, variant);
  const rng = new Rng(mixSeed(seed, 'plan'));
  const text = normalize(prompt);

  const moodWord = moodFromText(prompt);
  const mood: Mood = moodWord ?? 'neutral';
  const moodProfile = moodWord ? MOOD_PROFILES[moodWord] : null;

  let g: Genre;
  let genreSource: Source;
  const fromParam = genre ? genreFromText(genre) : null;
  const fromPrompt = genreFromText(prompt);
  if (fromParam) [g, genreSource] = [fromParam, 'param'];
  else if (fromPrompt) [g, genreSource] = [fromPrompt, 'prompt'];
  else if (moodProfile) [g, genreSource] = [moodProfile.genre, 'mood'];
  else [g, genreSource] = ['pop', 'default'];
  const profile = GENRE_PROFILES[g];

  // Scale: explicit field > key quality in the field > words ("minor", "F# minor") > mood > genre (seeded pick).
  const keyParam = options.key !== undefined ? parseKey(options.key) : null;
  const keyWords = keyFromText(prompt);
  let scale: ScaleName;
  let scaleSource: Source;
  const scaleWord = scaleFromText(prompt);
  const genreScale = rng.pick(profile.scales);
  if (options.scale) [scale, scaleSource] = [options.scale, 'param'];
  else if (keyParam?.scale) [scale, scaleSource] = [keyParam.scale, 'param'];
  else if (keyWords?.scale) [scale, scaleSource] = [keyWords.scale, 'prompt'];
  else if (scaleWord) [scale, scaleSource] = [scaleWord, 'prompt'];
  else if (moodProfile?.scales) {
    const fits = moodProfile.scales.filter((s) => profile.scales.includes(s));
    scale = fits.length > 0 ? rng.pick(fits) : rng.pick(moodProfile.scales);
    scaleSource = 'mood';
  } else [scale, scaleSource] = [genreScale, 'genre'];

  let tonic: number;
  let keySource: Source;
  let spelling: Spelling | undefined;
  const genreKey = rng.pick(profile.keys);
  if (keyParam) [tonic, keySource, spelling] = [keyParam.tonic, 'param', keyParam.spelling];
  else if (keyWords) [tonic, keySource, spelling] = [keyWords.tonic, 'prompt', keyWords.spelling];
  else [tonic, keySource] = [genreKey, 'genre'];
  spelling ??= defaultSpelling(tonic, scale);

  // Tempo: explicit field > a number in the prompt > genre default moved by tempo and mood words.
  let bpm: number;
  let bpmSource: Source;
  const genreBpm = rng.pick(profile.bpm);
  const promptBpm = tempoFromText(prompt);
  if (options.bpm !== undefined) [bpm, bpmSource] = [options.bpm, 'param'];
  else if (promptBpm !== null) [bpm, bpmSource] = [promptBpm, 'prompt'];
  else {
    const slow = mentions(text, SLOW_WORDS);
    const fast = mentions(text, FAST_WORDS);
    const factor = (moodProfile?.bpmFactor ?? 1) * (slow ? 0.85 : 1) * (fast ? 1.15 : 1);
    bpm = Math.round(clamp(genreBpm * factor, profile.bpmRange[0], profile.bpmRange[1]));
    bpmSource = slow || fast ? 'prompt' : factor !== 1 ? 'mood' : 'genre';
  }

  const instruments: Instruments = { ...profile.instruments };
  for (const [words, apply] of INSTRUMENT_WORDS) if (mentions(text, words)) apply(instruments, { genre: g });
  if (moodWord === 'dark' && instruments.pad === 'warm-pad') instruments.pad = 'dark-pad';
  if (moodWord === 'epic' && !instruments.pad) instruments.pad = 'strings';
  if (mentions(text, NO_DRUMS)) instruments.drums = false;
  if (mentions(text, NO_BASS)) instruments.bass = null;
  if (mentions(text, ['trio'])) {
    instruments.pad = null;
    if (g === 'jazz') instruments.lead = 'piano';
  }
  if (options.instrumental === false && instruments.lead !== null && instruments.lead !== 'vocal')
    instruments.lead = 'vocal';

  let comp = profile.comp;
  if (instruments.chords === 'pluck' && comp !== 'arp') comp = 'arp';
  if (instruments.chords === 'guitar' && (comp === 'stabs' || comp === 'pulse' || comp === 'sustain')) comp = 'strum';
  if (instruments.chords === 'distorted-guitar') comp = 'power';
  if ((instruments.chords === 'rhodes' || instruments.chords === 'piano') && comp === 'power') comp = 'pulse';
  if (instruments.chords === 'organ' && comp === 'power') comp = 'pulse';

  let drumStyle = instruments.drums ? profile.drumStyle : 'none';
  const explicitDrums = mentions(text, ['drums', 'beat', 'beats', 'percussion']) && !mentions(text, NO_DRUMS);
  if (drumStyle === 'none' && explicitDrums) {
    drumStyle = 'ambient';
    instruments.drums = true;
  }

  const family = isMinorMode(scale) ? 'minor' : 'major';
  const modal = scale !== 'major' && scale !== 'minor' ? MODAL_PROGRESSIONS[scale] : undefined;
  const progression = rng.pick(modal ?? PROGRESSIONS[profile.progressions][family]);

  let brightness = profile.brightness + (moodProfile?.brightness ?? 0);
  let energy = profile.energy + (moodProfile?.energy ?? 0);
  if (mentions(text, FAST_WORDS)) energy += 0.1;
  if (mentions(text, SLOW_WORDS)) energy -= 0.1;
  brightness = clamp(brightness, 0.1, 0.95);
  energy = clamp(energy, 0.1, 1);
  const reverb = clamp(profile.reverb + (moodProfile?.reverb ?? 0), 0.05, 0.8);

  const durationSec = options.durationSec ?? 30;
  const barSec = 240 / bpm;
  const totalBars = Math.max(1, Math.round(durationSec / barSec));
  // Two bars per chord only once sections are eight bars long; a short song's four-bar phrases would otherwise
  // show half a progression and hold one chord for four bars across a section change.
  const chordBars: 1 | 2 = (options.formBars ?? totalBars) >= 24 ? profile.chordBars : 1;
  const form = layoutForm(totalBars, chordBars, options.formBars);

  return {
    prompt,
    genre: g,
    mood,
    bpm,
    key: noteName(tonic, spelling),
    tonic,
    scale,
    spelling,
    instruments,
    drumStyle,
    bassStyle: profile.bassStyle,
    comp,
    progression,
    chordBars,
    chordSize: profile.chordSize,
    dominantV: profile.dominantV && isMinorMode(scale) && scale !== 'dorian',
    swing: profile.swing,
    energy,
    brightness,
    reverb,
    sidechain: profile.sidechain && instruments.drums,
    durationSec,
    seed,
    variant,
    instrumental: options.instrumental ?? true,
    sources: { genre: genreSource, bpm: bpmSource, key: keySource, scale: scaleSource },
    barSec,
    form,
    sections: layoutSections(form),
  };
}

/** Validates a request and resolves its plan. */
export function resolvePlan(req: SynthRequest): SongPlan {
  validateRequest(req);
  const options: PlanOptions = { seed: req.seed, durationSec: req.durationSec };
  if (req.bpm !== undefined) options.bpm = req.bpm;
  if (req.key !== undefined) options.key = req.key;
  if (req.scale !== undefined) options.scale = req.scale;
  if (req.variant !== undefined) options.variant = req.variant;
  if (req.instrumental !== undefined) options.instrumental = req.instrumental;
  if (req.formBars !== undefined) options.formBars = req.formBars;
  return interpretPrompt(req.prompt, req.genre, options);
}

/**
 * The request that continues `original` from `continueAtSec` (rounded down to a bar line; default: the bar before
 * the original's outro, whose fill and approach notes lead into the outro) to a new total length. Render it and
 * append it to the original's audio before `startSec`: the plan (tempo, key, progression, groove) is the
 * original's, and so is every bar before the continuation point, so the seam is sample-exact (for a continuation
 * point at or before that default).
 */
export function extendRequest(
  original: SynthRequest,
  opts: { durationSec: number; continueAtSec?: number },
): SynthRequest {
  const plan = resolvePlan(original);
  const outroStart = plan.form.totalBars - plan.form.outroBars;
  const startBar =
    opts.continueAtSec === undefined
      ? Math.max(0, outroStart - 1)
      : Math.max(0, Math.min(plan.form.totalBars, Math.floor(opts.continueAtSec / plan.barSec + 1e-9)));
  const req: SynthRequest = {
    ...original,
    durationSec: opts.durationSec,
    startBar,
    formBars: original.formBars ?? plan.form.totalBars,
  };
  validateRequest(req);
  return req;
}
