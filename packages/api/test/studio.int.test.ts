/**
 * The studio over real HTTP (tRPC and REST) on real Postgres, Redis and an S3-protocol server: projects and their
 * optimistic concurrency (a stale version is a CONFLICT and nothing is overwritten, also under truly concurrent
 * writers), undo/redo restoring exact ProjectState snapshots, field-level validation of arrangement operations,
 * who may read and write projects and tracks (owner, editor, viewer, stranger), and the track library (filters,
 * search, paging, rename, presigned playback and download URLs, REST `GET /api/tracks`, soft delete).
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Database } from '@dawg/db';
import { deleteTrackJobId, QUEUE_NAMES, type ArrangementOp, type ProjectState } from '@dawg/shared';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  DEFAULT_QUEUE_DB,
  startS3Server,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { TRPCClientError } from '@trpc/client';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, rest, startApi, type TestApi } from './helpers/api';
import { codeOf, httpClient } from './helpers/generation';
import { insertReadyTrack } from './helpers/studio';

let database: TestDatabase;
let db: Kysely<Database>;
let s3server: S3ServerHandle;
let s3: S3Client;
let api: TestApi;

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  db = database.db;
  s3 = createS3Client(s3server);
  api = await startApi({ database, label: 'studio', s3: s3server, overrides: { WHITELISTED_IPS: '127.0.0.1' } });
});

afterAll(async () => {
  await api?.close();
  s3?.destroy();
  await s3server?.stop();
  await database?.drop();
});

async function person() {
  const { user, token } = await createUser(db);
  return { user, token, client: httpClient(api.base, token) };
}
type Person = Awaited<ReturnType<typeof person>>;

async function share(projectId: string, member: Person, role: 'editor' | 'viewer') {
  await db.insertInto('project_members').values({ project_id: projectId, user_id: member.user.id, role }).execute();
}

/** What undo must restore: everything but the bookkeeping that moves forward with each write. */
function snapshot(state: ProjectState) {
  const { version: _v, updatedAt: _u, ...project } = state.project;
  return { project, lanes: state.lanes, clips: state.clips };
}

function trpcError(err: unknown) {
  expect(err).toBeInstanceOf(TRPCClientError);
  return (err as TRPCClientError<any>).data as { code: string; details?: { path: unknown[] }[]; extra?: any };
}

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (err) {
    return trpcError(err);
  }
  throw new Error('expected the call to fail');
}

async function editCount(projectId: string): Promise<number> {
  const rows = await db.selectFrom('project_edits').select('id').where('project_id', '=', projectId).execute();
  return rows.length;
}

describe('projects', () => {
  it('create, list, get and update settings; a stale update is a CONFLICT that writes nothing', async () => {
    const owner = await person();
    const created = await owner.client.project.create.mutate({ name: '  Night Drive ', bpm: 92, key: 'F# minor' });
    expect(created).toMatchObject({
      project: { name: 'Night Drive', bpm: 92, key: 'F# minor', timeSignature: '4/4', version: 1 },
      lanes: [],
      clips: [],
      canUndo: false,
      canRedo: false,
      role: 'owner',
    });
    const id = created.project.id;
    expect((await owner.client.project.list.query()).map((p) => [p.id, p.role])).toEqual([[id, 'owner']]);

    const updated = await owner.client.project.update.mutate({
      id,
      expectedVersion: 1,
      bpm: 100,
      timeSignature: '6/8',
    });
    expect(updated.project).toMatchObject({ bpm: 100, timeSignature: '6/8', version: 2 });

    const stale = await rejection(owner.client.project.update.mutate({ id, expectedVersion: 1, name: 'Overwrite' }));
    expect(stale.code).toBe('CONFLICT');
    expect(stale.extra).toEqual({ currentVersion: 2 });
    const after = await owner.client.project.get.query({ id });
    expect(after.project).toMatchObject({ name: 'Night Drive', bpm: 100, version: 2 });

    // A patch that changes nothing is not a new version; clearing the key is a change.
    expect((await owner.client.project.update.mutate({ id, expectedVersion: 2, bpm: 100 })).project.version).toBe(2);
    expect((await owner.client.project.update.mutate({ id, expectedVersion: 2, key: null })).project).toMatchObject({
      key: null,
      version: 3,
    });

    await owner.client.project.delete.mutate({ id });
    expect(await codeOf(owner.client.project.get.query({ id }))).toBe('NOT_FOUND');
  });

  it('lets exactly one of several concurrent writers at the same version through', async () => {
    const owner = await person();
    const editor = await person();
    const { project } = await owner.client.project.create.mutate({ name: 'Race' });
    await share(project.id, editor, 'editor');
    const attempts = Array.from({ length: 6 }, (_, i) =>
      (i % 2 === 0 ? owner : editor).client.arrangement.applyOps.mutate({
        projectId: project.id,
        expectedVersion: 1,
        ops: [{ type: 'addLane', lane: { name: `Writer ${i}` } }],
      }),
    );
    const results = await Promise.allSettled(attempts);
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(trpcError(r.reason).code).toBe('CONFLICT');
    const state = await owner.client.project.get.query({ id: project.id });
    expect(state.project.version).toBe(2);
    expect(state.lanes).toHaveLength(1);
    expect(await editCount(project.id)).toBe(1);
  });
});

