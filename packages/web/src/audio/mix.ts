/**
 * The arithmetic of playback, kept apart from the Web Audio graph so it can be tested without a browser: decibels to
 * gain, which lanes sound (mute and solo), which clips start in a stretch of the timeline and where in their audio,
 * the fade envelope of a clip, and how a window of playing time maps onto the timeline when a loop wraps it.
 */
import { LIMITS } from '@dawg/shared';

export interface LaneMix {
  id: string;
  gainDb: number;
  pan: number;
  mute: boolean;
  solo: boolean;
}

export interface ClipTiming {
  id: string;
  laneId: string;
  trackId: string;
  startSec: number;
  offsetSec: number;
  lengthSec: number;
  fadeInSec: number;
  fadeOutSec: number;
}

/** The fader's bottom is silence, not −60 dB. */
export function dbToGain(db: number): number {
  if (!Number.isFinite(db) || db <= LIMITS.GAIN_DB_MIN) return 0;
  return 10 ** (Math.min(db, LIMITS.GAIN_DB_MAX) / 20);
}

export function clampPan(pan: number): number {
  if (!Number.isFinite(pan)) return 0;
  return Math.max(LIMITS.PAN_MIN, Math.min(LIMITS.PAN_MAX, pan));
}

/**
 * Whether a lane is heard. While any lane is soloed only soloed lanes play, muted or not (solo wins, so soloing a
 * muted lane lets you hear it without losing its mute); otherwise every lane that is not muted plays.
 */
export function isAudible(lane: LaneMix, anySolo: boolean): boolean {
  return anySolo ? lane.solo : !lane.mute;
}

/** Each lane's linear gain: its fader, or 0 when mute/solo silence it. */
export function laneGains(lanes: readonly LaneMix[]): Map<string, number> {
  const anySolo = lanes.some((l) => l.solo);
  return new Map(lanes.map((l) => [l.id, isAudible(l, anySolo) ? dbToGain(l.gainDb) : 0]));
}

export interface PlannedStart {
  clip: ClipTiming;
  /** Timeline time at which the source starts sounding. */
  at: number;
  /** Seconds into the clip at that moment (0 unless playback enters the clip in its middle). */
  into: number;
  /** Where in the audio buffer to start. */
  offset: number;
  /** How long it sounds: to the clip's end, or to the loop's end when that comes first. */
  duration: number;
}

const EPSILON = 1e-9;
/** Shorter than this is not worth a source node (and would click). */
const MIN_DURATION = 1e-3;

/**
 * The sources to start for the timeline stretch [from, to): clips beginning in it, and, when playback enters the
 * timeline at `from` (play pressed, or the loop wrapped), also clips already running there, from their middle.
 * `stopAt` cuts clips at the loop's end.
 */
export function planStarts(
  clips: readonly ClipTiming[],
  from: number,
  to: number,
  options: { entry: boolean; stopAt?: number },
): PlannedStart[] {
  const stopAt = options.stopAt ?? Number.POSITIVE_INFINITY;
  const planned: PlannedStart[] = [];
  for (const clip of clips) {
    const end = clip.startSec + clip.lengthSec;
    let at: number;
    if (clip.startSec >= from - EPSILON && clip.startSec < to - EPSILON) at = Math.max(clip.startSec, from);
    else if (options.entry && clip.startSec < from && end > from + EPSILON) at = from;
    else continue;
    const into = Math.max(0, at - clip.startSec);
    const duration = Math.min(end, stopAt) - at;
    if (duration < MIN_DURATION) continue;
    planned.push({ clip, at, into, offset: clip.offsetSec + into, duration });
  }
  return planned.sort((a, b) => a.at - b.at);
}

/** The clip's fade envelope (0…1) at `u` seconds into it. */
export function fadeGainAt(clip: Pick<ClipTiming, 'lengthSec' | 'fadeInSec' | 'fadeOutSec'>, u: number): number {
  let gain = 1;
  if (clip.fadeInSec > 0 && u < clip.fadeInSec) gain = Math.min(gain, u / clip.fadeInSec);
  const fadeOutStart = clip.lengthSec - clip.fadeOutSec;
  if (clip.fadeOutSec > 0 && u > fadeOutStart) gain = Math.min(gain, (clip.lengthSec - u) / clip.fadeOutSec);
  return Math.max(0, Math.min(1, gain));
}

