/**
 * `purge-stale-uploads` (maintenance, every 10 minutes): an upload whose presigned POST expired without
 * `track.completeUpload` stays `pending`, and one whose analysis used up its retries stays `processing`. Both end
 * `failed` with the reason, and their original object (if the browser did send it) is deleted, so neither a row that
 * never resolves nor an orphan object is left.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { findStaleUploads, markTrackFailed } from '@dawg/db';
import { JOB_NAMES, maintenanceJobSchema, QUEUE_NAMES, UPLOAD_LIMITS } from '@dawg/shared';
import { defineJob } from '../registry';

/** A pending upload is given up this long after its presigned POST expired. */
const PENDING_GRACE_MS = UPLOAD_LIMITS.POST_TTL_SEC * 1000 + 5 * 60_000;
/** Analysis of a 20-minute file takes well under a minute; half an hour without an answer is given up. */
const PROCESSING_GRACE_MS = 30 * 60_000;
const SWEEP_BATCH = 200;

export const purgeStaleUploads = defineJob({
  name: JOB_NAMES.purgeStaleUploads,
  queue: QUEUE_NAMES.maintenance,
  schema: maintenanceJobSchema,
  schedule: { everyMs: 10 * 60_000, data: {} },
  handler: async ({ olderThanMs }, { db, s3, env, log, signal }) => {
    const now = Date.now();
    const stale = await findStaleUploads(
      db,
      new Date(now - (olderThanMs ?? PENDING_GRACE_MS)),
      new Date(now - (olderThanMs ?? PROCESSING_GRACE_MS)),
      SWEEP_BATCH,
    );
    let failed = 0;
    for (const upload of stale) {
      const reason =
        upload.status === 'pending' ? 'The upload was never completed' : 'The analysis of this upload did not finish';
      // The row first: one that became ready meanwhile is left alone, and so is its object.
      if (!(await markTrackFailed(db, upload.id, reason))) continue;
      failed++;
      if (upload.original_key) {
        await s3.send(new DeleteObjectCommand({ Bucket: env.AWS_S3_BUCKET, Key: upload.original_key }), {
          abortSignal: signal,
        });
      }
    }
    if (failed > 0) log.warn({ failed }, 'stale uploads failed');
    return { failed };
  },
});