describe('arrangement', () => {
  let owner: Person;
  let tA: string;
  let tB: string;

  beforeAll(async () => {
    owner = await person();
    tA = (await insertReadyTrack(db, owner.user.id, { durationSec: 30 })).id;
    tB = (await insertReadyTrack(db, owner.user.id, { durationSec: 12.5 })).id;
  });

  it('undo and redo restore exact snapshots through a sequence of edits, and a new edit drops the redo tail', async () => {
    let state = await owner.client.project.create.mutate({ name: 'Undo me', bpm: 120 });
    const projectId = state.project.id;
    const [drums, bass, keys] = [randomUUID(), randomUUID(), randomUUID()];
    const [c1, c2, c3] = [randomUUID(), randomUUID(), randomUUID()];
    const edits: ArrangementOp[][] = [
      [
        { type: 'addLane', lane: { id: drums, name: 'Drums' } },
        { type: 'addLane', lane: { id: bass, name: 'Bass', color: '#112233', gainDb: -6, pan: -0.5 } },
      ],
      [
        { type: 'addClip', clip: { id: c1, laneId: drums, trackId: tA, startSec: 0, lengthSec: 8, fadeInSec: 0.25 } },
        { type: 'addClip', clip: { id: c2, laneId: bass, trackId: tB, startSec: 4, offsetSec: 2.5 } },
      ],
      [{ type: 'addLane', lane: { id: keys, name: 'Keys', position: 0, mute: true } }],
      [
        { type: 'updateClip', clipId: c1, laneId: keys, startSec: 16, offsetSec: 1.5, fadeOutSec: 1 },
        { type: 'updateLane', laneId: bass, solo: true, gainDb: 3, name: 'Sub bass' },
      ],
      [{ type: 'moveLane', laneId: keys, position: 2 }],
      [{ type: 'addClip', clip: { id: c3, laneId: bass, trackId: tA, startSec: 32.125, offsetSec: 10 } }],
      [{ type: 'removeClip', clipId: c2 }],
      // Removing a lane takes its clips along; its undo must bring back the lane at its place and every clip.
      [{ type: 'removeLane', laneId: bass }],
    ];
    const snapshots = [snapshot(state)];
    for (const ops of edits) {
      state = await owner.client.arrangement.applyOps.mutate({
        projectId,
        expectedVersion: state.project.version,
        ops,
      });
      snapshots.push(snapshot(state));
    }
    expect(state.canUndo).toBe(true);
    expect(state.canRedo).toBe(false);
    expect(snapshots[7]!.lanes.map((l) => l.name)).toEqual(['Drums', 'Sub bass', 'Keys']);
    expect(snapshots[7]!.clips.map((c) => c.id)).toEqual([c1, c3]);
    expect(snapshots[8]!.lanes.map((l) => [l.name, l.position])).toEqual([
      ['Drums', 0],
      ['Keys', 1],
    ]);

    for (let i = edits.length - 1; i >= 0; i--) {
      state = await owner.client.arrangement.undo.mutate({ projectId, expectedVersion: state.project.version });
      expect(snapshot(state), `after undoing edit ${i}`).toEqual(snapshots[i]);
    }
    expect(state.canUndo).toBe(false);
    expect(state.canRedo).toBe(true);
    expect(
      (await rejection(owner.client.arrangement.undo.mutate({ projectId, expectedVersion: state.project.version })))
        .code,
    ).toBe('CONFLICT');

    for (let i = 1; i <= edits.length; i++) {
      state = await owner.client.arrangement.redo.mutate({ projectId, expectedVersion: state.project.version });
      expect(snapshot(state), `after redoing edit ${i - 1}`).toEqual(snapshots[i]);
    }
    // The rows are the same rows: redo re-created the same ids.
    expect(state.lanes.map((l) => l.id)).toEqual([drums, keys]);
    expect(state.clips.map((c) => c.id)).toEqual([c1]);

    state = await owner.client.arrangement.undo.mutate({ projectId, expectedVersion: state.project.version });
    state = await owner.client.arrangement.undo.mutate({ projectId, expectedVersion: state.project.version });
    expect(snapshot(state)).toEqual(snapshots[6]);
    state = await owner.client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: state.project.version,
      ops: [{ type: 'updateLane', laneId: drums, pan: 1 }],
    });
    expect(state.canRedo).toBe(false);
    expect(
      (await rejection(owner.client.arrangement.redo.mutate({ projectId, expectedVersion: state.project.version })))
        .code,
    ).toBe('CONFLICT');
    state = await owner.client.arrangement.undo.mutate({ projectId, expectedVersion: state.project.version });
    expect(snapshot(state)).toEqual(snapshots[6]);
    expect(await editCount(projectId)).toBe(7);
  });

  it('a stale apply, undo or redo is a CONFLICT and nothing is overwritten', async () => {
    const editor = await person();
    const created = await owner.client.project.create.mutate({ name: 'Two editors' });
    const projectId = created.project.id;
    await share(projectId, editor, 'editor');
    const mine = await owner.client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: 1,
      ops: [{ type: 'addLane', lane: { name: 'Owner lane' } }],
    });
    // The editor still has version 1.
    const theirs = await rejection(
      editor.client.arrangement.applyOps.mutate({
        projectId,
        expectedVersion: 1,
        ops: [{ type: 'removeLane', laneId: mine.lanes[0]!.id }],
      }),
    );
    expect(theirs).toMatchObject({ code: 'CONFLICT', extra: { currentVersion: 2 } });
    expect((await rejection(editor.client.arrangement.undo.mutate({ projectId, expectedVersion: 1 }))).code).toBe(
      'CONFLICT',
    );
    expect(
      (await rejection(editor.client.project.update.mutate({ id: projectId, expectedVersion: 1, bpm: 60 }))).code,
    ).toBe('CONFLICT');
    const now = await editor.client.project.get.query({ id: projectId });
    expect(snapshot(now)).toEqual(snapshot(mine));
    expect(now.project.version).toBe(2);
    expect(await editCount(projectId)).toBe(1);

    // With the current version the editor's edit goes through; undo is the project's, whoever made the edit.
    const removed = await editor.client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: 2,
      ops: [{ type: 'removeLane', laneId: mine.lanes[0]!.id }],
    });
    expect(removed.lanes).toEqual([]);
    const undone = await owner.client.arrangement.undo.mutate({ projectId, expectedVersion: 3 });
    expect(snapshot(undone)).toEqual(snapshot(mine));
    const redoStale = await rejection(owner.client.arrangement.redo.mutate({ projectId, expectedVersion: 3 }));
    expect(redoStale.code).toBe('CONFLICT');
  });

  it('refuses bad operations with 400 naming the field, writing nothing', async () => {
    const stranger = await person();
    const foreignTrack = (await insertReadyTrack(db, stranger.user.id)).id;
    const pending = await insertReadyTrack(db, owner.user.id);
    await db.updateTable('tracks').set({ status: 'processing' }).where('id', '=', pending.id).execute();
    const other = await owner.client.project.create.mutate({ name: 'Other' });
    const otherLane = (
      await owner.client.arrangement.applyOps.mutate({
        projectId: other.project.id,
        expectedVersion: 1,
        ops: [{ type: 'addLane', lane: { name: 'Elsewhere' } }],
      })
    ).lanes[0]!.id;
    const { project } = await owner.client.project.create.mutate({ name: 'Strict' });
    const lane = randomUUID();
    const base: ArrangementOp = { type: 'addLane', lane: { id: lane, name: 'L' } };
    const cases: [string, ArrangementOp[], (string | number)[]][] = [
      [
        'offset + length past the end',
        [base, { type: 'addClip', clip: { laneId: lane, trackId: tB, startSec: 0, offsetSec: 5, lengthSec: 8 } }],
        ['ops', 1, 'clip', 'lengthSec'],
      ],
      [
        "another user's track",
        [base, { type: 'addClip', clip: { laneId: lane, trackId: foreignTrack, startSec: 0 } }],
        ['ops', 1, 'clip', 'trackId'],
      ],
      [
        'a track that is not ready',
        [base, { type: 'addClip', clip: { laneId: lane, trackId: pending.id, startSec: 0 } }],
        ['ops', 1, 'clip', 'trackId'],
      ],
      [
        "another project's lane",
        [{ type: 'addClip', clip: { laneId: otherLane, trackId: tA, startSec: 0 } }],
        ['ops', 0, 'clip', 'laneId'],
      ],
      [
        "taking another project's lane id",
        [{ type: 'addLane', lane: { id: otherLane, name: 'Thief' } }],
        ['ops', 0, 'lane', 'id'],
      ],
      [
        'fades longer than the clip',
        [
          base,
          {
            type: 'addClip',
            clip: { laneId: lane, trackId: tA, startSec: 0, lengthSec: 2, fadeInSec: 1.5, fadeOutSec: 1 },
          },
        ],
        ['ops', 1, 'clip', 'fadeOutSec'],
      ],
    ];
    for (const [what, ops, path] of cases) {
      const err = await rejection(
        owner.client.arrangement.applyOps.mutate({ projectId: project.id, expectedVersion: 1, ops }),
      );
      expect(err.code, what).toBe('BAD_REQUEST');
      expect(
        err.details?.map((d) => d.path),
        what,
      ).toContainEqual(path);
    }
    // Schema bounds, over plain HTTP: the status is 400 and the details name the nested field.
    const schemaCases: [unknown, (string | number)[]][] = [
      [{ type: 'addLane', lane: { name: 'Loud', gainDb: 13 } }, ['ops', 0, 'lane', 'gainDb']],
      [{ type: 'addLane', lane: { name: 'Wide', pan: -1.5 } }, ['ops', 0, 'lane', 'pan']],
      [{ type: 'addClip', clip: { laneId: lane, trackId: tA, startSec: -1 } }, ['ops', 0, 'clip', 'startSec']],
      [
        { type: 'addClip', clip: { laneId: lane, trackId: tA, startSec: 0, lengthSec: 0 } },
        ['ops', 0, 'clip', 'lengthSec'],
      ],
      [{ type: 'shuffle' }, ['ops', 0, 'type']],
    ];
    for (const [op, path] of schemaCases) {
      const res = await rest(api.base, 'POST', '/trpc/arrangement.applyOps', {
        headers: { ...bearer(owner.token), origin: 'http://localhost:5173' },
        body: { projectId: project.id, expectedVersion: 1, ops: [op] },
      });
      expect(res.status, JSON.stringify(op)).toBe(400);
      expect(
        res.body.error.data.details.map((d: { path: unknown }) => d.path),
        JSON.stringify(op),
      ).toContainEqual(path);
    }
    const state = await owner.client.project.get.query({ id: project.id });
    expect(state.project.version).toBe(1);
    expect(state.lanes).toEqual([]);
    expect(await editCount(project.id)).toBe(0);
  });
});

