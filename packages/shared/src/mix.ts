/**
 * The mix arithmetic the browser's Web Audio graph performs, written out so the server's mixdown renders the same
 * thing: fader dB to gain (the bottom of the fader is silence), mute/solo, the linear fade envelope of a clip, and
 * the equal-power pan of a StereoPannerNode (Web Audio spec, "StereoPannerNode panning algorithm"), which treats mono
 * and stereo input differently.
 */
import { LIMITS } from './constants';

export function mixDbToGain(db: number): number {
  if (!Number.isFinite(db) || db <= LIMITS.GAIN_DB_MIN) return 0;
  return 10 ** (Math.min(db, LIMITS.GAIN_DB_MAX) / 20);
}

/** While any lane is soloed only soloed lanes play (muted or not); otherwise every unmuted lane plays. */
export function laneIsAudible(lane: { mute: boolean; solo: boolean }, anySolo: boolean): boolean {
  return anySolo ? lane.solo : !lane.mute;
}

/** The clip's fade envelope (0…1) at `u` seconds into it. */
export function clipFadeGain(clip: { lengthSec: number; fadeInSec: number; fadeOutSec: number }, u: number): number {
  let gain = 1;
  if (clip.fadeInSec > 0 && u < clip.fadeInSec) gain = Math.min(gain, u / clip.fadeInSec);
  const fadeOutStart = clip.lengthSec - clip.fadeOutSec;
  if (clip.fadeOutSec > 0 && u > fadeOutStart) gain = Math.min(gain, (clip.lengthSec - u) / clip.fadeOutSec);
  return Math.max(0, Math.min(1, gain));
}

export interface PanGains {
  /** Mono input: L = in·left, R = in·right. */
  monoLeft: number;
  monoRight: number;
  /**
   * Stereo input, pan ≤ 0: L = inL + inR·a, R = inR·b. Pan > 0: L = inL·a, R = inR + inL·b. (`leftward` tells which.)
   */
  a: number;
  b: number;
  leftward: boolean;
}

export function equalPowerPan(pan: number): PanGains {
  const p = Number.isFinite(pan) ? Math.max(-1, Math.min(1, pan)) : 0;
  const xMono = (p + 1) / 2;
  const monoLeft = Math.cos((xMono * Math.PI) / 2);
  const monoRight = Math.sin((xMono * Math.PI) / 2);
  const leftward = p <= 0;
  const x = leftward ? p + 1 : p;
  return { monoLeft, monoRight, a: Math.cos((x * Math.PI) / 2), b: Math.sin((x * Math.PI) / 2), leftward };
}
