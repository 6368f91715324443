/**
 * The generation API's requests and answers (tRPC `generation.*` and the seed's REST `/api/generate*`), the music
 * providers and their default models, the retry policy of the `generate` job, where a generation's progress events
 * live in Redis, and the waveform peaks format the worker writes next to each track.
 */
import { z } from 'zod';
import { LIMITS, PITCH_CLASSES } from './constants';
import {
  generationKindSchema,
  generationProgressEventSchema,
  generationStageSchema,
  generationStatusSchema,
  genreSchema,
  REST_GENERATION_STATUSES,
} from './generation';
import { providerSchema } from './prices';

/** Providers that make music. `test` is a zero-cost tone generator for tests; never offered to users in production. */
export const MUSIC_PROVIDERS = ['local', 'suno', 'test'] as const;
export const musicProviderSchema = z.enum(MUSIC_PROVIDERS);
export type MusicProviderId = z.infer<typeof musicProviderSchema>;

/** The model recorded on a generation row when it is admitted (the worker records what actually ran on tracks). */
export const DEFAULT_MUSIC_MODELS: Readonly<Record<MusicProviderId, string>> = {
  local: 'dawg-synth-1',
  suno: 'V4_5',
  test: 'test-tone-1',
};

/** Scales the local synth knows; a request may name one with a key. */
export const SCALE_NAMES = ['major', 'minor', 'dorian', 'mixolydian', 'phrygian', 'lydian'] as const;
export const scaleNameSchema = z.enum(SCALE_NAMES);
export type ScaleName = z.infer<typeof scaleNameSchema>;
export const pitchClassSchema = z.enum(PITCH_CLASSES);

export const GENERATION_LIMITS = {
  /** Suno custom mode: style up to 1,000 characters, title up to 100 (depending on the model; we allow the larger). */
  STYLE_MAX_CHARS: 1000,
  TITLE_MAX_CHARS: 100,
  NEGATIVE_TAGS_MAX_CHARS: 500,
  VARIANTS_MAX: 2,
  SEED_MAX: 2 ** 31 - 1,
  IDEMPOTENCY_KEY_MAX_CHARS: 100,
  LIST_MAX: 50,
  LIST_DEFAULT: 20,
} as const;

/** Fields both modes share. Duration, genre and bpm bounds come from the seed (hardening section 6). */
const generationOptions = {
  instrumental: z.boolean().default(false),
  duration: z.number().min(LIMITS.DURATION_MIN_SEC).max(LIMITS.DURATION_MAX_SEC),
  genre: genreSchema.optional(),
  bpm: z.number().int().min(LIMITS.BPM_MIN).max(LIMITS.BPM_MAX).optional(),
  key: pitchClassSchema.optional(),
  scale: scaleNameSchema.optional(),
  seed: z.number().int().min(0).max(GENERATION_LIMITS.SEED_MAX).optional(),
  /** Takes of the same request (Suno always returns two; the local synth renders as many as asked). */
  variants: z.number().int().min(1).max(GENERATION_LIMITS.VARIANTS_MAX).default(1),
  projectId: z.uuid().optional(),
  /** Only `test` may be chosen explicitly outside production (and by admins in it); otherwise the server decides. */
  provider: musicProviderSchema.optional(),
  /** Retrying a request with the same key answers the generation it already made (REST: `Idempotency-Key`). */
  idempotencyKey: z.string().trim().min(1).max(GENERATION_LIMITS.IDEMPOTENCY_KEY_MAX_CHARS).optional(),
};

/** Simple mode: a description of the song. The default, so the seed's `{ prompt, duration, genre }` body is one. */
export const simpleGenerationSchema = z.object({
  mode: z.literal('simple').default('simple'),
  prompt: z.string().trim().min(LIMITS.PROMPT_MIN_CHARS).max(LIMITS.PROMPT_MAX_CHARS),
  ...generationOptions,
});

/**
 * Custom mode: the caller writes the lyrics (unless instrumental), the style and the title, or asks for them to be
 * written (`writeLyrics`: the lyrics, and the title when none is given, are written from the style before the music).
 */
export const customGenerationSchema = z.object({
  mode: z.literal('custom'),
  title: z.string().trim().min(1).max(GENERATION_LIMITS.TITLE_MAX_CHARS).optional(),
  style: z.string().trim().min(1).max(GENERATION_LIMITS.STYLE_MAX_CHARS),
  lyrics: z.string().trim().max(LIMITS.LYRICS_MAX_CHARS).optional(),
  writeLyrics: z.boolean().default(false),
  negativeTags: z.string().trim().max(GENERATION_LIMITS.NEGATIVE_TAGS_MAX_CHARS).optional(),
  ...generationOptions,
});

