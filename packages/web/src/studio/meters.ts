/**
 * Level meters painted straight into the DOM from the engine's analysers, once per animation frame while playing:
 * the bar's scale every frame, the ARIA value only when it changes by a whole decibel (assistive technology is not
 * flooded with sixty updates a second).
 */
import type { AudioEngine } from '../audio/engine';

/** The meters' floor: quieter than this shows as silence. */
export const METER_FLOOR_DB = -60;

export function rmsToDb(rms: number): number {
  if (!(rms > 0)) return METER_FLOOR_DB;
  return Math.max(METER_FLOOR_DB, Math.min(0, 20 * Math.log10(rms)));
}

function paint(meter: HTMLElement, rms: number): void {
  const db = rmsToDb(rms);
  const fill = meter.firstElementChild as HTMLElement | null;
  if (fill) fill.style.transform = `scaleX(${(db - METER_FLOOR_DB) / -METER_FLOOR_DB})`;
  const rounded = String(Math.round(db));
  if (meter.getAttribute('aria-valuenow') !== rounded) {
    meter.setAttribute('aria-valuenow', rounded);
    meter.setAttribute('aria-valuetext', db <= METER_FLOOR_DB ? 'silent' : `${rounded} dB`);
  }
}

/** Paints every meter under `root` once; all silent when `live` is false. */
export function paintMeters(root: ParentNode, engine: AudioEngine, live: boolean): void {
  for (const meter of root.querySelectorAll<HTMLElement>('[data-lane-meter]')) {
    paint(meter, live ? engine.laneRms(meter.dataset.laneMeter ?? '') : 0);
  }
  for (const meter of root.querySelectorAll<HTMLElement>('[data-master-meter]')) {
    paint(meter, live ? engine.masterRms() : 0);
  }
}
