/**
 * Generation rows as the API shows them: ISO dates, camelCase, and for each track presigned GET URLs (an hour) of
 * its MP3, WAV and peaks, so a browser fetches the audio straight from the bucket.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { GenerationRow, TrackRow } from '@dawg/db';
import type { GenerationTrack, GenerationView } from '@dawg/shared';

export const PRESIGNED_URL_TTL_SEC = 60 * 60;

export interface Storage {
  s3: S3Client;
  bucket: string;
}

export async function presignGet(storage: Storage, key: string | null): Promise<string | null> {
  if (!key) return null;
  return getSignedUrl(storage.s3, new GetObjectCommand({ Bucket: storage.bucket, Key: key }), {
    expiresIn: PRESIGNED_URL_TTL_SEC,
  });
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function toTrackView(storage: Storage, t: TrackRow): Promise<GenerationTrack> {
  const [mp3Url, wavUrl, peaksUrl] = await Promise.all([
    presignGet(storage, t.mp3_key),
    presignGet(storage, t.wav_key),
    presignGet(storage, t.peaks_key),
  ]);
  return {
    id: t.id,
    clipIndex: t.clip_index ?? 0,
    title: t.title,
    durationSec: t.duration_sec,
    bpm: t.bpm,
    musicalKey: t.musical_key,
    loudnessLufs: t.loudness_lufs,
    sampleRate: t.sample_rate,
    channels: t.channels,
    provider: t.provider,
    model: t.model,
    seed: t.seed,
    mp3Url,
    wavUrl,
    peaksUrl,
    createdAt: t.created_at.toISOString(),
  };
}

export async function toGenerationView(
  storage: Storage,
  row: GenerationRow,
  tracks: readonly TrackRow[],
): Promise<GenerationView> {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    stage: row.stage,
    progress: row.progress,
    prompt: row.prompt,
    params: row.params,
    provider: row.provider,
    model: row.model,
    projectId: row.project_id,
    error: row.error,
    errorCode: row.error_code,
    attempts: row.attempts,
    estimatedCostMicro: row.estimated_cost_micro,
    actualCostMicro: row.actual_cost_micro,
    durationMs: row.duration_ms,
    createdAt: row.created_at.toISOString(),
    startedAt: iso(row.started_at),
    completedAt: iso(row.completed_at),
    tracks: await Promise.all(tracks.filter((t) => t.generation_id === row.id).map((t) => toTrackView(storage, t))),
  };
}