export const createGenerationInputSchema = z
  .discriminatedUnion('mode', [simpleGenerationSchema, customGenerationSchema])
  .superRefine((input, ctx) => {
    if (input.mode !== 'custom') return;
    if (input.writeLyrics) {
      if (input.instrumental) {
        ctx.addIssue({ code: 'custom', path: ['writeLyrics'], message: 'An instrumental song has no lyrics to write' });
      }
      if (input.lyrics) {
        ctx.addIssue({
          code: 'custom',
          path: ['lyrics'],
          message: 'Give lyrics or ask for them to be written, not both',
        });
      }
      return;
    }
    if (!input.title) {
      ctx.addIssue({ code: 'custom', path: ['title'], message: 'A title is required unless lyrics are written' });
    }
    if (!input.instrumental && !input.lyrics) {
      ctx.addIssue({
        code: 'custom',
        path: ['lyrics'],
        message: 'Lyrics are required unless the song is instrumental or writeLyrics is set',
      });
    }
  });
export type CreateGenerationInput = z.input<typeof createGenerationInputSchema>;
export type CreateGenerationRequest = z.output<typeof createGenerationInputSchema>;

/** What the worker needs to reproduce a request; stored as `generations.params` (the seed is always fixed here). */
export const generationParamsSchema = z.object({
  mode: z.enum(['simple', 'custom']),
  prompt: z.string().optional(),
  title: z.string().optional(),
  style: z.string().optional(),
  lyrics: z.string().optional(),
  negativeTags: z.string().optional(),
  instrumental: z.boolean(),
  durationSec: z.number(),
  genre: genreSchema.optional(),
  bpm: z.number().optional(),
  key: pitchClassSchema.optional(),
  scale: scaleNameSchema.optional(),
  seed: z.number().int().min(0),
  variants: z.number().int().min(1).max(GENERATION_LIMITS.VARIANTS_MAX),
  /** Custom mode: write the lyrics (and the title when missing) before making the music. */
  writeLyrics: z.boolean().optional(),
  /** Extend: what is continued, and from where. `durationSec` above is the length of the continuation. */
  extend: z
    .object({
      parentTrackId: z.uuid(),
      /** Bar-aligned point of the parent the continuation starts at. */
      continueAtSec: z.number().min(0),
      /** The parent's own length and take (the local synth re-plans the parent's song from them). */
      parentDurationSec: z.number().positive(),
      parentVariant: z.number().int().min(0).max(1),
      /** The provider's id of the parent clip (Suno's `audioId`). */
      providerClipId: z.string().optional(),
    })
    .optional(),
});
export type GenerationParams = z.infer<typeof generationParamsSchema>;

/** Default length (seconds) of an extension when the request names none. */
export const EXTEND_DEFAULT_DURATION_SEC = 30;

/**
 * `generation.extend`: continue an owned track from `continueAt` seconds, snapped to the nearest bar line of the
 * track's tempo (4/4). The continuation goes through the same admission as a new song.
 */
export const extendGenerationInputSchema = z.object({
  trackId: z.uuid(),
  continueAt: z.number().min(0).max(LIMITS.DURATION_MAX_SEC),
  /** Direction for the continuation (Suno: its prompt); defaults to the parent's. */
  prompt: z.string().trim().min(1).max(LIMITS.PROMPT_MAX_CHARS).optional(),
  /** Length of the continuation in seconds. */
  duration: z.number().min(LIMITS.DURATION_MIN_SEC).max(LIMITS.DURATION_MAX_SEC).optional(),
  projectId: z.uuid().optional(),
  idempotencyKey: z.string().trim().min(1).max(GENERATION_LIMITS.IDEMPOTENCY_KEY_MAX_CHARS).optional(),
});
export type ExtendGenerationInput = z.input<typeof extendGenerationInputSchema>;
export type ExtendGenerationRequest = z.output<typeof extendGenerationInputSchema>;

/** Snaps seconds to the nearest bar line at `bpm` (4/4); the api stores the snapped value. */
export function snapToBar(seconds: number, bpm: number): { bar: number; seconds: number; barSec: number } {
  const barSec = 240 / bpm;
  const bar = Math.round(seconds / barSec);
  return { bar, seconds: bar * barSec, barSec };
}

