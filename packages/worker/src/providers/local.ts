/**
 * The `local` provider: the in-house synthesiser (src/synth), real prompt-driven music at no cost. Each take renders
 * on the synth's worker thread (renderSongToFileOffThread), so the event loop stays free while a song is being made;
 * a second take queues behind the first on that thread. The render streams into a temporary file of raw samples
 * (a `raw` clip, which the pipeline masters from the file and deletes), so a long song never sits in the worker's
 * memory. The synth is loaded on first use: processes that never render (the api's tests, workers serving other
 * providers) do not pay for it.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MUSIC_MODELS } from '@dawg/shared';
import { UnrecoverableError } from 'bullmq';
import type { SynthRequest } from '../synth/params';
import type { OffThreadFileResult, renderSongToFileOffThread as RenderToFile } from '../synth/thread';
import type { ClipAudio, MusicProvider, MusicRequest, ProviderClip } from './types';

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

/** Renders a take into a fresh temporary file; the file is removed if the render fails. */
async function renderTake(
  render: typeof RenderToFile,
  synthReq: SynthRequest,
  signal: AbortSignal,
): Promise<OffThreadFileResult> {
  const path = join(tmpdir(), `dawg-synth-${randomUUID()}.f32`);
  try {
    return await render(synthReq, path, { signal });
  } catch (err) {
    await rm(path, { force: true }).catch(() => undefined);
    if (isInvalidRequest(err)) throw new UnrecoverableError((err as Error).message);
    throw err;
  }
}

function rawAudio(song: OffThreadFileResult): ClipAudio {
  return {
    kind: 'raw',
    raw: { path: song.path, sampleRate: song.sampleRate, channels: song.channels, frames: song.frames },
  };
}

async function extendTake(
  req: MusicRequest,
  signal: AbortSignal,
  onStage: Parameters<MusicProvider['generate']>[1]['onStage'],
  render: typeof RenderToFile,
): Promise<ProviderClip> {
  const synthReq = await synthExtendRequestFor(req);
  const song = await renderTake(render, synthReq, signal);
  await onStage({ stage: 'first_audio' });
  const { bpm, key, scale, ...meta } = song.meta;
  return {
    index: 0,
    audio: rawAudio(song),
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
      const { renderSongToFileOffThread } = await import('../synth/thread');
      if (req.extend) return [await extendTake(req, signal, onStage, renderSongToFileOffThread)];
      let first = true;
      const variants = Array.from({ length: req.variants }, (_, i) => (i === 0 ? 0 : 1) as 0 | 1);
      const settled = await Promise.allSettled(
        variants.map(async (variant, index): Promise<ProviderClip> => {
          const song = await renderTake(renderSongToFileOffThread, synthRequestFor(req, variant), signal);
          if (first) {
            first = false;
            await onStage({ stage: 'first_audio' });
          }
          const { bpm, key, scale, ...meta } = song.meta;
          return {
            index,
            audio: rawAudio(song),
            seed: req.seed,
            bpm,
            musicalKey: `${key} ${scale}`,
            lyrics: null,
            meta: { ...meta, key, scale, variant },
          };
        }),
      );
      // If one take failed, the other's file is not handed over: remove it before failing.
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        const made = settled.flatMap((r) =>
          r.status === 'fulfilled' && r.value.audio.kind === 'raw' ? [r.value.audio.raw.path] : [],
        );
        await Promise.all(made.map((path) => rm(path, { force: true }).catch(() => undefined)));
        throw failed.reason;
      }
      return settled.map((r) => (r as PromiseFulfilledResult<ProviderClip>).value);
    },
  };
}