export interface EnvelopePoint {
  /** Seconds after the source starts. */
  time: number;
  value: number;
  /** Ramp linearly to this value (else jump to it). */
  ramp: boolean;
}

/** Automation of a source's gain for its fades, starting `into` seconds into the clip. */
export function fadeEnvelope(
  clip: Pick<ClipTiming, 'lengthSec' | 'fadeInSec' | 'fadeOutSec'>,
  into: number,
): EnvelopePoint[] {
  const points: EnvelopePoint[] = [{ time: 0, value: fadeGainAt(clip, into), ramp: false }];
  if (clip.fadeInSec > 0 && into < clip.fadeInSec) {
    points.push({ time: clip.fadeInSec - into, value: fadeGainAt(clip, clip.fadeInSec), ramp: true });
  }
  if (clip.fadeOutSec > 0) {
    const fadeOutStart = clip.lengthSec - clip.fadeOutSec;
    if (into < fadeOutStart) {
      points.push({ time: fadeOutStart - into, value: fadeGainAt(clip, fadeOutStart), ramp: false });
    }
    points.push({ time: clip.lengthSec - into, value: 0, ramp: true });
  }
  return points;
}

export interface LoopRegion {
  startSec: number;
  endSec: number;
}

/** Shorter loops would have the scheduler spinning. */
export const MIN_LOOP_SEC = 0.1;

/** The loop that applies to playback started at `anchor`: none when it is too short or playback starts after it. */
export function effectiveLoop(loop: LoopRegion | null, anchor: number): LoopRegion | null {
  if (!loop || loop.endSec - loop.startSec < MIN_LOOP_SEC || anchor >= loop.endSec) return null;
  return loop;
}

/** Timeline position after `elapsed` seconds of playing from `anchor`. */
export function positionAfter(anchor: number, elapsed: number, loop: LoopRegion | null): number {
  const raw = anchor + Math.max(0, elapsed);
  if (!loop || raw < loop.endSec) return raw;
  const length = loop.endSec - loop.startSec;
  return loop.startSec + ((raw - loop.endSec) % length);
}

export interface WindowPiece {
  /** Timeline stretch [from, to). */
  from: number;
  to: number;
  /** Playback enters the timeline at `from` here (start of play or a loop wrap). */
  entry: boolean;
  /** Seconds of playing (since the anchor) at which `from` sounds. */
  elapsed: number;
}

/**
 * The timeline stretches played during the elapsed-time window [a, b) since playback started at `anchor`: one
 * piece without a loop, and one more each time the loop wraps inside the window.
 */
export function windowPieces(anchor: number, a: number, b: number, loop: LoopRegion | null): WindowPiece[] {
  if (b <= a) return [];
  if (!loop) return [{ from: anchor + a, to: anchor + b, entry: a <= EPSILON, elapsed: a }];
  const length = loop.endSec - loop.startSec;
  const firstPass = loop.endSec - anchor;
  const pieces: WindowPiece[] = [];
  let e = a;
  while (e < b - EPSILON) {
    let passStart: number;
    let passEnd: number;
    let timelineAtPassStart: number;
    if (e < firstPass - EPSILON) {
      passStart = 0;
      passEnd = firstPass;
      timelineAtPassStart = anchor;
    } else {
      let k = Math.floor((e - firstPass) / length);
      if (firstPass + (k + 1) * length <= e + EPSILON) k += 1;
      passStart = firstPass + k * length;
      passEnd = passStart + length;
      timelineAtPassStart = loop.startSec;
    }
    const end = Math.min(b, passEnd);
    if (end <= e) break;
    const from = timelineAtPassStart + (e - passStart);
    pieces.push({ from, to: from + (end - e), entry: Math.abs(e - passStart) <= EPSILON, elapsed: e });
    e = end;
  }
  return pieces;
}
