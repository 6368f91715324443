/**
 * Track queries for generated audio. A generation's tracks are written by upsert on (generation_id, clip_index), so
 * a retried job leaves one row per clip; reads are always scoped to the owner.
 */
import type { Provider } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, JsonObject, TracksTable } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type TrackRow = Selectable<TracksTable>;

export interface GeneratedTrackInput {
  ownerId: string;
  projectId: string | null;
  generationId: string;
  clipIndex: number;
  title: string;
  mp3Key: string;
  wavKey: string;
  peaksKey: string;
  sizeBytes: number;
  durationSec: number;
  loudnessLufs: number | null;
  bpm: number | null;
  musicalKey: string | null;
  sampleRate: number;
  channels: number;
  provider: Provider;
  model: string;
  prompt: string | null;
  lyrics: string | null;
  params: JsonObject;
  seed: number | null;
  /** The track this one continues (extend). */
  parentTrackId?: string | null;
}

/** The row a generated track becomes (commitGenerationSuccess inserts it, or overwrites it for a retried job). */
export function generatedTrackValues(t: GeneratedTrackInput) {
  return {
    owner_id: t.ownerId,
    project_id: t.projectId,
    generation_id: t.generationId,
    clip_index: t.clipIndex,
    source: 'generated' as const,
    status: 'ready' as const,
    title: t.title,
    mp3_key: t.mp3Key,
    wav_key: t.wavKey,
    peaks_key: t.peaksKey,
    content_type: 'audio/mpeg',
    size_bytes: t.sizeBytes,
    duration_sec: t.durationSec,
    loudness_lufs: t.loudnessLufs,
    bpm: t.bpm,
    musical_key: t.musicalKey,
    sample_rate: t.sampleRate,
    channels: t.channels,
    provider: t.provider,
    model: t.model,
    prompt: t.prompt,
    lyrics: t.lyrics,
    params: t.params,
    seed: t.seed,
    parent_track_id: t.parentTrackId ?? null,
  };
}

/** What a retried generation overwrites in its tracks (one row per clip); `deleted_at` is cleared as well. */
export const OVERWRITTEN_ON_RETRY = [
  'title',
  'status',
  'mp3_key',
  'wav_key',
  'peaks_key',
  'size_bytes',
  'duration_sec',
  'loudness_lufs',
  'bpm',
  'musical_key',
  'sample_rate',
  'channels',
  'provider',
  'model',
  'params',
  'seed',
] as const satisfies readonly (keyof TracksTable)[];

/** Live tracks of the given generations of one owner, in clip order. */
export async function listTracksOfGenerations(
  db: DbOrTx,
  ownerId: string,
  generationIds: readonly string[],
): Promise<TrackRow[]> {
  if (generationIds.length === 0) return [];
  return db
    .selectFrom('tracks')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('generation_id', 'in', [...generationIds])
    .where('deleted_at', 'is', null)
    .orderBy('generation_id')
    .orderBy('clip_index')
    .execute();
}
