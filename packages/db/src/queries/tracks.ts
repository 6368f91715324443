/**
 * Track queries for generated audio. A generation's tracks are written by upsert on (generation_id, clip_index), so
 * a retried job leaves one row per clip; reads are always scoped to the owner.
 */
import type { Provider } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { json, type Database, type JsonObject, type TracksTable } from '../schema';

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

/** Insert (or, for a retried job, overwrite) the tracks of a generation; returns their ids in clip order. */
export async function upsertGeneratedTracks(db: DbOrTx, tracks: readonly GeneratedTrackInput[]): Promise<string[]> {
  if (tracks.length === 0) return [];
  const rows = await db
    .insertInto('tracks')
    .values(
      tracks.map((t) => ({
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
        params: json(t.params),
        seed: t.seed,
        parent_track_id: t.parentTrackId ?? null,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['generation_id', 'clip_index']).doUpdateSet((eb) => ({
        title: eb.ref('excluded.title'),
        status: eb.ref('excluded.status'),
        mp3_key: eb.ref('excluded.mp3_key'),
        wav_key: eb.ref('excluded.wav_key'),
        peaks_key: eb.ref('excluded.peaks_key'),
        size_bytes: eb.ref('excluded.size_bytes'),
        duration_sec: eb.ref('excluded.duration_sec'),
        loudness_lufs: eb.ref('excluded.loudness_lufs'),
        bpm: eb.ref('excluded.bpm'),
        musical_key: eb.ref('excluded.musical_key'),
        sample_rate: eb.ref('excluded.sample_rate'),
        channels: eb.ref('excluded.channels'),
        provider: eb.ref('excluded.provider'),
        model: eb.ref('excluded.model'),
        params: eb.ref('excluded.params'),
        seed: eb.ref('excluded.seed'),
        deleted_at: null,
      })),
    )
    .returning(['id', 'clip_index'])
    .execute();
  return rows.sort((a, b) => (a.clip_index ?? 0) - (b.clip_index ?? 0)).map((r) => r.id);
}

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
