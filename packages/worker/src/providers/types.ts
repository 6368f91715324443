/**
 * The music-provider interface every generator fits (the local synth, the test tone, Suno next): a request in, clips
 * out, as PCM in memory or a file on disk (a provider that downloads audio hands over the file). Providers report
 * stages (e.g. `first_audio` when the first clip exists) through `onStage`; the job persists and publishes them.
 * A provider throws UnrecoverableError for requests it can never serve (retrying cannot help) and plain errors for
 * transient failures.
 */
import type { GenerationStage, Genre, ScaleName } from '@dawg/shared';
import type { Provider } from '@dawg/shared';
import type { Pcm, RawPcmFile } from '../audio/pcm';

export interface MusicRequest {
  generationId: string;
  /** What to make: the user's description (simple mode) or the style and title (custom mode). */
  prompt: string;
  title?: string;
  style?: string;
  lyrics?: string;
  negativeTags?: string;
  instrumental: boolean;
  durationSec: number;
  genre?: Genre;
  bpm?: number;
  key?: string;
  scale?: ScaleName;
  seed: number;
  /** How many takes to make (1–2). */
  variants: number;
  /** Continue an existing take instead of starting a song (extend). */
  extend?: {
    /** Bar-aligned point of the parent the continuation starts at, in seconds. */
    continueAtSec: number;
    /** The parent's own length and take: the local synth re-plans the parent's song from them. */
    parentDurationSec: number;
    parentVariant: 0 | 1;
    /** The provider's id of the parent clip (Suno's `audioId`). */
    providerClipId?: string;
  };
  /** A task an earlier attempt already submitted to the provider: resume it instead of paying for a new one. */
  providerTaskId?: string;
}

/**
 * A `file` clip (an encoded download) and a `raw` one (interleaved f32le samples the synth streamed to disk) are
 * handed over: the pipeline deletes the file once it is read (or the generation fails).
 */
export type ClipAudio = { kind: 'pcm'; pcm: Pcm } | { kind: 'file'; path: string } | { kind: 'raw'; raw: RawPcmFile };

export interface ProviderClip {
  /** 0-based take number; becomes the track's clip_index and part of its S3 keys. */
  index: number;
  audio: ClipAudio;
  /** The seed this take was made from, when the provider has one. */
  seed: number | null;
  bpm: number | null;
  /** e.g. "A minor". */
  musicalKey: string | null;
  lyrics: string | null;
  /** Provider facts worth keeping as provenance (plan, genre, bars, provider clip id…). */
  meta: Record<string, unknown>;
}

export interface StageUpdate {
  stage: GenerationStage;
  /** 0–100 for the whole generation; defaults to the stage's own value. */
  progress?: number;
  message?: string;
  /** At `first_audio`: a URL the browser can play before the final file exists (the provider's stream). */
  streamUrl?: string;
}

export interface GenerateOptions {
  signal: AbortSignal;
  onStage(update: StageUpdate): Promise<void>;
  /** Called once the provider accepted a task (before polling it), so a later attempt can resume it. */
  onTaskId?(taskId: string): Promise<void>;
}

export interface MusicProvider {
  readonly id: Provider;
  readonly model: string;
  generate(req: MusicRequest, opts: GenerateOptions): Promise<ProviderClip[]>;
}
