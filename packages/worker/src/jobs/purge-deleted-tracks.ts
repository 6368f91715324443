/**
 * `purge-deleted-tracks` (maintenance, every 5 minutes): the safety net of track deletion. The api hides a track,
 * then enqueues its `maintenance.delete-track` job; if that enqueue failed (Redis away), or the job used up its
 * retries (S3 down for long), the track would stay half-deleted. Tracks soft-deleted long enough ago whose job is
 * not waiting, delayed or running get a fresh job (a failed one is removed first: the job id is the track's).
 */
import {
  DELETE_TRACK_JOB_OPTIONS,
  deleteTrackJobId,
  JOB_NAMES,
  maintenanceJobSchema,
  QUEUE_NAMES,
  TRACK_PURGE_AFTER_MS,
  TRACK_PURGE_EVERY_MS,
} from '@dawg/shared';
import { findStaleDeletedTracks } from '@dawg/db';
import { KEEP_COMPLETED, KEEP_FAILED } from '../job-options';
import { defineJob } from '../registry';

/** Tracks handled per sweep; the rest wait for the next one (oldest first). */
const SWEEP_BATCH = 200;

const PENDING_STATES = new Set(['waiting', 'delayed', 'active', 'waiting-children', 'prioritized']);

export const purgeDeletedTracks = defineJob({
  name: JOB_NAMES.purgeDeletedTracks,
  queue: QUEUE_NAMES.maintenance,
  schema: maintenanceJobSchema,
  schedule: { everyMs: TRACK_PURGE_EVERY_MS, data: {} },
  handler: async ({ olderThanMs }, { db, queue, log }) => {
    const cutoff = new Date(Date.now() - (olderThanMs ?? TRACK_PURGE_AFTER_MS));
    const ids = await findStaleDeletedTracks(db, cutoff, SWEEP_BATCH);
    const maintenance = queue(QUEUE_NAMES.maintenance);
    let enqueued = 0;
    for (const trackId of ids) {
      const jobId = deleteTrackJobId(trackId);
      const state = await maintenance.getJobState(jobId);
      if (PENDING_STATES.has(state)) continue;
      // A completed job whose row is still here, or one failed for good: start over under the same id.
      if (state !== 'unknown') await maintenance.remove(jobId);
      await maintenance.add(
        JOB_NAMES.deleteTrack,
        { trackId },
        { ...DELETE_TRACK_JOB_OPTIONS, jobId, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
      );
      enqueued++;
    }
    if (enqueued > 0) log.warn({ checked: ids.length, enqueued }, 're-enqueued stale track deletions');
    return { checked: ids.length, enqueued };
  },
});
