/**
 * The `local` provider: the in-house synthesiser (src/synth), real prompt-driven music at no cost. Each take renders
 * on the synth's worker thread (renderSongOffThread), so the event loop stays free while a song is being made; a
 * second take queues behind the first on that thread. The synth is loaded on first use: processes that never render
 * (the api's tests, workers serving other providers) do not pay for it.
 */
import { DEFAULT_MUSIC_MODELS } from '@dawg/shared';
import { UnrecoverableError } from 'bullmq';
import type { SynthRequest } from '../synth/params';
import type { renderSongOffThread as RenderOffThread } from '../synth/thread';
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

/**
 * The synth request of an extension: the parent's song re-planned from its own request (same seed, take and
 * length, so the same tempo, key, progression and form), rendered from the bar at `continueAtSec` to
 * `continueAtSec + durationSec`. Deterministic: the same parent and point always give the same audio, and its
 * first bar is exactly the parent's bar at that point.
 */
export async function synthExtendRequestFor(req: MusicRequest): Promise<SynthRequest> {
  const ext = req.extend;
  if (!ext) throw new Error('not an extend request');
  const { extendRequest } = await import('../synth/params');
  const original = synthRequestFor({ ...req, durationSec: ext.parentDurationSec }, ext.parentVariant);
  try {
    return extendRequest(original, {
      durationSec: ext.continueAtSec + req.durationSec,
      continueAtSec: ext.continueAtSec,
    });
  } catch (err) {
    if (isInvalidRequest(err)) throw new UnrecoverableError((err as Error).message);
    throw err;
  }
}

async function extendTake(
  req: MusicRequest,
  signal: AbortSignal,
  onStage: Parameters<MusicProvider['generate']>[1]['onStage'],
  render: typeof RenderOffThread,
): Promise<ProviderClip> {
  const synthReq = await synthExtendRequestFor(req);
  let song;
  try {
    song = await render(synthReq, { signal });
  } catch (err) {
    if (isInvalidRequest(err)) throw new UnrecoverableError((err as Error).message);
    throw err;
  }
  await onStage({ stage: 'first_audio' });
  const { bpm, key, scale, ...meta } = song.meta;
  return {
    index: 0,
    audio: { kind: 'pcm', pcm: { sampleRate: song.sampleRate, channels: [song.left, song.right] } },
    seed: req.seed,
    bpm,
    musicalKey: `${key} ${scale}`,
    lyrics: null,
    meta: { ...meta, key, scale, variant: synthReq.variant ?? 0, extendedFromSec: req.extend?.continueAtSec },
  };
}

export function createLocalProvider(): MusicProvider {
  return {
    id: 'local',
    model: DEFAULT_MUSIC_MODELS.local,
    async generate(req, { signal, onStage }) {
      const { renderSongOffThread } = await import('../synth/thread');
      if (req.extend) return [await extendTake(req, signal, onStage, renderSongOffThread)];
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