describe('authorization', () => {
  it('owner, editor, viewer and stranger each get what their role allows', async () => {
    const owner = await person();
    const editor = await person();
    const viewer = await person();
    const stranger = await person();
    const ownerTrack = (await insertReadyTrack(db, owner.user.id, { durationSec: 20 })).id;
    const editorTrack = (await insertReadyTrack(db, editor.user.id, { durationSec: 20 })).id;
    const { project } = await owner.client.project.create.mutate({ name: 'Shared' });
    await share(project.id, editor, 'editor');
    await share(project.id, viewer, 'viewer');
    const lane = randomUUID();

    // The editor places their own track in the owner's project; the owner's track is not theirs to place.
    const placed = await editor.client.arrangement.applyOps.mutate({
      projectId: project.id,
      expectedVersion: 1,
      ops: [
        { type: 'addLane', lane: { id: lane, name: 'Editor lane' } },
        { type: 'addClip', clip: { laneId: lane, trackId: editorTrack, startSec: 0 } },
      ],
    });
    expect(placed.role).toBe('editor');
    const notTheirs = await rejection(
      editor.client.arrangement.applyOps.mutate({
        projectId: project.id,
        expectedVersion: 2,
        ops: [{ type: 'addClip', clip: { laneId: lane, trackId: ownerTrack, startSec: 0 } }],
      }),
    );
    expect(notTheirs.code).toBe('BAD_REQUEST');
    // A track already in the project may be placed again by anyone who can edit it.
    await owner.client.arrangement.applyOps.mutate({
      projectId: project.id,
      expectedVersion: 2,
      ops: [{ type: 'addClip', clip: { laneId: lane, trackId: editorTrack, startSec: 20 } }],
    });

    expect((await viewer.client.project.get.query({ id: project.id })).role).toBe('viewer');
    expect(
      await codeOf(
        viewer.client.arrangement.applyOps.mutate({
          projectId: project.id,
          expectedVersion: 3,
          ops: [{ type: 'removeLane', laneId: lane }],
        }),
      ),
    ).toBe('FORBIDDEN');
    expect(await codeOf(viewer.client.arrangement.undo.mutate({ projectId: project.id, expectedVersion: 3 }))).toBe(
      'FORBIDDEN',
    );
    expect(
      await codeOf(viewer.client.project.update.mutate({ id: project.id, expectedVersion: 3, name: 'Mine now' })),
    ).toBe('FORBIDDEN');
    expect(await codeOf(editor.client.project.delete.mutate({ id: project.id }))).toBe('FORBIDDEN');

    const strangerCalls: [string, () => Promise<unknown>][] = [
      ['project.get', () => stranger.client.project.get.query({ id: project.id })],
      [
        'arrangement.applyOps',
        () =>
          stranger.client.arrangement.applyOps.mutate({
            projectId: project.id,
            expectedVersion: 3,
            ops: [{ type: 'removeLane', laneId: lane }],
          }),
      ],
      [
        'arrangement.redo',
        () => stranger.client.arrangement.redo.mutate({ projectId: project.id, expectedVersion: 3 }),
      ],
      ['project.delete', () => stranger.client.project.delete.mutate({ id: project.id })],
      ['track.list', () => stranger.client.track.list.query({ projectId: project.id })],
      ['track.get', () => stranger.client.track.get.query({ id: editorTrack })],
      ['track.urls', () => stranger.client.track.urls.query({ id: ownerTrack })],
      ['track.rename', () => stranger.client.track.rename.mutate({ id: ownerTrack, title: 'Stolen' })],
      ['track.delete', () => stranger.client.track.delete.mutate({ id: ownerTrack })],
    ];
    for (const [what, call] of strangerCalls) expect(await codeOf(call()), what).toBe('NOT_FOUND');
    expect((await stranger.client.project.list.query()).map((p) => p.id)).not.toContain(project.id);

    // Members read the tracks the project uses (to play them) but only the owner renames or deletes a track.
    expect((await viewer.client.track.get.query({ id: editorTrack })).mine).toBe(false);
    expect((await owner.client.track.urls.query({ id: editorTrack })).mp3Url).toContain(editorTrack);
    expect(await codeOf(owner.client.track.rename.mutate({ id: editorTrack, title: 'Mine' }))).toBe('FORBIDDEN');
    expect(await codeOf(owner.client.track.delete.mutate({ id: editorTrack }))).toBe('FORBIDDEN');
    const projectTracks = await viewer.client.track.list.query({ projectId: project.id });
    expect(projectTracks.items.map((t) => t.id)).toEqual([editorTrack]);
    expect(await codeOf(viewer.client.track.get.query({ id: ownerTrack }))).toBe('NOT_FOUND');
    const row = await db.selectFrom('tracks').select('title').where('id', '=', editorTrack).executeTakeFirstOrThrow();
    expect(row.title).not.toBe('Mine');
  });
});

