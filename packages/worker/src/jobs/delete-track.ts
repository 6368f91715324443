/**
 * `maintenance.delete-track`: finishes deleting a track the api has hidden (deleted_at set). Its clips leave every
 * project (again, in case the api's attempt failed), its S3 objects are deleted one by one (an object already gone
 * is fine: deleting is idempotent; a key another track row also points at is kept), and only then the row. Any
 * failure on the way (S3 or the database unreachable) fails the attempt with the row still there, so the retry with
 * backoff — or later the purge sweeper — starts over and finds less to do. A track that is not marked deleted is
 * never touched.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import {
  detachTrackFromProjects,
  findTrackById,
  hardDeleteTrack,
  keysUsedByOtherTracks,
  trackStorageKeys,
} from '@dawg/db';
import { deleteTrackJobSchema, JOB_NAMES, QUEUE_NAMES } from '@dawg/shared';
import { defineJob } from '../registry';

export const deleteTrackJob = defineJob({
  name: JOB_NAMES.deleteTrack,
  queue: QUEUE_NAMES.maintenance,
  schema: deleteTrackJobSchema,
  handler: async ({ trackId }, { db, s3, env, log, signal }) => {
    const track = await findTrackById(db, trackId);
    if (!track) return { trackDeleted: false, objectsDeleted: 0 };
    if (!track.deleted_at) {
      log.warn({ trackId }, 'delete-track job for a track that is not deleted; leaving it');
      return { trackDeleted: false, objectsDeleted: 0 };
    }
    const projects = await detachTrackFromProjects(db, trackId);
    const keys = trackStorageKeys(track);
    const shared = await keysUsedByOtherTracks(db, trackId, keys);
    const doomed = keys.filter((key) => !shared.has(key));
    for (const key of doomed) {
      await s3.send(new DeleteObjectCommand({ Bucket: env.AWS_S3_BUCKET, Key: key }), { abortSignal: signal });
    }
    const trackDeleted = await hardDeleteTrack(db, trackId);
    log.info({ trackId, objects: doomed.length, kept: shared.size, projects: projects.length }, 'track deleted');
    return { trackDeleted, objectsDeleted: doomed.length };
  },
});
