/**
 * The server's mixdown renders with @dawg/shared mix.ts; the browser plays with this package's mix.ts. They must
 * agree, or a mixdown would not sound like the studio: the same gains, mute/solo and fade envelopes over a sweep.
 */
import { clipFadeGain, laneIsAudible, mixDbToGain } from '@dawg/shared';
import { describe, expect, it } from 'vitest';
import { dbToGain, fadeGainAt, isAudible } from './mix';

describe('studio and mixdown arithmetic', () => {
  it('agree on fader gain, mute/solo and fades', () => {
    for (let db = -80; db <= 20; db += 0.25) expect(mixDbToGain(db)).toBe(dbToGain(db));
    for (const mute of [false, true]) {
      for (const solo of [false, true]) {
        for (const anySolo of [false, true]) {
          const lane = { id: 'l', gainDb: 0, pan: 0, mute, solo };
          expect(laneIsAudible(lane, anySolo)).toBe(isAudible(lane, anySolo));
        }
      }
    }
    const clips = [
      { lengthSec: 4, fadeInSec: 1, fadeOutSec: 2 },
      { lengthSec: 2, fadeInSec: 0, fadeOutSec: 0 },
      { lengthSec: 3, fadeInSec: 1.5, fadeOutSec: 1.5 },
    ];
    for (const clip of clips) {
      for (let u = 0; u <= clip.lengthSec; u += 0.01) expect(clipFadeGain(clip, u)).toBe(fadeGainAt(clip, u));
    }
  });
});
