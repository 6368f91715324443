/**
 * The frozen vocabulary of a music generation: statuses, stages, the legal status transitions, genres, the REST
 * translation of a status, the seed's request schema for `POST /api/generate` and the progress event every layer
 * speaks (worker → Redis → api → browser).
 */
import { z } from 'zod';
import { LIMITS } from './constants';

export const GENERATION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled'] as const;
export const generationStatusSchema = z.enum(GENERATION_STATUSES);
export type GenerationStatus = z.infer<typeof generationStatusSchema>;

export const TERMINAL_GENERATION_STATUSES = [
  'succeeded',
  'failed',
  'canceled',
] as const satisfies readonly GenerationStatus[];
export type TerminalGenerationStatus = (typeof TERMINAL_GENERATION_STATUSES)[number];

export function isTerminalStatus(status: GenerationStatus): status is TerminalGenerationStatus {
  return (TERMINAL_GENERATION_STATUSES as readonly GenerationStatus[]).includes(status);
}

/**
 * Legal moves. `running → queued` is a retry handed back to the queue (worker shutdown, transient provider error);
 * terminal statuses never move again, so a late or duplicated event cannot resurrect a finished row.
 */
export const GENERATION_TRANSITIONS: Readonly<Record<GenerationStatus, readonly GenerationStatus[]>> = {
  queued: ['running', 'failed', 'canceled'],
  running: ['queued', 'succeeded', 'failed', 'canceled'],
  succeeded: [],
  failed: [],
  canceled: [],
};

export function canTransition(from: GenerationStatus, to: GenerationStatus): boolean {
  return GENERATION_TRANSITIONS[from].includes(to);
}

export const GENERATION_STAGES = [
  'queued',
  'writing_lyrics',
  'generating',
  'first_audio',
  'processing',
  'uploading',
  'done',
] as const;
export const generationStageSchema = z.enum(GENERATION_STAGES);
export type GenerationStage = z.infer<typeof generationStageSchema>;

/** Progress (0–100) a row shows on entering each stage; a provider may report finer progress inside a stage. */
export const STAGE_PROGRESS: Readonly<Record<GenerationStage, number>> = {
  queued: 0,
  writing_lyrics: 5,
  generating: 15,
  first_audio: 50,
  processing: 75,
  uploading: 90,
  done: 100,
};

/** Stages only move forward; used to drop stale progress events that arrive out of order. */
export function stageIndex(stage: GenerationStage): number {
  return GENERATION_STAGES.indexOf(stage);
}

/** The seed's REST answers say `completed` where the domain says `succeeded`; only the REST layer translates. */
export const REST_GENERATION_STATUSES = ['queued', 'running', 'completed', 'failed', 'canceled'] as const;
export type RestGenerationStatus = (typeof REST_GENERATION_STATUSES)[number];

export function toRestStatus(status: GenerationStatus): RestGenerationStatus {
  return status === 'succeeded' ? 'completed' : status;
}

export function fromRestStatus(status: RestGenerationStatus): GenerationStatus {
  return status === 'completed' ? 'succeeded' : status;
}

/** The seed's four genres first (its validation example), then the ones the product adds. */
export const GENRES = [
  'electronic',
  'rock',
  'jazz',
  'classical',
  'hip-hop',
  'lofi',
  'pop',
  'ambient',
  'house',
  'techno',
  'drum-and-bass',
  'trap',
  'funk',
  'r-and-b',
  'cinematic',
  'folk',
  'metal',
  'reggae',
] as const;
export const genreSchema = z.enum(GENRES);
export type Genre = z.infer<typeof genreSchema>;

export const GENERATION_KINDS = ['song', 'loop', 'extend'] as const;
export const generationKindSchema = z.enum(GENERATION_KINDS);
export type GenerationKind = z.infer<typeof generationKindSchema>;

/** Body of the seed's `POST /api/generate` (hardening section 6), extended with the optional studio fields. */
export const generateMusicInputSchema = z.object({
  prompt: z.string().trim().min(LIMITS.PROMPT_MIN_CHARS).max(LIMITS.PROMPT_MAX_CHARS),
  duration: z.number().min(LIMITS.DURATION_MIN_SEC).max(LIMITS.DURATION_MAX_SEC),
  genre: genreSchema.optional(),
  kind: generationKindSchema.optional(),
  lyrics: z.string().max(LIMITS.LYRICS_MAX_CHARS).optional(),
  instrumental: z.boolean().optional(),
  bpm: z.number().int().min(LIMITS.BPM_MIN).max(LIMITS.BPM_MAX).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  projectId: z.uuid().optional(),
});
export type GenerateMusicInput = z.infer<typeof generateMusicInputSchema>;

/** One progress event on the generation's stream; `at` is epoch milliseconds. */
export const generationProgressEventSchema = z.object({
  generationId: z.uuid(),
  status: generationStatusSchema,
  stage: generationStageSchema,
  progress: z.number().min(0).max(100),
  message: z.string().optional(),
  error: z.string().optional(),
  trackIds: z.array(z.uuid()).optional(),
  /**
   * At `first_audio`, when the provider streams before the final file exists (Suno): a URL the browser can play at
   * once. Provider URLs expire; the final tracks are always our own copies.
   */
  streamUrl: z.string().url().optional(),
  at: z.number().int(),
});
export type GenerationProgressEvent = z.infer<typeof generationProgressEventSchema>;
