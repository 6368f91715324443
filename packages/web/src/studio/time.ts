/**
 * Musical time on the timeline: bar and beat lengths from the project's tempo and time signature, snapping to the
 * grid, the pixel ↔ second mapping of the zoomed and scrolled view, and how positions are written for people.
 */

export interface Tempo {
  bpm: number;
  timeSignature: string;
}

export type SnapMode = 'bar' | 'beat' | 'off';

export const DEFAULT_TEMPO: Tempo = { bpm: 120, timeSignature: '4/4' };

/** '6/8' → { beats: 6, unit: 8 }; anything unreadable is common time, so a bad value never breaks the grid. */
export function parseTimeSignature(value: string): { beats: number; unit: number } {
  const match = /^(\d{1,2})\/(\d{1,2})$/.exec(value.trim());
  const beats = match ? Number(match[1]) : 4;
  const unit = match ? Number(match[2]) : 4;
  if (beats < 1 || ![1, 2, 4, 8, 16].includes(unit)) return { beats: 4, unit: 4 };
  return { beats, unit };
}

function safeBpm(bpm: number): number {
  return Number.isFinite(bpm) && bpm > 0 ? bpm : DEFAULT_TEMPO.bpm;
}

/** Seconds of one beat: the bpm counts quarter notes, so an eighth-note beat (6/8) is half as long. */
export function beatSeconds(tempo: Tempo): number {
  const { unit } = parseTimeSignature(tempo.timeSignature);
  return (60 / safeBpm(tempo.bpm)) * (4 / unit);
}

export function barSeconds(tempo: Tempo): number {
  return parseTimeSignature(tempo.timeSignature).beats * beatSeconds(tempo);
}

export function gridSeconds(tempo: Tempo, snap: SnapMode): number | null {
  if (snap === 'off') return null;
  return snap === 'bar' ? barSeconds(tempo) : beatSeconds(tempo);
}

/** The nearest grid line (never before 0); unchanged when snapping is off. */
export function snapTime(seconds: number, tempo: Tempo, snap: SnapMode): number {
  const grid = gridSeconds(tempo, snap);
  const value = Math.max(0, seconds);
  if (grid === null) return value;
  // Rounded to the microsecond: 7 bars of 120 bpm must be 14, not 14.000000000000002, or it drifts in the database.
  return Math.round(Math.round(value / grid) * grid * 1e6) / 1e6;
}

/** "3.2.1" = bar 3, beat 2, sixteenth 1 (all counted from 1, as musicians do). */
export function formatBarsBeats(seconds: number, tempo: Tempo): string {
  const { beats } = parseTimeSignature(tempo.timeSignature);
  const beat = beatSeconds(tempo);
  // A tiny epsilon so exactly 2.0 s at 120 bpm reads as bar 2, not bar 1 beat 4 sixteenth 4.
  const totalSixteenths = Math.floor(Math.max(0, seconds) / (beat / 4) + 1e-6);
  const sixteenth = (totalSixteenths % 4) + 1;
  const totalBeats = Math.floor(totalSixteenths / 4);
  return `${Math.floor(totalBeats / beats) + 1}.${(totalBeats % beats) + 1}.${sixteenth}`;
}

/** "1:05.3" (minutes, seconds, tenths). */
export function formatClock(seconds: number): string {
  const tenths = Math.floor(Math.max(0, seconds) * 10 + 1e-6);
  const minutes = Math.floor(tenths / 600);
  const rest = (tenths % 600) / 10;
  return `${minutes}:${rest.toFixed(1).padStart(4, '0')}`;
}

/** "8 s", "1 min 5 s": for durations in lists and announcements. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const s = whole % 60;
  return s === 0 ? `${Math.floor(whole / 60)} min` : `${Math.floor(whole / 60)} min ${s} s`;
}

/** The view of the timeline: how many pixels a second takes and how far it is scrolled. */
export interface Viewport {
  pxPerSec: number;
  scrollLeft: number;
  /** Width of the drawable area in CSS pixels. */
  width: number;
}

export const MIN_PX_PER_SEC = 2;
export const MAX_PX_PER_SEC = 400;
export const DEFAULT_PX_PER_SEC = 40;

export function clampZoom(pxPerSec: number): number {
  return Math.min(MAX_PX_PER_SEC, Math.max(MIN_PX_PER_SEC, pxPerSec));
}

/** Seconds at an x inside the drawable area. */
export function xToSeconds(x: number, view: Viewport): number {
  return (x + view.scrollLeft) / view.pxPerSec;
}

/** x inside the drawable area of a time (may be outside 0…width). */
export function secondsToX(seconds: number, view: Viewport): number {
  return seconds * view.pxPerSec - view.scrollLeft;
}

export function visibleRange(view: Viewport): { from: number; to: number } {
  return { from: view.scrollLeft / view.pxPerSec, to: (view.scrollLeft + view.width) / view.pxPerSec };
}

/**
 * The scroll position that keeps the time under `anchorX` where it is when the zoom changes (zooming around the
 * pointer or the playhead, as every audio editor does).
 */
export function scrollForZoom(view: Viewport, nextPxPerSec: number, anchorX: number): number {
  const anchorSec = xToSeconds(anchorX, view);
  return Math.max(0, anchorSec * nextPxPerSec - anchorX);
}
