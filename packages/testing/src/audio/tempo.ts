/**
 * Tempo estimation from audio. The onset-strength envelope's autocorrelation, scored as a comb over the first beat
 * multiples, finds the strongest periodicity; a finer sweep with more multiples makes it precise. A 3:2 relative
 * replaces it when its beats carry clearly more low-band onsets (dotted figures vs the beat).
 *
 * Octave errors: a groove is periodic at its beat, at half of it (bars) and at double (eighths). Which metrical
 * level is "the tempo" is decided by listening to the beats themselves: going from level T to 2T, the beats that
 * 2T adds (T's off-beats) are compared with T's on-beats.
 * - Off-beats as strong as on-beats (ratio ≥ `strongRatio`): 2T is a pulse of equal beats; T is its half and is
 *   dropped (a click every 0.35 s is 174 BPM, not 87).
 * - Off-beats much weaker (ratio ≤ `weakRatio`): nothing happens between T's beats; 2T and faster are dropped.
 * - In between, the levels are genuinely ambiguous; only then does the level nearest the typical tempo
 *   (log-distance to 105 BPM) win.
 * The ratios are measured on a low band (kick and snare bodies, bass, chords), not on hi-hats, which mark
 * subdivisions rather than beats.
 */
import { fft, nextPow2 } from './fft';
import { type OnsetEnvelope, onsetStrength } from './onsets';

export interface TempoCandidate {
  bpm: number;
  /** Comb score (normalised autocorrelation, ≤ 1). */
  score: number;
  /** Strength of the beats the next faster level would add, relative to this level's beats. */
  offbeatRatio: number;
}

export interface TempoEstimate {
  bpm: number;
  /** Comb score of the strongest periodicity (normalised autocorrelation, ≤ 1). */
  score: number;
  /** The metrical levels (octaves) considered, slowest first. */
  candidates: TempoCandidate[];
}

export interface TempoOptions {
  minBpm?: number;
  maxBpm?: number;
  /** Off-beat/on-beat ratio at or above which the faster level is the beat (default 0.9). */
  strongRatio?: number;
  /** Off-beat/on-beat ratio at or below which the faster level is a subdivision (default 0.2). */
  weakRatio?: number;
  /** Centre of the typical range, used only for ambiguous levels (default 105). */
  typicalBpm?: number;
}

/** Normalised autocorrelation of a mean-removed envelope, lags 0..maxLag. */
export function autocorrelation(values: Float64Array, maxLag: number): Float64Array {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] as number;
  mean /= n || 1;
  const size = nextPow2(2 * n);
  const re = new Float64Array(size);
  const im = new Float64Array(size);
  for (let i = 0; i < n; i++) re[i] = (values[i] as number) - mean;
  fft(re, im);
  for (let k = 0; k < size; k++) {
    re[k] = (re[k] as number) ** 2 + (im[k] as number) ** 2;
    im[k] = 0;
  }
  // Inverse FFT of a real, even spectrum via the forward transform.
  fft(re, im);
  const out = new Float64Array(maxLag + 1);
  const r0 = (re[0] as number) || 1;
  // Unbiased: each lag divided by its overlap, so long lags are not penalised by the window.
  for (let l = 0; l <= maxLag && l < n; l++) out[l] = (re[l] as number) / r0 / ((n - l) / n);
  return out;
}

function interp(r: Float64Array, lag: number): number {
  const i = Math.floor(lag);
  if (i + 1 >= r.length) return 0;
  const f = lag - i;
  return (r[i] as number) * (1 - f) + (r[i + 1] as number) * f;
}

/** Comb score: the mean autocorrelation at the first `k` multiples of the beat lag (peaks searched ±½ frame). */
function comb(r: Float64Array, lag: number, k: number): number {
  let s = 0;
  let used = 0;
  for (let m = 1; m <= k; m++) {
    const l = lag * m;
    if (l + 2 >= r.length) break;
    s += Math.max(interp(r, l - 0.5), interp(r, l), interp(r, l + 0.5));
    used++;
  }
  return used ? s / used : 0;
}

/**
 * `env` finds periodicities; `beatEnv` (default `env`), typically a low-band envelope where kicks and snares live
 * and hi-hats do not, decides which metrical level carries the beat.
 */
