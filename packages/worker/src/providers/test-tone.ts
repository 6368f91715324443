/**
 * The `test` provider: zero cost, instant, deterministic. Each take is a few seconds of a seeded tone with a little
 * seeded noise and a pulse at the requested tempo, so tests and fuzzing exercise the whole pipeline (mastering,
 * upload, ledger, progress) without waiting for real music. Never offered to users in production (the api decides).
 */
import { DEFAULT_MUSIC_MODELS } from '@dawg/shared';
import type { Pcm } from '../audio/pcm';
import type { MusicProvider, MusicRequest, ProviderClip } from './types';

/** Takes are at most this long whatever the request says: the provider exists to be fast. */
export const TEST_TONE_MAX_SEC = 6;
export const TEST_TONE_SAMPLE_RATE = 44_100;

/** xorshift32: the same seed always gives the same noise. */
function noise(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000 - 0.5;
  };
}

export function renderTestTone(req: Pick<MusicRequest, 'durationSec' | 'bpm'>, seed: number): Pcm {
  const sr = TEST_TONE_SAMPLE_RATE;
  const frames = Math.round(Math.min(req.durationSec, TEST_TONE_MAX_SEC) * sr);
  const freq = 110 * 2 ** ((seed % 24) / 12);
  const beat = 60 / (req.bpm ?? 120);
  const rand = noise(seed);
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    const t = i / sr;
    const pulse = Math.exp(-((t % beat) / beat) * 6);
    const tone = Math.sin(2 * Math.PI * freq * t) * (0.25 + 0.2 * pulse);
    const n = rand() * 0.04;
    left[i] = tone + n;
    right[i] = tone * 0.9 - n;
  }
  return { sampleRate: sr, channels: [left, right] };
}

export function createTestToneProvider(): MusicProvider {
  return {
    id: 'test',
    model: DEFAULT_MUSIC_MODELS.test,
    async generate(req, { signal, onStage }) {
      const clips: ProviderClip[] = [];
      for (let index = 0; index < req.variants; index++) {
        signal.throwIfAborted();
        const seed = (req.seed + index * 7919) >>> 0;
        clips.push({
          index,
          audio: { kind: 'pcm', pcm: renderTestTone(req, seed) },
          seed,
          bpm: req.bpm ?? 120,
          musicalKey: req.key ? `${req.key} ${req.scale ?? 'major'}` : null,
          lyrics: null,
          meta: { tone: true },
        });
        if (index === 0) await onStage({ stage: 'first_audio' });
      }
      return clips;
    },
  };
}
