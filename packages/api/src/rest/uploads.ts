/**
 * REST `POST /api/tracks/upload` (the seed's smoke test 5: `curl -F "file=@test-audio.mp3"` with a token): multipart,
 * up to 5 files of at most 50 MB each (seed 5.2), each streamed to the bucket as it arrives, checked on the way (the
 * declared type is audio, the first bytes are audio, the size is within the limit). All or nothing: a refused file
 * removes the objects and rows of the request's other files. Answers 201 `{ success, tracks }`, each track
 * `processing` until the analyze job has measured it.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import multipart from '@fastify/multipart';
import { AppError, restUploadOutputSchema, UPLOAD_LIMITS, type Track } from '@dawg/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { assertProjectWritable, enqueueAnalysis, storeIncomingFile, type UploadDeps } from '../services/uploads';
import { defineRestRoute } from './define';

export function uploadDeps(deps: AppDeps, log: UploadDeps['log']): UploadDeps {
  const storage = { s3: deps.s3, bucket: deps.env.AWS_S3_BUCKET };
  return {
    db: deps.db,
    log,
    env: deps.env,
    storage,
    analyze: (trackId) => deps.studioIo.analyze(trackId),
    library: { db: deps.db, log, storage, trackDeletion: deps.trackDeletion },
  };
}

const projectIdSchema = z.uuid();

function multipartError(err: unknown): AppError | null {
  const code = (err as { code?: string }).code;
  if (code === 'FST_FILES_LIMIT') {
    return new AppError('PAYLOAD_TOO_LARGE', `At most ${UPLOAD_LIMITS.MAX_FILES} files per request`, {
      details: [{ path: ['file'], message: `At most ${UPLOAD_LIMITS.MAX_FILES} files per request` }],
    });
  }
  if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the files as multipart/form-data');
  }
  if (typeof code === 'string' && code.startsWith('FST_')) {
    return new AppError('BAD_REQUEST', 'Malformed multipart body', {
      details: [{ path: ['file'], message: (err as Error).message }],
    });
  }
  return null;
}

export function registerUploadRoutes(app: FastifyInstance, deps: AppDeps): void {
  void app.register(async (scope) => {
    // Over-size files are detected per file (the stream ends truncated), so the request can clean up and say which.
    await scope.register(multipart, { limits: { fileSize: UPLOAD_LIMITS.MAX_BYTES }, throwFileSizeLimit: false });
    defineRestRoute(
      scope,
      {
        method: 'POST',
        url: '/api/tracks/upload',
        auth: 'user',
        response: restUploadOutputSchema,
        status: 201,
        config: { timeout: false },
        summary: 'Upload audio files',
        description:
          'multipart/form-data with one to five `file` parts (MP3, WAV, FLAC, Ogg, AAC/M4A, AIFF; at most 50 MB ' +
          'each) and an optional `projectId` field before them. Each file becomes a track in your library; it is ' +
          '`processing` until analysed (duration, loudness, waveform, tempo, a playback MP3), then `ready`.',
        tags: ['tracks'],
        errors: { 400: 'Not audio, or no file', 413: 'A file over 50 MB or more than 5 files', 415: 'Not multipart' },
      },
      async ({ user, request }) => {
        if (!request.isMultipart())
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send the files as multipart/form-data');
        const upload = uploadDeps(deps, request.log);
        const stored: Track[] = [];
        let projectId: string | undefined;
        try {
          const parts = request.parts({
            limits: {
              fileSize: UPLOAD_LIMITS.MAX_BYTES,
              files: UPLOAD_LIMITS.MAX_FILES,
              fields: 10,
              fieldSize: 1_000,
            },
          });
          for await (const part of parts) {
            if (part.type === 'field') {
              if (part.fieldname !== 'projectId') continue;
              const parsed = projectIdSchema.safeParse(part.value);
              if (!parsed.success) {
                throw new AppError('BAD_REQUEST', 'Validation failed', {
                  details: [{ path: ['projectId'], message: 'Invalid UUID' }],
                });
              }
              projectId = parsed.data;
              await assertProjectWritable(upload, user.id, projectId);
              continue;
            }
            stored.push(
              await storeIncomingFile(
                upload,
                user.id,
                { fileName: part.filename, mimeType: part.mimetype, stream: part.file },
                projectId,
              ),
            );
          }
        } catch (err) {
          await rollback(deps, stored);
          throw multipartError(err) ?? err;
        }
        if (stored.length === 0) {
          throw new AppError('BAD_REQUEST', 'Validation failed', {
            details: [{ path: ['file'], message: 'Attach at least one file as `file`' }],
          });
        }
        for (const track of stored) await enqueueAnalysis(upload, track.id);
        return { success: true as const, tracks: stored };
      },
    );
  });
}

/** Removes what a refused request had already stored (objects first, then rows). */
async function rollback(deps: AppDeps, tracks: readonly Track[]): Promise<void> {
  for (const track of tracks) {
    const row = await deps.db
      .deleteFrom('tracks')
      .where('id', '=', track.id)
      .returning(['original_key'])
      .executeTakeFirst()
      .catch(() => undefined);
    if (row?.original_key) {
      await deps.s3
        .send(new DeleteObjectCommand({ Bucket: deps.env.AWS_S3_BUCKET, Key: row.original_key }))
        .catch(() => undefined);
    }
  }
}
