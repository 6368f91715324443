/**
 * Studio II services: mixdowns (request, read, list, with presigned downloads), the automatic mix (an ordinary,
 * undoable arrangement edit), project members (invite by email as editor or viewer, remove, list) and the live
 * project channel (changes, presence, mixdown progress across api instances).
 *
 * Who may do what: reading (mixdown views, members, the live channel, presence) needs any role; requesting a mixdown
 * or an automatic mix needs write (owner or editor); members are managed by the owner (a member may leave).
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  applyArrangementEdit,
  countProjectMembers,
  deleteProjectMember,
  findMixdown,
  findUserByEmail,
  insertMixdown,
  listMixdownsOfProject,
  listProjectMembers,
  loadArrangement,
  loadProjectState,
  lockProjectForWrite,
  normalizeEmail,
  requireProject,
  updateMixdown,
  upsertProjectMember,
  type Database,
  type MixdownRow,
} from '@dawg/db';
import {
  AppError,
  AUTO_MIX_TARGET_LUFS,
  laneIsAudible,
  LIMITS,
  MIXDOWN_LIST_MAX,
  MIXDOWN_MAX_ACTIVE,
  planAutoMix,
  type ApiEnv,
  type AutoMixInput,
  type MixdownInput,
  type MixdownView,
  type PresenceUser,
  type ProjectEvent,
  type ProjectMember,
  type ProjectState,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { attachmentDisposition } from './library';
import type { ProjectHub } from './project-hub';
import type { StudioIo } from './studio-io-deps';

export interface StudioIoDeps {
  db: Kysely<Database>;
  log: FastifyBaseLogger;
  env: ApiEnv;
  storage: { s3: S3Client; bucket: string };
  io: StudioIo;
}

const URL_TTL_SEC = 60 * 60;

async function presign(deps: StudioIoDeps, key: string | null, disposition?: string): Promise<string | null> {
  if (!key) return null;
  return getSignedUrl(
    deps.storage.s3,
    new GetObjectCommand({
      Bucket: deps.storage.bucket,
      Key: key,
      ...(disposition ? { ResponseContentDisposition: disposition } : {}),
    }),
    { expiresIn: URL_TTL_SEC },
  );
}

export async function toMixdownView(deps: StudioIoDeps, row: MixdownRow): Promise<MixdownView> {
  const done = row.status === 'succeeded';
  const track =
    done && row.track_id
      ? await deps.db
          .selectFrom('tracks')
          .select(['wav_key', 'mp3_key', 'title'])
          .where('id', '=', row.track_id)
          .where('deleted_at', 'is', null)
          .executeTakeFirst()
      : undefined;
  const title = track?.title ?? 'mixdown';
  const [wavUrl, mp3Url, stemsUrl] = await Promise.all([
    presign(deps, track?.wav_key ?? null, attachmentDisposition(title, 'wav')),
    presign(deps, track?.mp3_key ?? null, attachmentDisposition(title, 'mp3')),
    presign(deps, done ? row.stems_key : null, attachmentDisposition(`${title} stems`, 'zip')),
  ]);
  return {
    id: row.id,
    projectId: row.project_id,
    status: row.status,
    progress: row.progress,
    projectVersion: row.project_version,
    stems: row.stems,
    error: row.error,
    trackId: row.track_id,
    durationSec: row.duration_sec,
    wavUrl,
    mp3Url,
    stemsUrl,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at ? row.completed_at.toISOString() : null,
  };
}

// ---- Mixdowns -----------------------------------------------------------------------------------------------------

export async function requestMixdown(deps: StudioIoDeps, userId: string, input: MixdownInput): Promise<MixdownView> {
  const { project } = await requireProject(deps.db, input.projectId, userId, 'write');
  const { lanes, clips } = await loadArrangement(deps.db, input.projectId);
  const anySolo = lanes.some((l) => l.solo);
  const audible = new Set(lanes.filter((l) => input.stems || laneIsAudible(l, anySolo)).map((l) => l.id));
  if (!clips.some((c) => audible.has(c.laneId))) {
    throw new AppError('BAD_REQUEST', 'Nothing to mix: the project has no audible clips', {
      details: [{ path: ['projectId'], message: 'The project has no audible clips' }],
    });
  }
  const active = await deps.db
    .selectFrom('mixdowns')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('owner_id', '=', userId)
    .where('status', 'in', ['queued', 'running'])
    .executeTakeFirstOrThrow();
  if (Number(active.n) >= MIXDOWN_MAX_ACTIVE) {
    throw new AppError('TOO_MANY_REQUESTS', `At most ${MIXDOWN_MAX_ACTIVE} mixdowns at once: wait for one to finish`);
  }
  const row = await insertMixdown(deps.db, {
    projectId: input.projectId,
    ownerId: userId,
    projectVersion: project.version,
    stems: input.stems ?? false,
  });
  try {
    await deps.io.mixdown(input.projectId, row.id);
  } catch (err) {
    deps.log.error({ err, mixdownId: row.id }, 'mixdown job not enqueued');
    await updateMixdown(deps.db, row.id, { status: 'failed', error: 'The render queue is unavailable' });
    throw new AppError('SERVICE_UNAVAILABLE', 'The render queue is unavailable; try again in a moment');
  }
  await deps.io.projects.publish({
    type: 'mixdown',
    projectId: row.project_id,
    mixdownId: row.id,
    status: row.status,
    progress: 0,
  });
  return toMixdownView(deps, row);
}

export async function getMixdown(deps: StudioIoDeps, userId: string, mixdownId: string): Promise<MixdownView> {
  const row = await findMixdown(deps.db, mixdownId);
  if (!row) throw new AppError('NOT_FOUND', 'Mixdown not found');
  try {
    await requireProject(deps.db, row.project_id, userId, 'read');
  } catch {
    throw new AppError('NOT_FOUND', 'Mixdown not found');
  }
  return toMixdownView(deps, row);
}

export async function listMixdowns(deps: StudioIoDeps, userId: string, projectId: string): Promise<MixdownView[]> {
  await requireProject(deps.db, projectId, userId, 'read');
  const rows = await listMixdownsOfProject(deps.db, projectId, MIXDOWN_LIST_MAX);
  return Promise.all(rows.map((row) => toMixdownView(deps, row)));
}

// ---- Automatic mix ------------------------------------------------------------------------------------------------

function requireFeature(enabled: boolean, name: string): void {
  if (!enabled) throw new AppError('FORBIDDEN', `${name} is turned off on this server`);
}

export async function autoMix(deps: StudioIoDeps, userId: string, input: AutoMixInput) {
  requireFeature(deps.env.FEATURE_AI_MIXING, 'AI mixing');
  const { role } = await requireProject(deps.db, input.projectId, userId, 'write');
  const { lanes, clips } = await loadArrangement(deps.db, input.projectId);
  const trackIds = [...new Set(clips.map((c) => c.trackId))];
  const loudness = new Map<string, number | null>();
  if (trackIds.length > 0) {
    const rows = await deps.db
      .selectFrom('tracks')
      .select(['id', 'loudness_lufs'])
      .where('id', 'in', trackIds)
      .execute();
    for (const r of rows) loudness.set(r.id, r.loudness_lufs);
  }
  const targetLufs = input.targetLufs ?? AUTO_MIX_TARGET_LUFS;
  const plan = planAutoMix(lanes, clips, loudness, targetLufs);
  let state: ProjectState;
  if (plan.ops.length === 0) {
    // Nothing to change: still check the version, so a stale caller learns it.
    state = await deps.db.transaction().execute(async (trx) => {
      await lockProjectForWrite(trx, input.projectId, userId, input.expectedVersion);
      return loadProjectState(trx, input.projectId, role);
    });
  } else {
    state = await applyArrangementEdit(deps.db, {
      projectId: input.projectId,
      userId,
      expectedVersion: input.expectedVersion,
      ops: plan.ops,
    });
    await publishChanged(deps.io.projects, input.projectId, state.project.version, userId);
  }
  return { state, lanes: plan.lanes, targetLufs, changed: plan.ops.length > 0 };
}

// ---- Members ------------------------------------------------------------------------------------------------------

export async function publishChanged(hub: ProjectHub, projectId: string, version: number, by: string | null) {
  await hub.publish({ type: 'changed', projectId, version, by });
}

export async function listMembers(deps: StudioIoDeps, userId: string, projectId: string): Promise<ProjectMember[]> {
  await requireProject(deps.db, projectId, userId, 'read');
  return listProjectMembers(deps.db, projectId);
}

export async function inviteMember(
  deps: StudioIoDeps,
  userId: string,
  input: { projectId: string; email: string; role: 'editor' | 'viewer' },
): Promise<ProjectMember[]> {
  requireFeature(deps.env.FEATURE_COLLABORATION, 'Collaboration');
  const { project } = await requireProject(deps.db, input.projectId, userId, 'owner');
  const invitee = await findUserByEmail(deps.db, normalizeEmail(input.email));
  if (!invitee || invitee.disabled_at) {
    throw new AppError('NOT_FOUND', 'No account uses this email', {
      details: [{ path: ['email'], message: 'No account uses this email' }],
    });
  }
  if (invitee.id === project.owner_id) {
    throw new AppError('BAD_REQUEST', 'The owner is already in the project', {
      details: [{ path: ['email'], message: 'This is the owner of the project' }],
    });
  }
  const existing = await deps.db
    .selectFrom('project_members')
    .select('user_id')
    .where('project_id', '=', input.projectId)
    .where('user_id', '=', invitee.id)
    .executeTakeFirst();
  if (!existing && (await countProjectMembers(deps.db, input.projectId)) >= LIMITS.MEMBERS_PER_PROJECT) {
    throw new AppError('BAD_REQUEST', `A project has at most ${LIMITS.MEMBERS_PER_PROJECT} members`, {
      details: [{ path: ['email'], message: `A project has at most ${LIMITS.MEMBERS_PER_PROJECT} members` }],
    });
  }
  await upsertProjectMember(deps.db, {
    projectId: input.projectId,
    userId: invitee.id,
    role: input.role,
    invitedBy: userId,
  });
  deps.log.info({ projectId: input.projectId, member: invitee.id, role: input.role }, 'project member invited');
  await publishChanged(deps.io.projects, input.projectId, project.version, userId);
  return listProjectMembers(deps.db, input.projectId);
}

/** The owner removes anyone; a member may remove themselves (leave). */
export async function removeMember(
  deps: StudioIoDeps,
  userId: string,
  input: { projectId: string; userId: string },
): Promise<ProjectMember[]> {
  const { project } = await requireProject(
    deps.db,
    input.projectId,
    userId,
    input.userId === userId ? 'read' : 'owner',
  );
  if (input.userId === project.owner_id) {
    throw new AppError('BAD_REQUEST', 'The owner cannot leave their own project', {
      details: [{ path: ['userId'], message: 'This is the owner of the project' }],
    });
  }
  if (!(await deleteProjectMember(deps.db, input.projectId, input.userId))) {
    throw new AppError('NOT_FOUND', 'Not a member of this project', {
      details: [{ path: ['userId'], message: 'Not a member of this project' }],
    });
  }
  await deps.io.projects.leave(input.projectId, input.userId);
  await publishChanged(deps.io.projects, input.projectId, project.version, userId);
  return listProjectMembers(deps.db, input.projectId);
}

