/**
 * Waveforms from the peaks JSON the worker writes next to each track (min/max pairs per channel, ~20 per second):
 * the extent of the audio under one pixel column, and drawing a stretch of it onto a canvas, one column per pixel,
 * so the cost follows the width drawn, not the length of the song.
 */
import type { WaveformPeaks } from '@dawg/shared';

/**
 * Lowest and highest sample over all channels in the audio time [t0, t1). Zoomed in further than one peak per
 * column, neighbouring peaks are blended so the outline is smooth instead of stepped.
 */
export function columnPeak(peaks: WaveformPeaks, t0: number, t1: number): [number, number] {
  const perSec = peaks.length / peaks.durationSec;
  const a = t0 * perSec;
  const b = t1 * perSec;
  if (b <= 0 || a >= peaks.length) return [0, 0];
  let min = 0;
  let max = 0;
  if (b - a < 1) {
    const f = Math.min(peaks.length - 1, Math.max(0, (a + b) / 2 - 0.5));
    const i = Math.floor(f);
    const j = Math.min(peaks.length - 1, i + 1);
    const w = f - i;
    for (const data of peaks.data) {
      const lo = (data[2 * i] ?? 0) * (1 - w) + (data[2 * j] ?? 0) * w;
      const hi = (data[2 * i + 1] ?? 0) * (1 - w) + (data[2 * j + 1] ?? 0) * w;
      if (lo < min) min = lo;
      if (hi > max) max = hi;
    }
    return [min, max];
  }
  const from = Math.max(0, Math.floor(a));
  const to = Math.min(peaks.length, Math.ceil(b));
  for (const data of peaks.data) {
    for (let i = from; i < to; i++) {
      const lo = data[2 * i] ?? 0;
      const hi = data[2 * i + 1] ?? 0;
      if (lo < min) min = lo;
      if (hi > max) max = hi;
    }
  }
  return [min, max];
}

export interface WaveformArea {
  /** Canvas x range to draw (already clipped to what is visible). */
  x0: number;
  x1: number;
  /** Vertical band. */
  top: number;
  height: number;
  /** Audio time (seconds into the track) at canvas x. */
  timeAt(x: number): number;
  /** Seconds of audio per canvas pixel. */
  secPerPx: number;
}

export function drawWaveform(ctx: CanvasRenderingContext2D, peaks: WaveformPeaks, area: WaveformArea): void {
  const mid = area.top + area.height / 2;
  const half = area.height / 2;
  const start = Math.floor(area.x0);
  const end = Math.ceil(area.x1);
  ctx.beginPath();
  for (let x = start; x < end; x++) {
    const t = area.timeAt(x);
    const [min, max] = columnPeak(peaks, t, t + area.secPerPx);
    const top = mid - max * half;
    // At least a pixel, so silence still shows as a line.
    const h = Math.max(1, (max - min) * half);
    ctx.rect(x, top, 1, h);
  }
  ctx.fill();
}

/** Fits a canvas's backing store to its CSS size at the screen's pixel ratio; returns the 2D context scaled to CSS px. */
export function fitCanvas(canvas: HTMLCanvasElement, cssWidth: number, cssHeight: number): CanvasRenderingContext2D | null {
  const ratio = Math.min(2, window.devicePixelRatio || 1);
  const width = Math.max(1, Math.round(cssWidth * ratio));
  const height = Math.max(1, Math.round(cssHeight * ratio));
  if (canvas.width !== width) canvas.width = width;
  if (canvas.height !== height) canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return ctx;
}
