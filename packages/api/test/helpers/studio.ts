/**
 * Helpers of the studio tests: ready tracks made directly (a row, and optionally its objects in the bucket) instead
 * of by running a generation, and projects with edits made through the same @dawg/db functions the api uses.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { applyArrangementEdit, insertProject, undoArrangementEdit, type Database } from '@dawg/db';
import type { TrackSource } from '@dawg/shared';
import type { Kysely } from 'kysely';

export interface ReadyTrack {
  id: string;
  keys: { mp3: string; wav: string; peaks: string };
}

export async function insertReadyTrack(
  db: Kysely<Database>,
  ownerId: string,
  opts: {
    title?: string;
    durationSec?: number;
    source?: TrackSource;
    projectId?: string | null;
    prompt?: string | null;
    /** Also put small objects at the track's keys. */
    s3?: { client: S3Client; bucket: string };
  } = {},
): Promise<ReadyTrack> {
  const id = randomUUID();
  const base = `users/${ownerId}/tracks/${id}`;
  const keys = { mp3: `${base}/audio.mp3`, wav: `${base}/audio.wav`, peaks: `${base}/peaks.json` };
  if (opts.s3) {
    const { client, bucket } = opts.s3;
    for (const [kind, key] of Object.entries(keys)) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${kind} of ${id}` }));
    }
  }
  await db
    .insertInto('tracks')
    .values({
      id,
      owner_id: ownerId,
      project_id: opts.projectId ?? null,
      source: opts.source ?? 'generated',
      status: 'ready',
      title: opts.title ?? `Track ${id.slice(0, 8)}`,
      mp3_key: keys.mp3,
      wav_key: keys.wav,
      peaks_key: keys.peaks,
      duration_sec: opts.durationSec ?? 30,
      prompt: opts.prompt ?? null,
      provider: 'test',
      model: 'test-tone-1',
    })
    .execute();
  return { id, keys };
}

export async function insertProjectOf(
  db: Kysely<Database>,
  ownerId: string,
  name = 'Fixture project',
): Promise<string> {
  return (await insertProject(db, ownerId, { name })).id;
}

/** A project with one lane added by one edit (version 2, one undo step). */
export async function projectWithEdit(db: Kysely<Database>, ownerId: string): Promise<string> {
  const projectId = await insertProjectOf(db, ownerId);
  await applyArrangementEdit(db, {
    projectId,
    userId: ownerId,
    expectedVersion: 1,
    ops: [{ type: 'addLane', lane: { name: 'Drums' } }],
  });
  return projectId;
}

/** The same, undone (version 3, one redo step). */
export async function projectWithUndoneEdit(db: Kysely<Database>, ownerId: string): Promise<string> {
  const projectId = await projectWithEdit(db, ownerId);
  await undoArrangementEdit(db, { projectId, userId: ownerId, expectedVersion: 2 });
  return projectId;
}
