/**
 * The arrangement's writers: `arrangement.apply`, undo and redo, each one transaction that locks the project,
 * checks the caller's role and the expected version, runs the shared engine (`applyArrangementOps`) on the current
 * lanes and clips, writes the difference, records or replays a history entry and bumps the version. And the one
 * writer from outside the history: removing a deleted track's clips from every project (`detachTrackFromProjects`).
 *
 * Why history is kept as operations and not snapshots: an edit is small, and its inverse is exact because it is
 * computed from the state before each operation. The undone edits are always the newest (the redo tail); a new
 * edit drops them.
 */
import {
  AppError,
  applyArrangementOps,
  isAppError,
  STUDIO_LIMITS,
  storedArrangementOpsSchema,
  trackIdsOfOps,
  type AppliedEdit,
  type Arrangement,
  type ArrangementOp,
  type ArrangementTrack,
  type Clip,
  type Lane,
  type ProjectState,
} from '@dawg/shared';
import { sql, type Kysely, type Transaction } from 'kysely';
import { json, type Database } from '../schema';
import { bumpProjectVersion, loadProjectState, lockProjectForWrite, toClipView, toLaneView } from './projects';

type Tx = Transaction<Database>;

export async function loadArrangement(db: Kysely<Database> | Tx, projectId: string): Promise<Arrangement> {
  const [lanes, clips] = await Promise.all([
    db.selectFrom('lanes').selectAll().where('project_id', '=', projectId).orderBy('position').execute(),
    db.selectFrom('clips').selectAll().where('project_id', '=', projectId).execute(),
  ]);
  return { lanes: lanes.map(toLaneView), clips: clips.map(toClipView) };
}

/**
 * The tracks an edit touches, share-locked: a concurrent track deletion (which updates the row) waits for this
 * transaction, and one that committed first is seen here, so a clip is never added to a track being deleted.
 * `placer` is who may place tracks: their own, or any already used in the project; null (undo/redo replays an edit
 * that was allowed when made) = any live one.
 */
async function loadTracks(
  trx: Tx,
  state: Arrangement,
  ops: readonly ArrangementOp[],
  placer: string | null,
): Promise<Map<string, ArrangementTrack>> {
  const inProject = new Set(state.clips.map((c) => c.trackId));
  const ids = [...new Set([...inProject, ...trackIdsOfOps(ops)])].sort();
  const tracks = new Map<string, ArrangementTrack>();
  if (ids.length === 0) return tracks;
  const rows = await trx
    .selectFrom('tracks')
    .select(['id', 'owner_id', 'status', 'duration_sec', 'deleted_at'])
    .where('id', 'in', ids)
    .orderBy('id')
    .forShare()
    .execute();
  for (const row of rows) {
    const live = row.deleted_at === null && row.status === 'ready';
    const allowed = placer === null || row.owner_id === placer || inProject.has(row.id);
    tracks.set(row.id, { durationSec: row.duration_sec, usable: live && allowed });
  }
  return tracks;
}

/**
 * Lane and clip ids are global primary keys: an id the client chose must not belong to another project. (Ids of
 * this project are the engine's business: re-adding one removed earlier in the same edit is fine.)
 */
async function assertIdsFree(trx: Tx, projectId: string, state: Arrangement, ops: readonly ArrangementOp[]) {
  const laneIds = new Set(state.lanes.map((l) => l.id));
  const clipIds = new Set(state.clips.map((c) => c.id));
  const wanted: { table: 'lanes' | 'clips'; id: string; path: (string | number)[] }[] = [];
  ops.forEach((op, i) => {
    if (op.type === 'addLane' && op.lane.id && !laneIds.has(op.lane.id)) {
      wanted.push({ table: 'lanes', id: op.lane.id, path: ['ops', i, 'lane', 'id'] });
    }
    if (op.type === 'addClip' && op.clip.id && !clipIds.has(op.clip.id)) {
      wanted.push({ table: 'clips', id: op.clip.id, path: ['ops', i, 'clip', 'id'] });
    }
  });
  for (const table of ['lanes', 'clips'] as const) {
    const ids = wanted.filter((w) => w.table === table).map((w) => w.id);
    if (ids.length === 0) continue;
    const taken = await trx
      .selectFrom(table)
      .select('id')
      .where('id', 'in', ids)
      .where('project_id', '<>', projectId)
      .execute();
    const clash = wanted.find((w) => w.table === table && taken.some((t) => t.id === w.id));
    if (clash) {
      throw new AppError('BAD_REQUEST', 'This id is already in use', {
        details: [{ path: clash.path, message: 'This id is already in use' }],
      });
    }
  }
}

