/**
 * The automatic mix on the real stack: two uploaded tones of very different loudness (measured by the analyze job)
 * on two lanes with arbitrary faders; `project.autoMix` balances them so the mixdown of the project measures −14 LUFS
 * (within 1 LU, measured here by ffmpeg's EBU R128 meter) with the two tones at equal loudness; it is one ordinary
 * edit, so undo restores the faders exactly; viewers cannot run it and FEATURE_AI_MIXING=false turns it off.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Database } from '@dawg/db';
import {
  createTestDatabase,
  createUser,
  startS3Server,
  waitFor,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import type { WorkerApp } from '@dawg/worker';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { makeTone } from './helpers/audio';
import { codeOf, httpClient, startWorker } from './helpers/generation';

const run = promisify(execFile);

let database: TestDatabase;
let db: Kysely<Database>;
let s3server: S3ServerHandle;
let api: TestApi;
let worker: WorkerApp;

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  db = database.db;
  api = await startApi({ database, label: 'automix', s3: s3server, overrides: { WHITELISTED_IPS: '127.0.0.1' } });
  worker = await startWorker({ database, prefix: api.prefix, s3: s3server });
});

afterAll(async () => {
  await worker?.close(1_000);
  await api?.close();
  await s3server?.stop();
  await database?.drop();
});

async function upload(token: string, name: string, body: Buffer): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([body], { type: 'audio/wav' }), name);
  const res = await fetch(`${api.base}/api/tracks/upload`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { tracks: { id: string }[] }).tracks[0]!.id;
}

/** Integrated loudness of a WAV file by ffmpeg's ebur128 filter. */
async function loudnessOf(wav: Buffer, filter = ''): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'dawg-lufs-'));
  try {
    const file = join(dir, 'mix.wav');
    await writeFile(file, wav);
    const { stderr } = await run('ffmpeg', [
      '-hide_banner',
      '-nostats',
      '-i',
      file,
      '-af',
      `${filter}ebur128=framelog=verbose`,
      '-f',
      'null',
      '-',
    ]);
    const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
    return Number(/I:\s+(-?[\d.]+) LUFS/.exec(summary)![1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('project.autoMix', () => {
  it('balances the lanes to −14 LUFS together as one undoable edit', async () => {
    const { user, token } = await createUser(db);
    const client = httpClient(api.base, token);
    const loud = await upload(token, 'loud.wav', await makeTone({ seconds: 6, frequency: 220, amplitude: 0.8 }));
    const quiet = await upload(token, 'quiet.wav', await makeTone({ seconds: 6, frequency: 1500, amplitude: 0.05 }));
    for (const id of [loud, quiet]) {
      await waitFor(async () => (await client.track.get.query({ id })).status === 'ready', {
        timeoutMs: 30_000,
        description: 'upload analysed',
      });
    }
    const created = await client.project.create.mutate({ name: 'Auto' });
    const projectId = created.project.id;
    const [laneLoud, laneQuiet] = [crypto.randomUUID(), crypto.randomUUID()];
    const before = await client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: created.project.version,
      ops: [
        { type: 'addLane', lane: { id: laneLoud, name: 'Loud', gainDb: 3 } },
        { type: 'addLane', lane: { id: laneQuiet, name: 'Quiet', gainDb: -10 } },
        { type: 'addClip', clip: { laneId: laneLoud, trackId: loud, startSec: 0 } },
        { type: 'addClip', clip: { laneId: laneQuiet, trackId: quiet, startSec: 0 } },
      ],
    });

    const result = await client.project.autoMix.mutate({ projectId, expectedVersion: before.project.version });
    expect(result.changed).toBe(true);
    expect(result.targetLufs).toBe(-14);
    expect(result.state.project.version).toBe(before.project.version + 1);
    expect(result.lanes.map((l) => l.measuredLufs)).not.toContain(null);
    const gains = new Map(result.state.lanes.map((l) => [l.id, l.gainDb]));
    expect(gains.get(laneQuiet)! - gains.get(laneLoud)!).toBeGreaterThan(20);

    const mix = await client.project.mixdown.mutate({ projectId });
    const done = await waitFor(
      async () => {
        const view = await client.project.getMixdown.query({ id: mix.id });
        if (view.status === 'failed') throw new Error(view.error ?? 'failed');
        return view.status === 'succeeded' ? view : undefined;
      },
      { timeoutMs: 60_000, description: 'mixdown' },
    );
    const wav = Buffer.from(await (await fetch(done.wavUrl!)).arrayBuffer());
    expect(Math.abs((await loudnessOf(wav)) - -14)).toBeLessThanOrEqual(1);
    // Each tone alone (band-passed out of the mix) sits at the same loudness, within 1.5 LU.
    const low = await loudnessOf(wav, 'lowpass=f=500,lowpass=f=500,');
    const high = await loudnessOf(wav, 'highpass=f=900,highpass=f=900,');
    expect(Math.abs(low - high)).toBeLessThanOrEqual(1.5);

    // An ordinary edit: undo restores the faders.
    const undone = await client.arrangement.undo.mutate({ projectId, expectedVersion: result.state.project.version });
    expect(undone.lanes.map((l) => l.gainDb)).toEqual([3, -10]);

    // Viewers cannot; a stale version is a conflict; nothing written by either.
    const { user: viewerUser, token: viewerToken } = await createUser(db);
    await db
      .insertInto('project_members')
      .values({ project_id: projectId, user_id: viewerUser.id, role: 'viewer' })
      .execute();
    const viewer = httpClient(api.base, viewerToken);
    expect(await codeOf(viewer.project.autoMix.mutate({ projectId, expectedVersion: undone.project.version }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(client.project.autoMix.mutate({ projectId, expectedVersion: 1 }))).toBe('CONFLICT');
    expect((await client.project.get.query({ id: projectId })).project.version).toBe(undone.project.version);
    expect(user.id).toBeTruthy();
  });

  it('is off when FEATURE_AI_MIXING is false', async () => {
    const off = await startApi({
      database,
      label: 'automix-off',
      s3: s3server,
      overrides: { WHITELISTED_IPS: '127.0.0.1', FEATURE_AI_MIXING: 'false' },
    });
    try {
      const { token } = await createUser(db);
      const client = httpClient(off.base, token);
      const created = await client.project.create.mutate({ name: 'Off' });
      expect(await codeOf(client.project.autoMix.mutate({ projectId: created.project.id, expectedVersion: 1 }))).toBe(
        'FORBIDDEN',
      );
    } finally {
      await off.close();
    }
  });
});
