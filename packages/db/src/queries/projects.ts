/**
 * Project queries: who may do what to a project (its owner, or a member as editor or viewer; anyone else is told
 * it does not exist), the optimistic-concurrency lock every writer takes (`lockProjectForWrite`: row lock, role, then
 * the version the caller's edit was based on), and the ProjectState view (project, lanes, clips, undo/redo flags).
 */
import {
  AppError,
  STUDIO_LIMITS,
  type Clip,
  type Lane,
  type Project,
  type ProjectListItem,
  type ProjectRole,
  type ProjectState,
} from '@dawg/shared';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { ClipsTable, Database, LanesTable, ProjectsTable } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type ProjectRow = Selectable<ProjectsTable>;

/** What a write needs: `write` = owner or editor, `owner` = the owner only. */
export type ProjectNeed = 'read' | 'write' | 'owner';

export function toProjectView(row: ProjectRow): Project {
  return {
    id: row.id,
    name: row.name,
    bpm: row.bpm,
    key: row.key,
    timeSignature: row.time_signature,
    version: row.version,
    updatedAt: row.updated_at.toISOString(),
  };
}

export function toLaneView(row: Selectable<LanesTable>): Lane {
  return {
    id: row.id,
    name: row.name,
    color: row.color,
    gainDb: row.gain_db,
    pan: row.pan,
    mute: row.mute,
    solo: row.solo,
    position: row.position,
  };
}

export function toClipView(row: Selectable<ClipsTable>): Clip {
  return {
    id: row.id,
    laneId: row.lane_id,
    trackId: row.track_id,
    startSec: row.start_sec,
    offsetSec: row.offset_sec,
    lengthSec: row.length_sec,
    fadeInSec: row.fade_in,
    fadeOutSec: row.fade_out,
  };
}

async function memberRole(db: DbOrTx, projectId: string, userId: string): Promise<ProjectRole | null> {
  const member = await db
    .selectFrom('project_members')
    .select('role')
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return member?.role ?? null;
}

/**
 * Refusals in one place. A stranger gets NOT_FOUND (a project's existence is not revealed); a member lacking the
 * right gets FORBIDDEN.
 */
function authorize(role: ProjectRole | null, need: ProjectNeed): ProjectRole {
  if (!role) throw new AppError('NOT_FOUND', 'Project not found');
  if (need === 'write' && role === 'viewer') throw new AppError('FORBIDDEN', 'Viewers cannot edit this project');
  if (need === 'owner' && role !== 'owner') throw new AppError('FORBIDDEN', 'Only the owner can do this');
  return role;
}

/** The project and the caller's role, or NOT_FOUND / FORBIDDEN. No lock: for reads. */
export async function requireProject(
  db: DbOrTx,
  projectId: string,
  userId: string,
  need: ProjectNeed = 'read',
): Promise<{ project: ProjectRow; role: ProjectRole }> {
  const project = await db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirst();
  const role = !project ? null : project.owner_id === userId ? 'owner' : await memberRole(db, projectId, userId);
  return { project: project!, role: authorize(role, need) };
}

/**
 * Inside a transaction: locks the project row (every writer of a project's arrangement or settings takes this lock
 * first, so they run one at a time), checks the caller's role, then the version. A stale `expectedVersion` is a
 * CONFLICT carrying the current version; nothing has been written.
 */
export async function lockProjectForWrite(
  trx: Transaction<Database>,
  projectId: string,
  userId: string,
  expectedVersion: number | null,
  need: ProjectNeed = 'write',
): Promise<{ project: ProjectRow; role: ProjectRole }> {
  const project = await trx
    .selectFrom('projects')
    .selectAll()
    .where('id', '=', projectId)
    .forUpdate()
    .executeTakeFirst();
  const role = !project ? null : project.owner_id === userId ? 'owner' : await memberRole(trx, projectId, userId);
  const allowed = authorize(role, need);
  if (expectedVersion !== null && project!.version !== expectedVersion) {
    throw new AppError(
      'CONFLICT',
      `The project was changed by someone else (now version ${project!.version}, your edit is based on ` +
        `${expectedVersion}); reload it and try again`,
      { extra: { currentVersion: project!.version } },
    );
  }
  return { project: project!, role: allowed };
}