const laneColumns = (projectId: string, l: Lane) => ({
  project_id: projectId,
  name: l.name,
  color: l.color,
  gain_db: l.gainDb,
  pan: l.pan,
  mute: l.mute,
  solo: l.solo,
  position: l.position,
});

const clipColumns = (projectId: string, c: Clip) => ({
  project_id: projectId,
  lane_id: c.laneId,
  track_id: c.trackId,
  start_sec: c.startSec,
  offset_sec: c.offsetSec,
  length_sec: c.lengthSec,
  fade_in: c.fadeInSec,
  fade_out: c.fadeOutSec,
});

function sameRow<T extends object>(a: T, b: T): boolean {
  return (Object.keys(a) as (keyof T)[]).every((k) => a[k] === b[k]);
}

/**
 * Writes `after` over `before`. Order matters for the foreign keys and the cascade: new lanes exist before clips
 * move onto them, and removed lanes go last, after their surviving clips moved away.
 */
async function writeDifference(trx: Tx, projectId: string, before: Arrangement, after: Arrangement): Promise<void> {
  const oldLanes = new Map(before.lanes.map((l) => [l.id, l]));
  const newLanes = new Map(after.lanes.map((l) => [l.id, l]));
  const oldClips = new Map(before.clips.map((c) => [c.id, c]));
  const newClips = new Map(after.clips.map((c) => [c.id, c]));

  const removedClips = before.clips.filter((c) => !newClips.has(c.id)).map((c) => c.id);
  if (removedClips.length > 0) await trx.deleteFrom('clips').where('id', 'in', removedClips).execute();

  const addedLanes = after.lanes.filter((l) => !oldLanes.has(l.id));
  if (addedLanes.length > 0) {
    await trx
      .insertInto('lanes')
      .values(addedLanes.map((l) => ({ id: l.id, ...laneColumns(projectId, l) })))
      .execute();
  }
  for (const lane of after.lanes) {
    const old = oldLanes.get(lane.id);
    if (old && !sameRow(old, lane)) {
      await trx.updateTable('lanes').set(laneColumns(projectId, lane)).where('id', '=', lane.id).execute();
    }
  }

  const addedClips = after.clips.filter((c) => !oldClips.has(c.id));
  if (addedClips.length > 0) {
    await trx
      .insertInto('clips')
      .values(addedClips.map((c) => ({ id: c.id, ...clipColumns(projectId, c) })))
      .execute();
  }
  for (const clip of after.clips) {
    const old = oldClips.get(clip.id);
    if (old && !sameRow(old, clip)) {
      await trx.updateTable('clips').set(clipColumns(projectId, clip)).where('id', '=', clip.id).execute();
    }
  }

  const removedLanes = before.lanes.filter((l) => !newLanes.has(l.id)).map((l) => l.id);
  if (removedLanes.length > 0) await trx.deleteFrom('lanes').where('id', 'in', removedLanes).execute();
}

async function runEngine(
  trx: Tx,
  projectId: string,
  ops: readonly ArrangementOp[],
  placer: string | null,
): Promise<AppliedEdit> {
  const before = await loadArrangement(trx, projectId);
  const tracks = await loadTracks(trx, before, ops, placer);
  await assertIdsFree(trx, projectId, before, ops);
  const edit = applyArrangementOps(before, ops, { tracks });
  await writeDifference(trx, projectId, before, edit.state);
  return edit;
}

export interface ArrangementWrite {
  projectId: string;
  userId: string;
  expectedVersion: number;
}

/** One edit = one undo step. Drops the redo tail and history older than HISTORY_DEPTH. */
export async function applyArrangementEdit(
  db: Kysely<Database>,
  input: ArrangementWrite & { ops: readonly ArrangementOp[] },
): Promise<ProjectState> {
  return db.transaction().execute(async (trx) => {
    const { role } = await lockProjectForWrite(trx, input.projectId, input.userId, input.expectedVersion);
    const edit = await runEngine(trx, input.projectId, input.ops, input.userId);
    await trx
      .deleteFrom('project_edits')
      .where('project_id', '=', input.projectId)
      .where('undone_at', 'is not', null)
      .execute();
    const last = await trx
      .selectFrom('project_edits')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .where('project_id', '=', input.projectId)
      .executeTakeFirst();
    const seq = (last?.seq ?? 0) + 1;
    await trx
      .insertInto('project_edits')
      .values({
        project_id: input.projectId,
        seq,
        user_id: input.userId,
        forward_ops: json(edit.forward),
        inverse_ops: json(edit.inverse),
      })
      .execute();
    await trx
      .deleteFrom('project_edits')
      .where('project_id', '=', input.projectId)
      .where('seq', '<=', seq - STUDIO_LIMITS.HISTORY_DEPTH)
      .execute();
    await bumpProjectVersion(trx, input.projectId);
    return loadProjectState(trx, input.projectId, role);
  });
}