export const cancelGenerationInputSchema = z.object({ id: z.uuid() });
export const cancelGenerationOutputSchema = z.object({
  id: z.uuid(),
  /** `canceled` at once for a queued generation; a running one stays `running` until its worker stops it. */
  status: generationStatusSchema,
  cancelRequested: z.boolean(),
});
export type CancelGenerationOutput = z.infer<typeof cancelGenerationOutputSchema>;

/**
 * Redis pub/sub channel (cache database) on which the api asks workers to abort a running job; the worker running it
 * aborts its AbortSignal (BullMQ `Worker.cancelJob`), the others ignore the message.
 */
export function jobCancelChannel(prefix: string): string {
  return `${prefix}:jobs:cancel`;
}
export const jobCancelMessageSchema = z.object({
  queue: z.string().min(1),
  jobId: z.string().min(1),
  reason: z.string().max(200).optional(),
});
export type JobCancelMessage = z.infer<typeof jobCancelMessageSchema>;

/** The seed's 202 answer; `jobId` is the generation's id (the BullMQ job id is the row id). */
export const createGenerationOutputSchema = z.object({
  jobId: z.uuid(),
  status: generationStatusSchema,
  /** Seconds until the audio is expected. */
  estimatedTime: z.number().int().min(0),
});
export type CreateGenerationOutput = z.infer<typeof createGenerationOutputSchema>;

export const generationTrackSchema = z.object({
  id: z.uuid(),
  clipIndex: z.number().int().min(0),
  title: z.string(),
  durationSec: z.number().nullable(),
  bpm: z.number().nullable(),
  musicalKey: z.string().nullable(),
  loudnessLufs: z.number().nullable(),
  sampleRate: z.number().int().nullable(),
  channels: z.number().int().nullable(),
  provider: providerSchema.nullable(),
  model: z.string().nullable(),
  seed: z.number().int().nullable(),
  /** Presigned GET URLs, valid for an hour. */
  mp3Url: z.string().nullable(),
  wavUrl: z.string().nullable(),
  peaksUrl: z.string().nullable(),
  createdAt: z.string(),
});
export type GenerationTrack = z.infer<typeof generationTrackSchema>;

export const generationViewSchema = z.object({
  id: z.uuid(),
  kind: generationKindSchema,
  status: generationStatusSchema,
  stage: generationStageSchema,
  progress: z.number().int().min(0).max(100),
  prompt: z.string(),
  params: z.record(z.string(), z.unknown()),
  provider: providerSchema,
  model: z.string(),
  projectId: z.uuid().nullable(),
  error: z.string().nullable(),
  errorCode: z.string().nullable(),
  attempts: z.number().int().min(0),
  estimatedCostMicro: z.number().int().min(0),
  actualCostMicro: z.number().int().min(0).nullable(),
  durationMs: z.number().int().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  tracks: z.array(generationTrackSchema),
});
export type GenerationView = z.infer<typeof generationViewSchema>;

export const getGenerationInputSchema = z.object({ id: z.uuid() });

export const listGenerationsInputSchema = z.object({
  limit: z.number().int().min(1).max(GENERATION_LIMITS.LIST_MAX).default(GENERATION_LIMITS.LIST_DEFAULT),
  /** The `nextCursor` of the previous page. */
  cursor: z.uuid().optional(),
  projectId: z.uuid().optional(),
  status: generationStatusSchema.optional(),
});
export const listGenerationsOutputSchema = z.object({
  items: z.array(generationViewSchema),
  nextCursor: z.uuid().nullable(),
});
export type ListGenerationsOutput = z.infer<typeof listGenerationsOutputSchema>;

/** tRPC adds `lastEventId` on reconnect (the id of the last `tracked()` item the client received). */
export const generationProgressInputSchema = z.object({
  id: z.uuid(),
  lastEventId: z.string().max(64).optional(),
});

/** The subscription first yields the row as it is, then every progress event after it. */
export const generationProgressItemSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), generation: generationViewSchema }),
  z.object({ type: z.literal('event'), event: generationProgressEventSchema }),
]);
export type GenerationProgressItem = z.infer<typeof generationProgressItemSchema>;

/** The seed's `GET /api/generate/:id/status` answer (`completed` for succeeded; audioUrl = presigned MP3). */
export const generationStatusOutputSchema = z.object({
  jobId: z.uuid(),
  status: z.enum(REST_GENERATION_STATUSES),
  stage: generationStageSchema,
  progress: z.number().int().min(0).max(100),
  audioUrl: z.string().nullable(),
  error: z.string().optional(),
});
export type GenerationStatusOutput = z.infer<typeof generationStatusOutputSchema>;