export function estimateTempoFromEnvelope(
  env: OnsetEnvelope,
  opts: TempoOptions = {},
  beatEnv: OnsetEnvelope = env,
): TempoEstimate {
  const minBpm = opts.minBpm ?? 40;
  const maxBpm = opts.maxBpm ?? 240;
  const fr = env.frameRate;
  const maxLag = Math.min(env.values.length - 1, Math.ceil((60 / minBpm) * fr * 8));
  const r = autocorrelation(env.values, maxLag);
  const scoreAt = (bpm: number, k = 4): number => comb(r, (60 / bpm) * fr, k);

  // Coarse sweep (0.5 % steps), then a fine one around each candidate with more multiples for precision.
  let best = minBpm;
  let bestScore = -Infinity;
  for (let bpm = minBpm; bpm <= maxBpm; bpm *= 1.005) {
    const s = scoreAt(bpm);
    if (s > bestScore) [best, bestScore] = [bpm, s];
  }
  const refine = (centre: number): { bpm: number; score: number } => {
    let b = centre;
    let bs = -Infinity;
    for (let bpm = centre * 0.985; bpm <= centre * 1.015; bpm += 0.01) {
      if (bpm < minBpm || bpm > maxBpm) continue;
      const s = scoreAt(bpm, 8);
      if (s > bs) [b, bs] = [bpm, s];
    }
    return { bpm: b, score: scoreAt(b) };
  };
  const floor = envelopeFloor(beatEnv.values);
  // A dotted rhythm (a Charleston, a 3-3-2 figure) can be as periodic as the beat itself, at 2/3 of its tempo. The
  // faster 3:2 relative replaces the winner when it scores nearly as well and its beats carry clearly more
  // low-band onsets (a walking bass, a kick) than the dotted figure's.
  let winner = refine(best);
  const faster = winner.bpm * 1.5;
  if (faster <= maxBpm) {
    const alt = refine(faster);
    if (
      alt.score >= 0.8 * winner.score &&
      beatStrength(beatEnv, alt.bpm, floor).strength > 1.25 * beatStrength(beatEnv, winner.bpm, floor).strength
    ) {
      winner = alt;
    }
  }

  // The octave family of the winner, slowest first, each with the strength of the off-beats it would gain.
  const family: { bpm: number; score: number }[] = [winner];
  for (let c = winner.bpm / 2; c >= minBpm; c /= 2) family.unshift(refine(c));
  for (let c = winner.bpm * 2; c <= maxBpm; c *= 2) family.push(refine(c));
  const candidates: TempoCandidate[] = family.map((c) => ({ ...c, offbeatRatio: offbeatRatio(beatEnv, c.bpm, floor) }));

  const strong = opts.strongRatio ?? 0.9;
  const weak = opts.weakRatio ?? 0.2;
  const alive = candidates.map(() => true);
  for (let i = 0; i + 1 < candidates.length; i++) {
    const r = (candidates[i] as TempoCandidate).offbeatRatio;
    if (r >= strong) alive[i] = false;
    else if (r <= weak) for (let j = i + 1; j < candidates.length; j++) alive[j] = false;
  }
  const typical = opts.typicalBpm ?? 105;
  const survivors = candidates.filter((_, i) => alive[i]);
  const pool = survivors.length > 0 ? survivors : [winner];
  pool.sort((a, b) => Math.abs(Math.log2(a.bpm / typical)) - Math.abs(Math.log2(b.bpm / typical)));
  const chosen = pool[0] as { bpm: number };
  return { bpm: chosen.bpm, score: winner.score, candidates };
}

/** The envelope's median: flux every frame has (noise, sustained sounds) is not a beat. */
function envelopeFloor(v: Float64Array): number {
  const s = Float64Array.from(v).sort();
  return (s[s.length >> 1] as number) || 0;
}

/**
 * At tempo `bpm`: find the beat phase with the strongest mean onset strength and compare it with the strength half
 * a beat later: the weaker over the stronger (both above the envelope's floor, each frame the max of ±1 frame).
 */
function offbeatRatio(env: OnsetEnvelope, bpm: number, floor: number): number {
  const { strength, phase } = beatStrength(env, bpm, floor);
  if (strength <= 0) return 0;
  const off = strengthAt(env, bpm, floor, phase + (60 / bpm) * env.frameRate * 0.5);
  return Math.min(off, strength) / Math.max(off, strength);
}

/** Mean onset strength (above the floor) at frames phase, phase + period, …; each the max of ±1 frame. */
function strengthAt(env: OnsetEnvelope, bpm: number, floor: number, phase: number): number {
  const v = env.values;
  const period = (60 / bpm) * env.frameRate;
  let sum = 0;
  let n = 0;
  for (let t = phase; t < v.length - 1; t += period) {
    const i = Math.round(t);
    const x = Math.max(v[i - 1] ?? 0, v[i] ?? 0, v[i + 1] ?? 0) - floor;
    sum += x > 0 ? x : 0;
    n++;
  }
  return n ? sum / n : 0;
}

/** The beat phase with the strongest mean onset strength at tempo `bpm`, and that strength. */
function beatStrength(env: OnsetEnvelope, bpm: number, floor: number): { strength: number; phase: number } {
  const period = (60 / bpm) * env.frameRate;
  let strength = 0;
  let phase = 0;
  for (let p = 0; p < period; p += 1) {
    const s = strengthAt(env, bpm, floor, p);
    if (s > strength) [strength, phase] = [s, p];
  }
  return { strength, phase };
}

/**
 * Estimates the tempo (BPM) of a mono signal: periodicity from the full-band onset envelope, the beat level from
 * the band below `beatBandHz` (default 1500 Hz: kick and snare bodies, bass and chords; not hi-hats, which mark
 * subdivisions).
 */
export function estimateTempo(
  pcm: Float32Array,
  sampleRate: number,
  opts: TempoOptions & { beatBandHz?: number } = {},
): TempoEstimate {
  const full = onsetStrength(pcm, sampleRate);
  const low = onsetStrength(pcm, sampleRate, { maxHz: opts.beatBandHz ?? 1500 });
  return estimateTempoFromEnvelope(full, opts, low);
}