/**
 * Replays stored operations. They were valid when recorded and the state they meet is the one they were recorded
 * against, so a failure means the world changed underneath (a track went away): the caller gets CONFLICT.
 */
async function replay(trx: Tx, projectId: string, stored: unknown, what: 'undo' | 'redo'): Promise<void> {
  const ops = storedArrangementOpsSchema.parse(stored);
  try {
    await runEngine(trx, projectId, ops, null);
  } catch (err) {
    if (isAppError(err) && err.code === 'BAD_REQUEST') {
      throw new AppError('CONFLICT', `This edit can no longer be ${what === 'undo' ? 'undone' : 'redone'}`, {
        cause: err,
      });
    }
    throw err;
  }
}

/** Reverts the newest edit that is not undone. */
export async function undoArrangementEdit(db: Kysely<Database>, input: ArrangementWrite): Promise<ProjectState> {
  return db.transaction().execute(async (trx) => {
    const { role } = await lockProjectForWrite(trx, input.projectId, input.userId, input.expectedVersion);
    const edit = await trx
      .selectFrom('project_edits')
      .select(['id', 'inverse_ops'])
      .where('project_id', '=', input.projectId)
      .where('undone_at', 'is', null)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!edit) throw new AppError('CONFLICT', 'Nothing to undo');
    await replay(trx, input.projectId, edit.inverse_ops, 'undo');
    await trx.updateTable('project_edits').set({ undone_at: new Date() }).where('id', '=', edit.id).execute();
    await bumpProjectVersion(trx, input.projectId);
    return loadProjectState(trx, input.projectId, role);
  });
}

/** Re-applies the oldest undone edit. */
export async function redoArrangementEdit(db: Kysely<Database>, input: ArrangementWrite): Promise<ProjectState> {
  return db.transaction().execute(async (trx) => {
    const { role } = await lockProjectForWrite(trx, input.projectId, input.userId, input.expectedVersion);
    const edit = await trx
      .selectFrom('project_edits')
      .select(['id', 'forward_ops'])
      .where('project_id', '=', input.projectId)
      .where('undone_at', 'is not', null)
      .orderBy('seq', 'asc')
      .limit(1)
      .executeTakeFirst();
    if (!edit) throw new AppError('CONFLICT', 'Nothing to redo');
    await replay(trx, input.projectId, edit.forward_ops, 'redo');
    await trx.updateTable('project_edits').set({ undone_at: null }).where('id', '=', edit.id).execute();
    await bumpProjectVersion(trx, input.projectId);
    return loadProjectState(trx, input.projectId, role);
  });
}

/**
 * A track is being deleted: every project whose clips use it, or whose history could re-create such a clip, loses
 * those clips and its whole undo/redo history (later entries may refer to the removed clips, so no part of it can be
 * replayed safely), and its version is bumped so editors reload. One transaction per project, each taking the
 * project lock like any writer; the track was already marked deleted, so no new clip can appear meanwhile.
 * Idempotent; returns the projects changed.
 */
export async function detachTrackFromProjects(db: Kysely<Database>, trackId: string): Promise<string[]> {
  const needle = json([{ clip: { trackId } }]);
  const [withClips, withHistory] = await Promise.all([
    db.selectFrom('clips').select('project_id').distinct().where('track_id', '=', trackId).execute(),
    db
      .selectFrom('project_edits')
      .select('project_id')
      .distinct()
      .where((eb) =>
        eb.or([sql<boolean>`forward_ops @> ${needle}::jsonb`, sql<boolean>`inverse_ops @> ${needle}::jsonb`]),
      )
      .execute(),
  ]);
  const projectIds = [...new Set([...withClips, ...withHistory].map((r) => r.project_id))].sort();
  const changed: string[] = [];
  for (const projectId of projectIds) {
    const done = await db.transaction().execute(async (trx) => {
      const project = await trx
        .selectFrom('projects')
        .select('id')
        .where('id', '=', projectId)
        .forUpdate()
        .executeTakeFirst();
      if (!project) return false;
      const clips = await trx
        .deleteFrom('clips')
        .where('project_id', '=', projectId)
        .where('track_id', '=', trackId)
        .executeTakeFirst();
      const history = await trx.deleteFrom('project_edits').where('project_id', '=', projectId).executeTakeFirst();
      if (clips.numDeletedRows === 0n && history.numDeletedRows === 0n) return false;
      await bumpProjectVersion(trx, projectId);
      return true;
    });
    if (done) changed.push(projectId);
  }
  return changed;
}