/**
 * Retry policy of the `generate` job (producers: the api at admission and the worker's sweeper). A failure is final
 * only after the last attempt; provider 4xx and invalid requests fail at once (UnrecoverableError).
 */
export const GENERATE_JOB_ATTEMPTS = 3;
export const GENERATE_JOB_BACKOFF_MS = 2_000;

/** BullMQ options of every `generate` job (plain data, so the api and the worker's sweeper add identical jobs). */
export const GENERATE_JOB_OPTIONS = {
  attempts: GENERATE_JOB_ATTEMPTS,
  backoff: { type: 'exponential' as const, delay: GENERATE_JOB_BACKOFF_MS },
  removeOnComplete: { age: 24 * 60 * 60, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 60 * 60, count: 5_000 },
};

/** Unfinished rows untouched this long are checked by the sweeper: re-enqueued if their job is gone. */
export const GENERATION_SWEEP_AFTER_MS = 60_000;
export const GENERATION_SWEEP_EVERY_MS = 30_000;
/** A hold outlives any job that could still settle it; the release job frees it after this. */
export const GENERATION_HOLD_TTL_MS = 24 * 60 * 60 * 1000;

/** Progress events of one generation: a Redis Stream whose entry ids are the subscription's `tracked()` ids. */
export function generationEventsKey(prefix: string, generationId: string): string {
  return `${prefix}:gen:${generationId}:events`;
}
/** The stream entry's single field, holding the JSON of a GenerationProgressEvent. */
export const GENERATION_EVENT_FIELD = 'e';
/** Approximate MAXLEN: a generation emits a few dozen events, so nothing a client could resume from is trimmed. */
export const GENERATION_EVENTS_MAXLEN = 1_000;
/** While a generation runs its stream lives a day at most; after the final event it is kept an hour for resumes. */
export const GENERATION_EVENTS_TTL_SEC = 24 * 60 * 60;
export const GENERATION_EVENTS_DONE_TTL_SEC = 60 * 60;

/** Seconds a generation is expected to take (the seed's `estimatedTime`). Local: measured synth + mastering speed. */
export function estimateGenerationSeconds(provider: MusicProviderId, durationSec: number, variants: number): number {
  switch (provider) {
    case 'suno':
      // Suno streams first audio after ~20 s and finishes in 1–3 min.
      return 60;
    case 'local':
      return Math.ceil(2 + (durationSec / 15) * variants);
    case 'test':
      return 1;
  }
}

/** Waveform overview written next to each track: `data[channel]` = [min0, max0, min1, max1, …] in −1…1. */
export const waveformPeaksSchema = z.object({
  version: z.literal(1),
  sampleRate: z.number().int().positive(),
  channels: z.number().int().min(1).max(8),
  /** Audio frames summarised by each min/max pair (on average: pairs split the clip exactly). */
  samplesPerPeak: z.number().positive(),
  /** Pairs per channel. */
  length: z.number().int().positive(),
  durationSec: z.number().positive(),
  data: z.array(z.array(z.number().min(-1).max(1))),
});
export type WaveformPeaks = z.infer<typeof waveformPeaksSchema>;

/** S3 keys of one clip of a generation: deterministic, so a retried job overwrites instead of leaking objects. */
export function generationObjectKeys(
  userId: string,
  generationId: string,
  clipIndex: number,
): { wav: string; mp3: string; peaks: string } {
  const base = `users/${userId}/generations/${generationId}/${clipIndex}`;
  return { wav: `${base}.wav`, mp3: `${base}.mp3`, peaks: `${base}.peaks.json` };
}

/** The api's route for Suno's task callbacks (signed per generation; see sunoCallbackSignature). */
export const SUNO_CALLBACK_PATH = '/api/suno/callback';

/** `?g=<generation id>&sig=<signature>` of a callback URL. */
export const sunoCallbackQuerySchema = z.object({
  g: z.uuid(),
  sig: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 hex characters'),
});

/** HMAC-SHA256 (hex) of the generation id with SUNO_CALLBACK_SECRET: the credential in a callback URL. */
export async function sunoCallbackSignature(secret: string, generationId: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    enc.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, enc.encode(generationId)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Redis pub/sub channel (cache database) on which the api passes a verified Suno callback to the workers: the worker
 * polling that generation's task polls at once instead of after its pause. Message: `{ generationId, callbackType }`.
 */
export function sunoWakeChannel(prefix: string): string {
  return `${prefix}:suno:wake`;
}
export const sunoWakeMessageSchema = z.object({ generationId: z.uuid(), callbackType: z.string().max(40).optional() });
