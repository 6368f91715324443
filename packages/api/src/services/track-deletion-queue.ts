/**
 * The producer of `maintenance.delete-track` jobs (the worker removes a soft-deleted track's clips, S3 objects and
 * row, retrying with backoff). The job id is derived from the track id, so deleting twice or a sweep never makes two
 * jobs. Fails fast while Redis is away: the row is already hidden by then, and the `purge-deleted-tracks` sweeper
 * enqueues it later.
 */
import { DELETE_TRACK_JOB_OPTIONS, deleteTrackJobId, JOB_NAMES, parseJobPayload } from '@dawg/shared';
import type { JobProducer } from './job-producer';

export interface TrackDeletionQueue {
  enqueue(trackId: string): Promise<void>;
}

export function createTrackDeletionQueue(producer: JobProducer): TrackDeletionQueue {
  return {
    async enqueue(trackId) {
      const data = parseJobPayload(JOB_NAMES.deleteTrack, { trackId });
      await producer.add(JOB_NAMES.deleteTrack, data, {
        ...DELETE_TRACK_JOB_OPTIONS,
        jobId: deleteTrackJobId(trackId),
        removeOnComplete: { age: 24 * 60 * 60, count: 1_000 },
        removeOnFail: { age: 7 * 24 * 60 * 60, count: 5_000 },
      });
    },
  };
}
