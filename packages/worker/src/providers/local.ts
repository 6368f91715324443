/**
 * The `local` provider: the in-house synthesiser (src/synth), real prompt-driven music at no cost. Each take renders
 * on the synth's worker thread (renderSongOffThread), so the event loop stays free while a song is being made; a
 * second take queues behind the first on that thread. The synth is loaded on first use: processes that never render
 * (the api's tests, workers serving other providers) do not pay for it.
 */
import { DEFAULT_MUSIC_MODELS } from '@dawg/shared';
import { UnrecoverableError } from 'bullmq';
import type { SynthRequest } from '../synth/params';
import type { MusicProvider, MusicRequest, ProviderClip } from './types';

export function synthRequestFor(req: MusicRequest, variant: 0 | 1): SynthRequest {
  return {
    prompt: req.prompt,
    durationSec: req.durationSec,
    seed: req.seed >>> 0,
    instrumental: req.instrumental,
    variant,
    ...(req.genre !== undefined ? { genre: req.genre } : {}),
    ...(req.bpm !== undefined ? { bpm: req.bpm } : {}),
    ...(req.key !== undefined ? { key: req.key } : {}),
    ...(req.scale !== undefined ? { scale: req.scale } : {}),
  };
}

/** The synth validates its request and throws AppError BAD_REQUEST: no retry can fix that. */
function isInvalidRequest(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'BAD_REQUEST';
}

export function createLocalProvider(): MusicProvider {
  return {
    id: 'local',
    model: DEFAULT_MUSIC_MODELS.local,
    async generate(req, { signal, onStage }) {
      const { renderSongOffThread } = await import('../synth/thread');
      let first = true;
      const variants = Array.from({ length: req.variants }, (_, i) => (i === 0 ? 0 : 1) as 0 | 1);
      return Promise.all(
        variants.map(async (variant, index): Promise<ProviderClip> => {
          let song;
          try {
            song = await renderSongOffThread(synthRequestFor(req, variant), { signal });
          } catch (err) {
            if (isInvalidRequest(err)) throw new UnrecoverableError((err as Error).message);
            throw err;
          }
          if (first) {
            first = false;
            await onStage({ stage: 'first_audio' });
          }
          const { bpm, key, scale, ...meta } = song.meta;
          return {
            index,
            audio: { kind: 'pcm', pcm: { sampleRate: song.sampleRate, channels: [song.left, song.right] } },
            seed: req.seed,
            bpm,
            musicalKey: `${key} ${scale}`,
            lyrics: null,
            meta: { ...meta, key, scale, variant },
          };
        }),
      );
    },
  };
}
