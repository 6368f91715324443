/**
 * The music-provider interface every generator fits (the local synth, the test tone, Suno next): a request in, clips
 * out, as PCM in memory or a file on disk (a provider that downloads audio hands over the file). Providers report
 * stages (e.g. `first_audio` when the first clip exists) through `onStage`; the job persists and publishes them.
 * A provider throws UnrecoverableError for requests it can never serve (retrying cannot help) and plain errors for
 * transient failures.
 */
import type { GenerationStage, Genre, ScaleName } from '@dawg/shared';
import type { Provider } from '@dawg/shared';
import type { Pcm } from '../audio/pcm';

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
}

export type ClipAudio = { kind: 'pcm'; pcm: Pcm } | { kind: 'file'; path: string };

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
}

export interface GenerateOptions {
  signal: AbortSignal;
  onStage(update: StageUpdate): Promise<void>;
}

export interface MusicProvider {
  readonly id: Provider;
  readonly model: string;
  generate(req: MusicRequest, opts: GenerateOptions): Promise<ProviderClip[]>;
}