// ---- Presence and the live channel --------------------------------------------------------------------------------

export async function heartbeat(
  deps: StudioIoDeps,
  user: { id: string; name: string | null; email: string },
  input: { projectId: string; playheadSec: number },
): Promise<PresenceUser[]> {
  requireFeature(deps.env.FEATURE_COLLABORATION, 'Collaboration');
  await requireProject(deps.db, input.projectId, user.id, 'read');
  return deps.io.projects.heartbeat(input.projectId, { id: user.id, name: user.name ?? user.email }, input.playheadSec);
}

/** In-process buffer between the hub's callback and the generator. */
class EventQueue {
  private items: ProjectEvent[] = [];
  private waiter: (() => void) | undefined;

  push(event: ProjectEvent): void {
    this.items.push(event);
    this.waiter?.();
  }

  async next(signal: AbortSignal): Promise<ProjectEvent | undefined> {
    for (;;) {
      const item = this.items.shift();
      if (item) return item;
      if (signal.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.waiter = undefined;
          resolve();
        };
        this.waiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}

/**
 * The project's live events for one client: first the presence list as it is now, then every event published by any
 * instance (changes by others, presence, mixdown progress). A member removed meanwhile is let go at the next event.
 */
export async function* liveProject(
  deps: StudioIoDeps,
  user: { id: string },
  projectId: string,
  signal: AbortSignal,
): AsyncGenerator<ProjectEvent> {
  requireFeature(deps.env.FEATURE_COLLABORATION, 'Collaboration');
  await requireProject(deps.db, projectId, user.id, 'read');
  const queue = new EventQueue();
  const unsubscribe = await deps.io.projects.subscribe(projectId, (event) => queue.push(event));
  try {
    yield { type: 'presence', projectId, users: await deps.io.projects.presence(projectId) };
    for (;;) {
      const event = await queue.next(signal);
      if (!event) return;
      if (event.type === 'changed') await requireProject(deps.db, projectId, user.id, 'read');
      yield event;
    }
  } finally {
    unsubscribe();
    void deps.io.projects.leave(projectId, user.id);
  }
}
