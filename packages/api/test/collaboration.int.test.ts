/**
 * Collaboration across two api instances sharing Postgres and Redis: the owner invites registered users by email as
 * editor and viewer; a viewer's every mutation of the project is refused with nothing written; an editor's change
 * made on instance A reaches another member's `project.live` subscription on instance B (Redis pub/sub), and so does
 * presence (who is here, their playhead). Only the owner invites; unknown emails are named; the feature flag turns
 * invitations and the live channel off.
 */
import type { Database } from '@dawg/db';
import type { ProjectEvent } from '@dawg/shared';
import { createTestDatabase, createUser, uniqueRedisPrefix, waitFor, type TestDatabase } from '@dawg/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { codeOf, httpClient, wsClient } from './helpers/generation';
import { insertReadyTrack } from './helpers/studio';

let database: TestDatabase;
let db: Kysely<Database>;
let apiA: TestApi;
let apiB: TestApi;
const prefix = uniqueRedisPrefix('collab');

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  const overrides = { WHITELISTED_IPS: '127.0.0.1' };
  apiA = await startApi({ database, label: 'collab-a', prefix, overrides });
  apiB = await startApi({ database, label: 'collab-b', prefix, overrides });
});

afterAll(async () => {
  await apiA?.close();
  await apiB?.close();
  await database?.drop();
});

async function person(api: TestApi) {
  const { user, token } = await createUser(db);
  return { user, token, client: httpClient(api.base, token) };
}

/** Row counts and versions that a refused call must leave as they were. */
async function snapshot(projectId: string) {
  const [project, lanes, clips, members, mixdowns, edits] = await Promise.all([
    db.selectFrom('projects').select(['version', 'name', 'bpm']).where('id', '=', projectId).executeTakeFirst(),
    db.selectFrom('lanes').selectAll().where('project_id', '=', projectId).orderBy('id').execute(),
    db.selectFrom('clips').selectAll().where('project_id', '=', projectId).orderBy('id').execute(),
    db.selectFrom('project_members').selectAll().where('project_id', '=', projectId).orderBy('user_id').execute(),
    db.selectFrom('mixdowns').select('id').where('project_id', '=', projectId).execute(),
    db.selectFrom('project_edits').select(['id', 'undone_at']).where('project_id', '=', projectId).execute(),
  ]);
  return JSON.stringify({ project, lanes, clips, members, mixdowns, edits });
}

