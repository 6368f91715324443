/**
 * The audio half of a generation, free of database and queue concerns (the job and the benchmark both run it):
 * provider → mastered WAV + MP3 + peaks per clip → S3 under deterministic keys. Stages are reported as they begin.
 *
 * Memory stays flat in the song's length: the local synth hands over a raw file, the master writes its WAV to a
 * temporary file and the upload streams it; only the MP3 (~7 MB for 5 minutes) and the peaks are held. Every
 * temporary file is deleted when the generation ends, however it ends.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generationObjectKeys, type WaveformPeaks } from '@dawg/shared';
import type { S3Client } from '@aws-sdk/client-s3';
import { UnrecoverableError } from 'bullmq';
import { decodeFile } from '../audio/decode';
import { masterClipToFile, type MasterInput, type MasteredClip, type MasteredFileClip } from '../audio/master';
import type { Pcm } from '../audio/pcm';
import type { MusicProvider, MusicRequest, ProviderClip, StageUpdate } from '../providers';
import type { ClipAudio } from '../providers/types';
import { CONTENT_TYPES, putFile, putObject } from './generate-storage';

/** Where a failure happened: becomes the row's error code (`<phase>_failed`) and the start of its message. */
export type GenerationPhase = 'render' | 'processing' | 'upload' | 'finalize';

export class GenerationPhaseError extends Error {
  constructor(
    readonly phase: GenerationPhase,
    cause: unknown,
  ) {
    super(`${phase} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'GenerationPhaseError';
  }
}

/** The attempt no longer owns its row (a newer attempt took over, or the row was finished elsewhere): stop quietly. */
export class StaleAttemptError extends Error {
  constructor(generationId: string, attempt: number) {
    super(`generation ${generationId}: attempt ${attempt} was superseded`);
    this.name = 'StaleAttemptError';
  }
}

export interface ProducedClip {
  index: number;
  keys: { wav: string; mp3: string; peaks: string };
  sizes: { wav: number; mp3: number; peaks: number };
  durationSec: number;
  sampleRate: number;
  channels: number;
  loudnessLufs: number | null;
  normalization: string;
  peaks: Pick<WaveformPeaks, 'length' | 'samplesPerPeak'>;
  source: Omit<ProviderClip, 'audio'>;
}

export interface PipelineOptions {
  provider: MusicProvider;
  request: MusicRequest;
  userId: string;
  s3: S3Client;
  bucket: string;
  signal: AbortSignal;
  onStage(update: StageUpdate): Promise<void>;
  /** Every key a PUT was started for, so the caller can delete them if the generation fails. */
  uploaded: string[];
  /** Test hook: fail the render (GENERATION_FAULT=render). */
  failRender?: boolean;
  /** The provider accepted a task (see GenerateOptions.onTaskId). */
  onTaskId?(taskId: string): Promise<void>;
  /** The mastering step (default masterClipToFile); the throughput benchmark swaps in a zero-time one. */
  master?: (
    input: MasterInput,
    wavPath: string,
    opts: { signal?: AbortSignal },
  ) => Promise<MasteredClip | MasteredFileClip>;
}

async function phase<T>(name: GenerationPhase, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    // An UnrecoverableError carries a decision (do not retry) and keeps its identity; the rest learn their phase.
    if (err instanceof GenerationPhaseError || err instanceof UnrecoverableError || err instanceof StaleAttemptError) {
      throw err;
    }
    throw new GenerationPhaseError(name, err);
  }
}

async function masterInputOf(audio: ClipAudio, signal: AbortSignal): Promise<MasterInput> {
  if (audio.kind === 'pcm') return audio.pcm;
  if (audio.kind === 'raw') return audio.raw;
  const pcm: Pcm = await decodeFile(audio.path, { signal });
  return pcm;
}

export async function produceClips(opts: PipelineOptions): Promise<ProducedClip[]> {
  const { provider, request, signal } = opts;
  const clips = await phase('render', async () => {
    if (opts.failRender) throw new Error('injected render fault (GENERATION_FAULT=render)');
    const made = await provider.generate(request, {
      signal,
      onStage: opts.onStage,
      ...(opts.onTaskId ? { onTaskId: opts.onTaskId } : {}),
    });
    if (made.length === 0) throw new Error(`${provider.id} returned no audio`);
    return made;
  });
  // Downloaded and streamed takes are handed over as files, and masters are written to files: all are deleted once
  // uploaded, or when the generation fails.
  const files = clips.flatMap((c) =>
    c.audio.kind === 'file' ? [c.audio.path] : c.audio.kind === 'raw' ? [c.audio.raw.path] : [],
  );
  try {
    return await masterAndUpload(opts, clips, files);
  } finally {
    await Promise.all(files.map((f) => rm(f, { force: true }).catch(() => undefined)));
  }
}

async function masterAndUpload(opts: PipelineOptions, clips: ProviderClip[], files: string[]): Promise<ProducedClip[]> {
  const { request, signal } = opts;

  await opts.onStage({ stage: 'processing' });
  // One clip at a time: each master already keeps two ffmpeg processes busy.
  const mastered: { source: Omit<ProviderClip, 'audio'>; master: MasteredClip | MasteredFileClip }[] = [];
  while (clips.length > 0) {
    // Taken off the list as it is mastered, so a take's in-memory PCM can be collected before the next take's.
    const { audio, ...source } = clips.shift()!;
    const wavPath = join(tmpdir(), `dawg-master-${randomUUID()}.wav`);
    files.push(wavPath);
    const master = await phase('processing', async () =>
      (opts.master ?? masterClipToFile)(await masterInputOf(audio, signal), wavPath, { signal }),
    );
    mastered.push({ source, master });
  }

  await opts.onStage({ stage: 'uploading' });
  return phase('upload', () =>
    Promise.all(
      mastered.map(async ({ source, master }): Promise<ProducedClip> => {
        const keys = generationObjectKeys(opts.userId, request.generationId, source.index);
        const peaksJson = Buffer.from(JSON.stringify(master.peaks));
        await Promise.all([
          Buffer.isBuffer(master.wav)
            ? putObject(opts.s3, opts.bucket, keys.wav, master.wav, CONTENT_TYPES.wav, opts.uploaded, signal)
            : putFile(opts.s3, opts.bucket, keys.wav, master.wav, CONTENT_TYPES.wav, opts.uploaded, signal),
          putObject(opts.s3, opts.bucket, keys.mp3, master.mp3, CONTENT_TYPES.mp3, opts.uploaded, signal),
          putObject(opts.s3, opts.bucket, keys.peaks, peaksJson, CONTENT_TYPES.peaks, opts.uploaded, signal),
        ]);
        return {
          index: source.index,
          keys,
          sizes: { wav: master.wav.byteLength, mp3: master.mp3.byteLength, peaks: peaksJson.byteLength },
          durationSec: master.durationSec,
          sampleRate: master.sampleRate,
          channels: master.channels,
          loudnessLufs: master.loudnessLufs,
          normalization: master.normalization,
          peaks: { length: master.peaks.length, samplesPerPeak: master.peaks.samplesPerPeak },
          source,
        };
      }),
    ),
  );
}
