/**
 * Studio II queries: uploaded tracks (a `pending` row made before the bytes arrive, then `processing` while the
 * analyze job runs, then `ready` or `failed`), mixdown rows (queued → running → succeeded | failed, with the mix as a
 * `tracks` row of source `mixdown`), and project members.
 */
import type { GenerationStatus, ProjectMember, ProjectRole } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, MixdownsTable } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type MixdownRow = Selectable<MixdownsTable>;

export interface UploadTrackInput {
  id: string;
  ownerId: string;
  projectId: string | null;
  title: string;
  originalKey: string;
  contentType: string;
  sizeBytes: number;
}

export async function insertUploadTrack(db: DbOrTx, input: UploadTrackInput): Promise<void> {
  await db
    .insertInto('tracks')
    .values({
      id: input.id,
      owner_id: input.ownerId,
      project_id: input.projectId,
      source: 'uploaded',
      status: 'pending',
      title: input.title,
      original_key: input.originalKey,
      content_type: input.contentType,
      size_bytes: input.sizeBytes,
    })
    .execute();
}

/** pending → processing for the owner's upload; false when it is not the owner's pending upload. */
export async function markUploadReceived(
  db: DbOrTx,
  ownerId: string,
  trackId: string,
  sizeBytes: number,
): Promise<boolean> {
  const result = await db
    .updateTable('tracks')
    .set({ status: 'processing', size_bytes: sizeBytes })
    .where('id', '=', trackId)
    .where('owner_id', '=', ownerId)
    .where('source', '=', 'uploaded')
    .where('status', '=', 'pending')
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface TrackAnalysis {
  mp3Key: string;
  peaksKey: string;
  durationSec: number;
  loudnessLufs: number | null;
  bpm: number | null;
  sampleRate: number;
  channels: number;
}

export async function markTrackAnalyzed(db: DbOrTx, trackId: string, a: TrackAnalysis): Promise<boolean> {
  const result = await db
    .updateTable('tracks')
    .set({
      status: 'ready',
      mp3_key: a.mp3Key,
      peaks_key: a.peaksKey,
      duration_sec: a.durationSec,
      loudness_lufs: a.loudnessLufs,
      bpm: a.bpm,
      sample_rate: a.sampleRate,
      channels: a.channels,
      error: null,
    })
    .where('id', '=', trackId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * A refused upload: the row says why and no longer points at its original (the caller deletes the object). Only a
 * `pending` or `processing` row changes (a track that became ready meanwhile is left alone); false when none did.
 */
export async function markTrackFailed(db: DbOrTx, trackId: string, error: string): Promise<boolean> {
  const result = await db
    .updateTable('tracks')
    .set({ status: 'failed', error: error.slice(0, 500), original_key: null })
    .where('id', '=', trackId)
    .where('status', 'in', ['pending', 'processing'])
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

// ---- Mixdowns -----------------------------------------------------------------------------------------------------

export async function insertMixdown(
  db: DbOrTx,
  input: { projectId: string; ownerId: string; projectVersion: number; stems: boolean },
): Promise<MixdownRow> {
  return db
    .insertInto('mixdowns')
    .values({
      project_id: input.projectId,
      owner_id: input.ownerId,
      project_version: input.projectVersion,
      stems: input.stems,
      format: 'wav',
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findMixdown(db: DbOrTx, mixdownId: string): Promise<MixdownRow | undefined> {
  return db.selectFrom('mixdowns').selectAll().where('id', '=', mixdownId).executeTakeFirst();
}

export async function listMixdownsOfProject(db: DbOrTx, projectId: string, limit: number): Promise<MixdownRow[]> {
  return db
    .selectFrom('mixdowns')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export async function updateMixdown(
  db: DbOrTx,
  mixdownId: string,
  patch: {
    status?: GenerationStatus;
    progress?: number;
    error?: string | null;
    trackId?: string | null;
    stemsKey?: string | null;
    durationSec?: number | null;
    startedAt?: Date;
    completedAt?: Date;
  },
): Promise<void> {
  await db
    .updateTable('mixdowns')
    .set({
      ...(patch.status !== undefined ? { status: patch.status } : {}),
      ...(patch.progress !== undefined ? { progress: patch.progress } : {}),
      ...(patch.error !== undefined ? { error: patch.error } : {}),
      ...(patch.trackId !== undefined ? { track_id: patch.trackId } : {}),
      ...(patch.stemsKey !== undefined ? { stems_key: patch.stemsKey } : {}),
      ...(patch.durationSec !== undefined ? { duration_sec: patch.durationSec } : {}),
      ...(patch.startedAt !== undefined ? { started_at: patch.startedAt } : {}),
      ...(patch.completedAt !== undefined ? { completed_at: patch.completedAt } : {}),
    })
    .where('id', '=', mixdownId)
    .execute();
}

// ---- Members ------------------------------------------------------------------------------------------------------

/** The owner first, then members by name. */
export async function listProjectMembers(db: DbOrTx, projectId: string): Promise<ProjectMember[]> {
  const owner = await db
    .selectFrom('projects as p')
    .innerJoin('users as u', 'u.id', 'p.owner_id')
    .select(['u.id', 'u.name', 'u.email'])
    .where('p.id', '=', projectId)
    .executeTakeFirst();
  const members = await db
    .selectFrom('project_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.name', 'u.email', 'm.role'])
    .where('m.project_id', '=', projectId)
    .orderBy('u.name')
    .orderBy('u.id')
    .execute();
  const view = (u: { id: string; name: string | null; email: string }, role: ProjectRole): ProjectMember => ({
    userId: u.id,
    name: u.name ?? u.email,
    email: u.email,
    role,
  });
  return [...(owner ? [view(owner, 'owner')] : []), ...members.map((m) => view(m, m.role))];
}

export async function countProjectMembers(db: DbOrTx, projectId: string): Promise<number> {
  const row = await db
    .selectFrom('project_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Adds the member or changes their role. */
export async function upsertProjectMember(
  db: DbOrTx,
  input: { projectId: string; userId: string; role: 'editor' | 'viewer'; invitedBy: string },
): Promise<void> {
  await db
    .insertInto('project_members')
    .values({ project_id: input.projectId, user_id: input.userId, role: input.role, invited_by: input.invitedBy })
    .onConflict((oc) => oc.columns(['project_id', 'user_id']).doUpdateSet({ role: input.role }))
    .execute();
}

export async function deleteProjectMember(db: DbOrTx, projectId: string, userId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('project_members')
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Uploads left `pending` (never completed) or `processing` (analysis never finished) since before the cutoffs. */
export async function findStaleUploads(
  db: DbOrTx,
  pendingBefore: Date,
  processingBefore: Date,
  limit: number,
): Promise<{ id: string; status: string; original_key: string | null }[]> {
  return db
    .selectFrom('tracks')
    .select(['id', 'status', 'original_key'])
    .where('source', '=', 'uploaded')
    .where('deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('status', '=', 'pending'), eb('created_at', '<', pendingBefore)]),
        eb.and([eb('status', '=', 'processing'), eb('updated_at', '<', processingBefore)]),
      ]),
    )
    .orderBy('created_at')
    .limit(limit)
    .execute();
}