describe('collaboration', () => {
  it('viewers read only; an editor’s change and presence reach a member on another instance', async () => {
    const owner = await person(apiA);
    const editor = await person(apiA);
    const viewer = await person(apiB);
    const created = await owner.client.project.create.mutate({ name: 'Shared' });
    const projectId = created.project.id;
    const track = await insertReadyTrack(db, owner.user.id, { durationSec: 20 });
    const laneId = crypto.randomUUID();
    const clipId = crypto.randomUUID();
    let state = await owner.client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: 1,
      ops: [
        { type: 'addLane', lane: { id: laneId, name: 'Drums' } },
        { type: 'addClip', clip: { id: clipId, laneId, trackId: track.id, startSec: 0 } },
      ],
    });

    const members = await owner.client.project.invite.mutate({
      projectId,
      email: editor.user.email.toUpperCase(),
      role: 'editor',
    });
    expect(members.map((m) => m.role)).toEqual(['owner', 'editor']);
    await owner.client.project.invite.mutate({ projectId, email: viewer.user.email, role: 'viewer' });
    expect((await viewer.client.project.get.query({ id: projectId })).role).toBe('viewer');
    expect((await viewer.client.project.members.query({ projectId })).map((m) => m.role).sort()).toEqual([
      'editor',
      'owner',
      'viewer',
    ]);

    // Every mutation of the project, by the viewer: refused, nothing written.
    const v = viewer.client;
    const version = state.project.version;
    const before = await snapshot(projectId);
    const attempts: [string, () => Promise<unknown>][] = [
      ['project.update', () => v.project.update.mutate({ id: projectId, expectedVersion: version, name: 'Mine now' })],
      ['project.delete', () => v.project.delete.mutate({ id: projectId })],
      [
        'arrangement.applyOps',
        () =>
          v.arrangement.applyOps.mutate({
            projectId,
            expectedVersion: version,
            ops: [{ type: 'updateLane', laneId, gainDb: -3 }],
          }),
      ],
      ['arrangement.undo', () => v.arrangement.undo.mutate({ projectId, expectedVersion: version })],
      ['arrangement.redo', () => v.arrangement.redo.mutate({ projectId, expectedVersion: version })],
      ['project.mixdown', () => v.project.mixdown.mutate({ projectId })],
      ['project.autoMix', () => v.project.autoMix.mutate({ projectId, expectedVersion: version })],
      ['project.invite', () => v.project.invite.mutate({ projectId, email: owner.user.email, role: 'editor' })],
      ['project.removeMember', () => v.project.removeMember.mutate({ projectId, userId: editor.user.id })],
      [
        'track.createUpload',
        () => v.track.createUpload.mutate({ projectId, fileName: 'x.wav', contentType: 'audio/wav', sizeBytes: 10 }),
      ],
    ];
    for (const [name, call] of attempts) expect(await codeOf(call()), name).toBe('FORBIDDEN');
    expect(await snapshot(projectId)).toBe(before);

    // The viewer listens on instance B; the editor edits on instance A.
    const live = wsClient(apiB.wsBase, viewer.token);
    const events: ProjectEvent[] = [];
    const sub = live.client.project.live.subscribe({ projectId }, { onData: (e) => events.push(e) });
    await waitFor(() => events.some((e) => e.type === 'presence'), { description: 'subscription open' });

    state = await editor.client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: version,
      ops: [{ type: 'updateClip', clipId, startSec: 4 }],
    });
    const changed = await waitFor(
      () => events.find((e) => e.type === 'changed' && e.version === state.project.version),
      { description: 'the editor’s change on the other instance' },
    );
    expect(changed).toMatchObject({ type: 'changed', projectId, by: editor.user.id });
    // The viewer reloads and sees it.
    const seen = await viewer.client.project.get.query({ id: projectId });
    expect(seen.clips[0]!.startSec).toBe(4);

    // Presence: the editor is here with their playhead.
    await editor.client.project.presence.mutate({ projectId, playheadSec: 12.5 });
    const presence = await waitFor(
      () =>
        events.find(
          (e) => e.type === 'presence' && e.users.some((u) => u.userId === editor.user.id && u.playheadSec === 12.5),
        ),
      { description: 'presence on the other instance' },
    );
    expect(presence.type).toBe('presence');

    // Settings and undo by the owner also reach it.
    const renamed = await owner.client.project.update.mutate({
      id: projectId,
      expectedVersion: state.project.version,
      bpm: 90,
    });
    await waitFor(() => events.some((e) => e.type === 'changed' && e.version === renamed.project.version), {
      description: 'settings change',
    });
    sub.unsubscribe();
    await live.close();
  });

  it('only the owner invites, and only registered users; removed members lose access', async () => {
    const owner = await person(apiA);
    const editor = await person(apiA);
    const outsider = await person(apiA);
    const projectId = (await owner.client.project.create.mutate({ name: 'Invites' })).project.id;
    await owner.client.project.invite.mutate({ projectId, email: editor.user.email, role: 'editor' });
    expect(
      await codeOf(editor.client.project.invite.mutate({ projectId, email: outsider.user.email, role: 'viewer' })),
    ).toBe('FORBIDDEN');
    expect(
      await codeOf(owner.client.project.invite.mutate({ projectId, email: 'nobody-here@example.com', role: 'viewer' })),
    ).toBe('NOT_FOUND');
    expect(
      await codeOf(owner.client.project.invite.mutate({ projectId, email: owner.user.email, role: 'viewer' })),
    ).toBe('BAD_REQUEST');
    // Changing a role is inviting again.
    await owner.client.project.invite.mutate({ projectId, email: editor.user.email, role: 'viewer' });
    expect((await editor.client.project.get.query({ id: projectId })).role).toBe('viewer');
    await owner.client.project.removeMember.mutate({ projectId, userId: editor.user.id });
    expect(await codeOf(editor.client.project.get.query({ id: projectId }))).toBe('NOT_FOUND');
  });

  it('FEATURE_COLLABORATION=false turns invitations and the live channel off', async () => {
    const off = await startApi({
      database,
      label: 'collab-off',
      overrides: { WHITELISTED_IPS: '127.0.0.1', FEATURE_COLLABORATION: 'false' },
    });
    try {
      const owner = await person(off);
      const other = await person(off);
      const projectId = (await owner.client.project.create.mutate({ name: 'Solo' })).project.id;
      expect(
        await codeOf(owner.client.project.invite.mutate({ projectId, email: other.user.email, role: 'viewer' })),
      ).toBe('FORBIDDEN');
      expect(await codeOf(owner.client.project.presence.mutate({ projectId, playheadSec: 0 }))).toBe('FORBIDDEN');
    } finally {
      await off.close();
    }
  });
});
