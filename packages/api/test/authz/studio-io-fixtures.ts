/**
 * Authorization fixtures of Studio II (uploads, mixdowns, the automatic mix, members, presence, the live channel),
 * spread into the registry in fixtures.ts.
 */
import { applyArrangementEdit, insertMixdown } from '@dawg/db';
import { insertProjectOf, insertReadyTrack } from '../helpers/studio';
import type { FixtureContext, ProcedureFixture, RestFixture } from './fixtures';

/** A project of the owner with one lane holding one clip (something to mix). */
async function projectWithClip(ctx: FixtureContext): Promise<string> {
  const projectId = await insertProjectOf(ctx.db, ctx.owner.user.id);
  const track = await insertReadyTrack(ctx.db, ctx.owner.user.id, { durationSec: 10 });
  const laneId = crypto.randomUUID();
  await applyArrangementEdit(ctx.db, {
    projectId,
    userId: ctx.owner.user.id,
    expectedVersion: 1,
    ops: [
      { type: 'addLane', lane: { id: laneId, name: 'Authz' } },
      { type: 'addClip', clip: { laneId, trackId: track.id, startSec: 0 } },
    ],
  });
  return projectId;
}

export const STUDIO_IO_PROCEDURE_FIXTURES: Record<string, ProcedureFixture> = {
  'track.createUpload': {
    access: 'self',
    input: () => ({ fileName: 'authz.wav', contentType: 'audio/wav', sizeBytes: 1024 }),
  },
  'track.completeUpload': {
    access: 'owned',
    // An upload already analysed: completing it again answers the track without touching the bucket.
    input: async (ctx) => ({
      trackId: (await insertReadyTrack(ctx.db, ctx.owner.user.id, { source: 'uploaded' })).id,
    }),
  },
  'project.mixdown': { access: 'owned', input: async (ctx) => ({ projectId: await projectWithClip(ctx) }) },
  'project.getMixdown': {
    access: 'owned',
    input: async (ctx) => {
      const projectId = await insertProjectOf(ctx.db, ctx.owner.user.id);
      const row = await insertMixdown(ctx.db, {
        projectId,
        ownerId: ctx.owner.user.id,
        projectVersion: 1,
        stems: false,
      });
      return { id: row.id };
    },
  },
  'project.listMixdowns': {
    access: 'owned',
    input: async (ctx) => ({ projectId: await insertProjectOf(ctx.db, ctx.owner.user.id) }),
  },
  'project.autoMix': {
    access: 'owned',
    input: async (ctx) => ({ projectId: await projectWithClip(ctx), expectedVersion: 2 }),
  },
  'project.members': {
    access: 'owned',
    input: async (ctx) => ({ projectId: await insertProjectOf(ctx.db, ctx.owner.user.id) }),
  },
  'project.invite': {
    access: 'owned',
    input: async (ctx) => {
      const invitee = await ctx.createUser();
      return { projectId: await insertProjectOf(ctx.db, ctx.owner.user.id), email: invitee.user.email, role: 'viewer' };
    },
  },
  'project.removeMember': {
    access: 'owned',
    input: async (ctx) => {
      const member = await ctx.createUser();
      const projectId = await insertProjectOf(ctx.db, ctx.owner.user.id);
      await ctx.db
        .insertInto('project_members')
        .values({ project_id: projectId, user_id: member.user.id, role: 'editor' })
        .execute();
      return { projectId, userId: member.user.id };
    },
  },
  'project.presence': {
    access: 'owned',
    input: async (ctx) => ({ projectId: await insertProjectOf(ctx.db, ctx.owner.user.id), playheadSec: 3 }),
  },
  'project.live': {
    access: 'owned',
    input: async (ctx) => ({ projectId: await insertProjectOf(ctx.db, ctx.owner.user.id) }),
  },
};

/**
 * A tiny multipart body with one WAV (8 kHz, 8-bit, silent; every header byte below 0x80, so the body survives being
 * sent as a string).
 */
function multipartWav(): { body: string; headers: Record<string, string> } {
  const boundary = 'authzboundary7MA4YWxkTrZu0gW';
  const data = '\u0000'.repeat(800);
  const le32 = (n: number) => String.fromCharCode(n & 0x7f, (n >> 8) & 0x7f, 0, 0);
  const wav =
    'RIFF' +
    le32(36 + data.length) +
    'WAVE' +
    'fmt ' +
    le32(16) +
    '\u0001\u0000\u0001\u0000' +
    '\u0040\u001f\u0000\u0000' +
    '\u0040\u001f\u0000\u0000' +
    '\u0001\u0000\u0008\u0000' +
    'data' +
    le32(data.length) +
    data;
  const body =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="authz.wav"\r\n` +
    `Content-Type: audio/wav\r\n\r\n${wav}\r\n--${boundary}--\r\n`;
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export const STUDIO_IO_REST_FIXTURES: Record<string, RestFixture> = {
  'POST /api/tracks/upload': { access: 'self', request: () => multipartWav() },
};
