/**
 * Uploads. Browser path: `track.createUpload` makes a `pending` track row and a presigned POST for one object under
 * `users/<id>/uploads/<track>/` (policy: that key, the declared audio type, 1 byte–50 MB, ten minutes); the browser
 * posts the file straight to the bucket; `track.completeUpload` re-checks the object (HeadObject: size and type; the
 * first bytes: an audio signature), deletes it and fails the row when it is not acceptable, else hands it to the
 * `analyze` job. REST path (`POST /api/tracks/upload`): the same checks on the multipart stream, which goes to the
 * bucket part by part without ever holding a whole file.
 */
import { randomUUID } from 'node:crypto';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  findReadableTrack,
  findTrackById,
  insertUploadTrack,
  markTrackFailed,
  markUploadReceived,
  requireProject,
  type Database,
} from '@dawg/db';
import {
  AppError,
  UPLOAD_CONTENT_TYPES,
  UPLOAD_LIMITS,
  uploadContentTypeSchema,
  type ApiEnv,
  type CreateUploadInput,
  type CreateUploadOutput,
  type Track,
  type UploadContentType,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { SNIFF_BYTES, sniffAudio } from './audio-sniff';
import type { LibraryDeps } from './library';
import { toTrackView } from './library';
import { createPresignedPost } from './post-policy';

export interface UploadDeps {
  db: Kysely<Database>;
  log: FastifyBaseLogger;
  env: ApiEnv;
  storage: { s3: S3Client; bucket: string };
  analyze(trackId: string): Promise<void>;
  library: LibraryDeps;
}

export function uploadKey(userId: string, trackId: string, contentType: UploadContentType): string {
  return `users/${userId}/uploads/${trackId}/original.${UPLOAD_CONTENT_TYPES[contentType]}`;
}

/** The file name without its extension, as the track's first title. */
export function titleOf(fileName: string): string {
  const base = fileName
    .replace(/^.*[\\/]/, '')
    .replace(/\.[A-Za-z0-9]{1,5}$/, '')
    .trim();
  return (base || 'Upload').slice(0, 200);
}

const fail = (path: string, message: string, code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE' = 'BAD_REQUEST') =>
  new AppError(code, message, { details: [{ path: [path], message }] });

async function assertProjectWritable(deps: UploadDeps, userId: string, projectId: string | undefined) {
  if (projectId) await requireProject(deps.db, projectId, userId, 'write');
}

export async function createUpload(
  deps: UploadDeps,
  userId: string,
  input: CreateUploadInput,
): Promise<CreateUploadOutput> {
  await assertProjectWritable(deps, userId, input.projectId);
  const open = await deps.db
    .selectFrom('tracks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('owner_id', '=', userId)
    .where('source', '=', 'uploaded')
    .where('status', 'in', ['pending', 'processing'])
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  if (Number(open.n) >= UPLOAD_LIMITS.MAX_OPEN) {
    throw new AppError(
      'TOO_MANY_REQUESTS',
      `At most ${UPLOAD_LIMITS.MAX_OPEN} uploads at once: finish (or wait for) the ones in progress`,
    );
  }
  const trackId = randomUUID();
  const key = uploadKey(userId, trackId, input.contentType);
  await insertUploadTrack(deps.db, {
    id: trackId,
    ownerId: userId,
    projectId: input.projectId ?? null,
    title: titleOf(input.fileName),
    originalKey: key,
    contentType: input.contentType,
    sizeBytes: input.sizeBytes,
  });
  const post = createPresignedPost(
    {
      accessKeyId: deps.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: deps.env.AWS_SECRET_ACCESS_KEY,
      region: deps.env.AWS_REGION,
    },
    {
      bucket: deps.storage.bucket,
      key,
      contentType: input.contentType,
      minBytes: 1,
      maxBytes: UPLOAD_LIMITS.MAX_BYTES,
      expiresInSec: UPLOAD_LIMITS.POST_TTL_SEC,
      endpoint: deps.env.S3_ENDPOINT,
    },
  );
  return { trackId, url: post.url, fields: post.fields, expiresAt: post.expiresAt.toISOString() };
}

async function deleteObject(deps: UploadDeps, key: string): Promise<void> {
  await deps.storage.s3.send(new DeleteObjectCommand({ Bucket: deps.storage.bucket, Key: key }));
}

/** The first bytes of an object (a ranged GET). */
async function headBytes(deps: UploadDeps, key: string): Promise<Uint8Array> {
  const res = await deps.storage.s3.send(
    new GetObjectCommand({ Bucket: deps.storage.bucket, Key: key, Range: `bytes=0-${SNIFF_BYTES - 1}` }),
  );
  const bytes = await res.Body!.transformToByteArray();
  return bytes.subarray(0, SNIFF_BYTES);
}

/** Refuses the upload: the object is deleted, the row says why, the caller gets a 400/413 naming the problem. */
async function refuse(deps: UploadDeps, trackId: string, key: string, error: AppError): Promise<never> {
  try {
    await deleteObject(deps, key);
  } catch (err) {
    deps.log.warn({ err, trackId }, 'refused upload: object not deleted');
  }
  await markTrackFailed(deps.db, trackId, error.message);
  throw error;
}

export async function completeUpload(deps: UploadDeps, userId: string, trackId: string): Promise<Track> {
  const row = await findTrackById(deps.db, trackId);
  if (!row || row.owner_id !== userId || row.source !== 'uploaded' || row.deleted_at) {
    throw new AppError('NOT_FOUND', 'Upload not found');
  }
  if (row.status !== 'pending' || !row.original_key) {
    // Completing twice is harmless: answer the track as it is.
    return toTrackView(deps.library, userId, row);
  }
  const key = row.original_key;
  let size: number;
  let type: string | undefined;
  try {
    const head = await deps.storage.s3.send(new HeadObjectCommand({ Bucket: deps.storage.bucket, Key: key }));
    size = head.ContentLength ?? 0;
    type = head.ContentType?.split(';')[0]?.trim().toLowerCase();
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (err as Error).name === 'NotFound') {
      throw fail('trackId', 'Nothing was uploaded for this track yet');
    }
    throw err;
  }
  if (size > UPLOAD_LIMITS.MAX_BYTES) {
    await refuse(deps, trackId, key, fail('file', 'A file is at most 50 MB', 'PAYLOAD_TOO_LARGE'));
  }
  if (size === 0) await refuse(deps, trackId, key, fail('file', 'The file is empty'));
  if (!uploadContentTypeSchema.safeParse(type).success || type !== row.content_type) {
    await refuse(deps, trackId, key, fail('contentType', 'Audio only: the stored type is not an accepted audio type'));
  }
  if (!sniffAudio(await headBytes(deps, key))) {
    await refuse(deps, trackId, key, fail('file', 'This file is not audio'));
  }
  if (!(await markUploadReceived(deps.db, userId, trackId, size))) {
    throw new AppError('CONFLICT', 'This upload was completed already');
  }
  await enqueueAnalysis(deps, trackId);
  const updated = await findReadableTrack(deps.db, userId, trackId);
  return toTrackView(deps.library, userId, updated!);
}

/** A failed enqueue leaves the row `processing`; a retry of completeUpload does not help, so say so. */
export async function enqueueAnalysis(deps: UploadDeps, trackId: string): Promise<void> {
  try {
    await deps.analyze(trackId);
  } catch (err) {
    deps.log.error({ err, trackId }, 'analyze job not enqueued');
    throw new AppError('SERVICE_UNAVAILABLE', 'The upload was received but could not be queued for analysis');
  }
}

// ---- REST multipart -----------------------------------------------------------------------------------------------

/** Passes bytes through while checking the audio signature of the first ones and counting the total. */
class AudioGate extends Transform {
  bytes = 0;
  private head = Buffer.alloc(0);
  private checked = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.byteLength;
    if (!this.checked) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.byteLength < SNIFF_BYTES) return done();
      this.checked = true;
      if (!sniffAudio(this.head)) return done(fail('file', 'This file is not audio'));
      const pending = this.head;
      this.head = Buffer.alloc(0);
      return done(null, pending);
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (!this.checked) {
      if (this.head.byteLength === 0) return done(fail('file', 'The file is empty'));
      if (!sniffAudio(this.head)) return done(fail('file', 'This file is not audio'));
      this.push(this.head);
    }
    done();
  }
}