describe('library', () => {
  it('lists newest first with source, project and search filters, and pages with a cursor', async () => {
    const me = await person();
    const other = await person();
    const { project } = await me.client.project.create.mutate({ name: 'Album' });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const t = await insertReadyTrack(db, me.user.id, {
        title: i === 3 ? 'Price 50% off' : `Song ${i}`,
        source: i === 4 ? 'uploaded' : 'generated',
        projectId: i < 2 ? project.id : null,
        prompt: i === 1 ? 'dreamy synthwave at night' : null,
      });
      made.push(t.id);
    }
    await insertReadyTrack(db, other.user.id, { title: 'Song of someone else' });

    const all = await me.client.track.list.query({});
    expect(all.items.map((t) => t.id)).toEqual([...made].reverse());
    expect(all.nextCursor).toBeNull();
    expect(all.items[0]).toMatchObject({ source: 'uploaded', status: 'ready', mine: true, durationSec: 30 });
    expect(all.items[0]!.peaksUrl).toContain(made[4]!);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await me.client.track.list.query({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());

    expect((await me.client.track.list.query({ source: 'uploaded' })).items.map((t) => t.id)).toEqual([made[4]]);
    expect((await me.client.track.list.query({ projectId: project.id })).items.map((t) => t.id)).toEqual([
      made[1],
      made[0],
    ]);
    expect((await me.client.track.list.query({ search: 'SYNTHWAVE' })).items.map((t) => t.id)).toEqual([made[1]]);
    // LIKE wildcards are literal: "50%" finds the one title containing it, "%" alone finds only titles with a %.
    expect((await me.client.track.list.query({ search: '50%' })).items.map((t) => t.id)).toEqual([made[3]]);
    expect((await me.client.track.list.query({ search: '%' })).items.map((t) => t.id)).toEqual([made[3]]);
    expect(await codeOf(me.client.track.list.query({ cursor: 'bm90LWEtY3Vyc29y' }))).toBe('BAD_REQUEST');
  });

  it('renames, presigns playback and download URLs, and serves REST GET /api/tracks', async () => {
    const me = await person();
    const track = await insertReadyTrack(db, me.user.id, {
      title: 'First take',
      s3: { client: s3, bucket: s3server.bucket },
    });
    const renamed = await me.client.track.rename.mutate({ id: track.id, title: '  Final mix  ' });
    expect(renamed.title).toBe('Final mix');
    expect((await me.client.track.get.query({ id: track.id })).title).toBe('Final mix');

    const urls = await me.client.track.urls.query({ id: track.id });
    expect(Date.parse(urls.expiresAt)).toBeGreaterThan(Date.now() + 50 * 60_000);
    const mp3 = await fetch(urls.mp3Url!);
    expect(mp3.status).toBe(200);
    expect(await mp3.text()).toBe(`mp3 of ${track.id}`);
    expect(await (await fetch(urls.wavUrl!)).text()).toBe(`wav of ${track.id}`);
    expect(await (await fetch(urls.peaksUrl!)).text()).toBe(`peaks of ${track.id}`);

    const download = await me.client.track.urls.query({ id: track.id, download: true });
    const wav = await fetch(download.wavUrl!);
    expect(wav.status).toBe(200);
    expect(wav.headers.get('content-disposition')).toBe(
      `attachment; filename="Final mix.wav"; filename*=UTF-8''Final%20mix.wav`,
    );

    const res = await rest(api.base, 'GET', '/api/tracks', { headers: bearer(me.token) });
    expect(res.status).toBe(200);
    expect(res.body.tracks.map((t: { id: string }) => t.id)).toEqual([track.id]);
    expect(res.body.tracks[0].title).toBe('Final mix');
    expect((await rest(api.base, 'GET', '/api/tracks')).status).toBe(401);
    const bad = await rest(api.base, 'GET', '/api/tracks?limit=0&source=tape', { headers: bearer(me.token) });
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: { path: unknown[] }) => d.path[0]).sort()).toEqual(['limit', 'source']);
  });

  it("deleting a track hides it at once, takes its clips out of every project (a collaborator's too) and enqueues its removal", async () => {
    const owner = await person();
    const collaborator = await person();
    const track = await insertReadyTrack(db, collaborator.user.id);
    const { project } = await owner.client.project.create.mutate({ name: 'Borrowed sounds' });
    await share(project.id, collaborator, 'editor');
    const lane = randomUUID();
    const placed = await collaborator.client.arrangement.applyOps.mutate({
      projectId: project.id,
      expectedVersion: 1,
      ops: [
        { type: 'addLane', lane: { id: lane, name: 'Lane' } },
        { type: 'addClip', clip: { laneId: lane, trackId: track.id, startSec: 0 } },
      ],
    });
    expect(placed.clips).toHaveLength(1);

    // The project's owner cannot delete it; its owner can.
    expect(await codeOf(owner.client.track.delete.mutate({ id: track.id }))).toBe('FORBIDDEN');
    expect(await collaborator.client.track.delete.mutate({ id: track.id })).toEqual({ id: track.id });

    expect(await codeOf(collaborator.client.track.get.query({ id: track.id }))).toBe('NOT_FOUND');
    expect(await codeOf(collaborator.client.track.urls.query({ id: track.id }))).toBe('NOT_FOUND');
    expect((await collaborator.client.track.list.query({})).items).toEqual([]);
    expect(await codeOf(collaborator.client.track.delete.mutate({ id: track.id }))).toBe('NOT_FOUND');
    const state = await owner.client.project.get.query({ id: project.id });
    expect(state.clips).toEqual([]);
    expect(state.lanes.map((l) => l.id)).toEqual([lane]);
    expect(state.project.version).toBe(3);
    // The history could re-create the clip, so it is gone: nothing to undo.
    expect(state.canUndo).toBe(false);
    expect(
      await codeOf(
        owner.client.arrangement.applyOps.mutate({
          projectId: project.id,
          expectedVersion: 3,
          ops: [{ type: 'addClip', clip: { laneId: lane, trackId: track.id, startSec: 0 } }],
        }),
      ),
    ).toBe('BAD_REQUEST');

    const row = await db.selectFrom('tracks').select('deleted_at').where('id', '=', track.id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    const connection = new Redis(defaultRedisUrl(), { db: DEFAULT_QUEUE_DB, maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix: api.prefix });
    try {
      expect(await queue.getJobState(deleteTrackJobId(track.id))).toBe('waiting');
      const job = await queue.getJob(deleteTrackJobId(track.id));
      expect(job?.data).toEqual({ trackId: track.id });
      expect(job?.opts.attempts).toBeGreaterThan(3);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});
