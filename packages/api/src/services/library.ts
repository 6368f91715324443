/**
 * The track library: list (filters, search, cursor paging), read, rename, delete and presigned URLs for playback and
 * download. Owners rename and delete; project members may read the tracks their project's clips use. Delete hides the
 * track and its clips at once and hands the objects and the row to the `maintenance.delete-track` job.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  detachTrackFromProjects,
  findReadableTrack,
  listLibraryTracks,
  renameTrack as renameTrackRow,
  requireProject,
  softDeleteTrack,
  type Database,
  type LibraryCursor,
  type LibraryTrackRow,
} from '@dawg/db';
import {
  AppError,
  STUDIO_LIMITS,
  type Track,
  type TrackListInput,
  type TrackListOutput,
  type TrackUrls,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { TrackDeletionQueue } from './track-deletion-queue';

/** Presigned GETs live an hour: long enough for a session of listening, short enough that a leaked link dies. */
export const TRACK_URL_TTL_SEC = 60 * 60;

export interface LibraryDeps {
  db: Kysely<Database>;
  log: FastifyBaseLogger;
  storage: { s3: S3Client; bucket: string };
  trackDeletion: TrackDeletionQueue;
}

const notFound = () => new AppError('NOT_FOUND', 'Track not found');

async function presign(deps: LibraryDeps, key: string | null, disposition?: string): Promise<string | null> {
  if (!key) return null;
  const command = new GetObjectCommand({
    Bucket: deps.storage.bucket,
    Key: key,
    ...(disposition ? { ResponseContentDisposition: disposition } : {}),
  });
  return getSignedUrl(deps.storage.s3, command, { expiresIn: TRACK_URL_TTL_SEC });
}

export async function toTrackView(deps: LibraryDeps, userId: string, row: LibraryTrackRow): Promise<Track> {
  return {
    id: row.id,
    title: row.title,
    source: row.source,
    status: row.status,
    durationSec: row.duration_sec,
    bpm: row.bpm,
    key: row.musical_key,
    provider: row.provider,
    model: row.model,
    prompt: row.prompt,
    createdAt: row.created_at.toISOString(),
    projectId: row.project_id,
    generationId: row.generation_id,
    peaksUrl: await presign(deps, row.peaks_key),
    mine: row.owner_id === userId,
  };
}

// ---- Cursors: opaque to clients, base64url of `<created_at with microseconds>|<id>` --------------------------------

const CURSOR =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)\|([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export function encodeCursor(cursor: LibraryCursor): string {
  return Buffer.from(`${cursor.createdAt}|${cursor.id}`).toString('base64url');
}

export function decodeCursor(value: string): LibraryCursor {
  const match = CURSOR.exec(Buffer.from(value, 'base64url').toString());
  if (!match) {
    throw new AppError('BAD_REQUEST', 'Invalid cursor', {
      details: [{ path: ['cursor'], message: 'Not a cursor this API returned' }],
    });
  }
  return { createdAt: match[1]!, id: match[2]! };
}

export async function listTracks(deps: LibraryDeps, userId: string, input: TrackListInput): Promise<TrackListOutput> {
  if (input.projectId) await requireProject(deps.db, input.projectId, userId, 'read');
  const { rows, next } = await listLibraryTracks(deps.db, {
    userId,
    projectId: input.projectId,
    source: input.source,
    search: input.search || undefined,
    cursor: input.cursor ? decodeCursor(input.cursor) : undefined,
    limit: input.limit ?? STUDIO_LIMITS.TRACK_LIST_DEFAULT,
  });
  return {
    items: await Promise.all(rows.map((row) => toTrackView(deps, userId, row))),
    nextCursor: next ? encodeCursor(next) : null,
  };
}

export async function getTrack(deps: LibraryDeps, userId: string, trackId: string): Promise<Track> {
  const row = await findReadableTrack(deps.db, userId, trackId);
  if (!row) throw notFound();
  return toTrackView(deps, userId, row);
}

/** Owner only: a member who can read the track is refused with FORBIDDEN, anyone else with NOT_FOUND. */
async function ownerRefusal(deps: LibraryDeps, userId: string, trackId: string): Promise<AppError> {
  const readable = await findReadableTrack(deps.db, userId, trackId);
  return readable ? new AppError('FORBIDDEN', 'Only the owner of a track can change it') : notFound();
}

export async function renameTrack(deps: LibraryDeps, userId: string, trackId: string, title: string): Promise<Track> {
  const row = await renameTrackRow(deps.db, userId, trackId, title);
  if (!row) throw await ownerRefusal(deps, userId, trackId);
  return toTrackView(deps, userId, row);
}

/**
 * Hides the track (it disappears from every list and URL at once), removes its clips from every project (a version
 * bump each, so editors reload), then enqueues the job that deletes the objects and the row. A failure after the
 * row is hidden is logged, not returned: the job (or, if it could not be enqueued, the sweeper) finishes the work.
 */
export async function deleteTrack(deps: LibraryDeps, userId: string, trackId: string): Promise<{ id: string }> {
  const row = await softDeleteTrack(deps.db, userId, trackId);
  if (!row) throw await ownerRefusal(deps, userId, trackId);
  try {
    const projects = await detachTrackFromProjects(deps.db, trackId);
    if (projects.length > 0) deps.log.info({ trackId, projects }, 'removed a deleted track from projects');
  } catch (err) {
    deps.log.warn({ err, trackId }, 'removing a deleted track from its projects failed; the deletion job retries');
  }
  try {
    await deps.trackDeletion.enqueue(trackId);
  } catch (err) {
    deps.log.warn({ err, trackId }, 'enqueueing a track deletion failed; the purge sweeper retries');
  }
  return { id: trackId };
}

/** `attachment` with the title as file name (an ASCII fallback and the UTF-8 original, RFC 6266). */
export function attachmentDisposition(title: string, extension: string): string {
  const base = title.trim() || 'track';
  const ascii = base.replace(/[^\w .()-]/g, '_').slice(0, 150);
  return `attachment; filename="${ascii}.${extension}"; filename*=UTF-8''${encodeURIComponent(`${base}.${extension}`)}`;
}

export async function trackUrls(
  deps: LibraryDeps,
  userId: string,
  trackId: string,
  download = false,
): Promise<TrackUrls> {
  const row = await findReadableTrack(deps.db, userId, trackId);
  if (!row) throw notFound();
  const expiresAt = new Date(Date.now() + TRACK_URL_TTL_SEC * 1000).toISOString();
  const [mp3Url, wavUrl, peaksUrl] = await Promise.all([
    presign(deps, row.mp3_key, download ? attachmentDisposition(row.title, 'mp3') : undefined),
    presign(deps, row.wav_key, download ? attachmentDisposition(row.title, 'wav') : undefined),
    presign(deps, row.peaks_key),
  ]);
  return { mp3Url, wavUrl, peaksUrl, expiresAt };
}