export interface IncomingFile {
  fileName: string;
  mimeType: string;
  stream: Readable & { truncated?: boolean };
}

/**
 * One multipart file to the bucket: the declared type must be audio, the first bytes must be audio, and it must end
 * within 50 MB (the multipart parser stops at the limit and marks the stream truncated). Parts of 5 MB go up as they
 * arrive (S3 multipart upload). A refused file leaves no object and no row. The caller enqueues the analysis once
 * every file of the request is in.
 */
export async function storeIncomingFile(
  deps: UploadDeps,
  userId: string,
  file: IncomingFile,
  projectId: string | undefined,
): Promise<Track> {
  const type = file.mimeType.split(';')[0]!.trim().toLowerCase();
  const parsedType = uploadContentTypeSchema.safeParse(type);
  if (!parsedType.success) {
    file.stream.resume();
    throw fail('file', `Audio only: ${file.fileName} is ${type || 'of no declared type'}`, 'BAD_REQUEST');
  }
  const contentType = parsedType.data;
  const trackId = randomUUID();
  const key = uploadKey(userId, trackId, contentType);
  const gate = new AudioGate();
  const body = new PassThrough();
  file.stream.on('error', (err) => gate.destroy(err));
  file.stream.pipe(gate).pipe(body);
  gate.on('error', (err) => body.destroy(err));
  const upload = new Upload({
    client: deps.storage.s3,
    params: { Bucket: deps.storage.bucket, Key: key, Body: body, ContentType: contentType },
    queueSize: 2,
    partSize: 5 * 1024 * 1024,
    leavePartsOnError: false,
  });
  try {
    await upload.done();
    if (file.stream.truncated) throw fail('file', 'A file is at most 50 MB', 'PAYLOAD_TOO_LARGE');
  } catch (err) {
    file.stream.resume();
    await deleteObject(deps, key).catch(() => undefined);
    if (file.stream.truncated) throw fail('file', 'A file is at most 50 MB', 'PAYLOAD_TOO_LARGE');
    const gateError = (gate as { errored?: unknown }).errored;
    throw gateError instanceof AppError ? gateError : err;
  }
  await insertUploadTrack(deps.db, {
    id: trackId,
    ownerId: userId,
    projectId: projectId ?? null,
    title: titleOf(file.fileName),
    originalKey: key,
    contentType,
    sizeBytes: gate.bytes,
  });
  await markUploadReceived(deps.db, userId, trackId, gate.bytes);
  const row = await findReadableTrack(deps.db, userId, trackId);
  return toTrackView(deps.library, userId, row!);
}

export { assertProjectWritable };
