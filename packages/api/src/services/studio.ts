/**
 * Projects and their arrangement: create, list, read, change settings, delete, and the arrangement's apply, undo and
 * redo. Authorization (owner, editor, viewer, stranger) and optimistic concurrency are enforced in the project lock
 * every writer takes (@dawg/db `lockProjectForWrite`); a stale `expectedVersion` is a CONFLICT with nothing written.
 */
import {
  applyArrangementEdit,
  deleteProjectRow,
  insertProject,
  listProjectsOf,
  loadProjectState,
  lockProjectForWrite,
  redoArrangementEdit,
  requireProject,
  undoArrangementEdit,
  updateProjectSettings,
  type Database,
} from '@dawg/db';
import type {
  ApplyArrangementInput,
  CreateProjectInput,
  ProjectListItem,
  ProjectState,
  UndoRedoInput,
  UpdateProjectInput,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { ProjectHub } from './project-hub';

export interface StudioDeps {
  db: Kysely<Database>;
  log: FastifyBaseLogger;
  /** The live project channel: every committed write is announced to the project's other members. */
  events?: ProjectHub;
}

/** After commit: tell the project's live subscribers (every instance) to reload. Never fails the write. */
async function announce(deps: StudioDeps, userId: string, state: ProjectState): Promise<ProjectState> {
  await deps.events?.publish({
    type: 'changed',
    projectId: state.project.id,
    version: state.project.version,
    by: userId,
  });
  return state;
}

export function listProjects(deps: StudioDeps, userId: string): Promise<ProjectListItem[]> {
  return listProjectsOf(deps.db, userId);
}

export async function createProject(
  deps: StudioDeps,
  userId: string,
  input: CreateProjectInput,
): Promise<ProjectState> {
  const project = await insertProject(deps.db, userId, input);
  return loadProjectState(deps.db, project.id, 'owner');
}

export async function getProject(deps: StudioDeps, userId: string, projectId: string): Promise<ProjectState> {
  const { role } = await requireProject(deps.db, projectId, userId, 'read');
  return loadProjectState(deps.db, projectId, role);
}

/** Settings (name, tempo, key, metre) are not arrangement edits: they bump the version but are not undo steps. */
export async function updateProject(
  deps: StudioDeps,
  userId: string,
  input: UpdateProjectInput,
): Promise<ProjectState> {
  const state = await deps.db.transaction().execute(async (trx) => {
    const { project, role } = await lockProjectForWrite(trx, input.id, userId, input.expectedVersion);
    await updateProjectSettings(trx, project, input);
    return loadProjectState(trx, input.id, role);
  });
  return announce(deps, userId, state);
}

/** The owner only. Lanes, clips, members and history go with it; its tracks stay in their owners' libraries. */
export async function deleteProject(deps: StudioDeps, userId: string, projectId: string): Promise<{ id: string }> {
  await deps.db.transaction().execute(async (trx) => {
    await lockProjectForWrite(trx, projectId, userId, null, 'owner');
    await deleteProjectRow(trx, projectId);
  });
  deps.log.info({ projectId }, 'project deleted');
  return { id: projectId };
}

export function applyArrangement(
  deps: StudioDeps,
  userId: string,
  input: ApplyArrangementInput,
): Promise<ProjectState> {
  return applyArrangementEdit(deps.db, { ...input, userId }).then((state) => announce(deps, userId, state));
}

export function undoArrangement(deps: StudioDeps, userId: string, input: UndoRedoInput): Promise<ProjectState> {
  return undoArrangementEdit(deps.db, { ...input, userId }).then((state) => announce(deps, userId, state));
}

export function redoArrangement(deps: StudioDeps, userId: string, input: UndoRedoInput): Promise<ProjectState> {
  return redoArrangementEdit(deps.db, { ...input, userId }).then((state) => announce(deps, userId, state));
}