/** version + 1 (and updated_at, by trigger); returns the new version. */
export async function bumpProjectVersion(trx: DbOrTx, projectId: string): Promise<number> {
  const row = await trx
    .updateTable('projects')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('id', '=', projectId)
    .returning('version')
    .executeTakeFirstOrThrow();
  return row.version;
}

export async function insertProject(
  db: DbOrTx,
  ownerId: string,
  input: { name: string; bpm?: number | undefined; key?: string | undefined; timeSignature?: string | undefined },
): Promise<ProjectRow> {
  return db
    .insertInto('projects')
    .values({
      owner_id: ownerId,
      name: input.name,
      ...(input.bpm !== undefined ? { bpm: input.bpm } : {}),
      key: input.key ?? null,
      ...(input.timeSignature !== undefined ? { time_signature: input.timeSignature } : {}),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ProjectSettingsPatch {
  name?: string | undefined;
  bpm?: number | undefined;
  key?: string | null | undefined;
  timeSignature?: string | undefined;
}

/** Writes the given settings and bumps the version; false when the patch changes nothing (no write, no bump). */
export async function updateProjectSettings(
  trx: DbOrTx,
  project: ProjectRow,
  patch: ProjectSettingsPatch,
): Promise<boolean> {
  const set: { name?: string; bpm?: number; key?: string | null; time_signature?: string } = {};
  if (patch.name !== undefined && patch.name !== project.name) set.name = patch.name;
  if (patch.bpm !== undefined && patch.bpm !== project.bpm) set.bpm = patch.bpm;
  if (patch.key !== undefined && patch.key !== project.key) set.key = patch.key;
  if (patch.timeSignature !== undefined && patch.timeSignature !== project.time_signature) {
    set.time_signature = patch.timeSignature;
  }
  if (Object.keys(set).length === 0) return false;
  await trx
    .updateTable('projects')
    .set((eb) => ({ ...set, version: eb('version', '+', 1) }))
    .where('id', '=', project.id)
    .execute();
  return true;
}

export async function deleteProjectRow(db: DbOrTx, projectId: string): Promise<boolean> {
  const result = await db.deleteFrom('projects').where('id', '=', projectId).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The projects a user owns or is a member of, most recently changed first. */
export async function listProjectsOf(db: DbOrTx, userId: string): Promise<ProjectListItem[]> {
  const rows = await db
    .selectFrom('projects as p')
    .leftJoin('project_members as m', (join) => join.onRef('m.project_id', '=', 'p.id').on('m.user_id', '=', userId))
    .selectAll('p')
    .select('m.role as member_role')
    .where((eb) => eb.or([eb('p.owner_id', '=', userId), eb('m.user_id', 'is not', null)]))
    .orderBy('p.updated_at', 'desc')
    .orderBy('p.id')
    .limit(STUDIO_LIMITS.PROJECTS_LIST_MAX)
    .execute();
  return rows.map(({ member_role, ...row }) => ({
    ...toProjectView(row),
    role: row.owner_id === userId ? 'owner' : (member_role ?? 'viewer'),
  }));
}

/** The whole state the studio screen shows: lanes by position, clips by start time then id. */
export async function loadProjectState(db: DbOrTx, projectId: string, role: ProjectRole): Promise<ProjectState> {
  const [project, lanes, clips, history] = await Promise.all([
    db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirstOrThrow(),
    db.selectFrom('lanes').selectAll().where('project_id', '=', projectId).orderBy('position').orderBy('id').execute(),
    db.selectFrom('clips').selectAll().where('project_id', '=', projectId).orderBy('start_sec').orderBy('id').execute(),
    db
      .selectFrom('project_edits')
      .select([
        sql<boolean>`coalesce(bool_or(undone_at is null), false)`.as('can_undo'),
        sql<boolean>`coalesce(bool_or(undone_at is not null), false)`.as('can_redo'),
      ])
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow(),
  ]);
  return {
    project: toProjectView(project),
    lanes: lanes.map(toLaneView),
    clips: clips.map(toClipView),
    canUndo: history.can_undo,
    canRedo: history.can_redo,
    role,
  };
}
