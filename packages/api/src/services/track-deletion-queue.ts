/**
 * The producer of `maintenance.delete-track` jobs (the worker removes a soft-deleted track's clips, S3 objects and
 * row, retrying with backoff). The job id is derived from the track id, so deleting twice or a sweep never makes two
 * jobs. Fails fast while Redis is away: the row is already hidden by then, and the `purge-deleted-tracks` sweeper
 * enqueues it later.
 */
import {
  type ApiEnv,
  DELETE_TRACK_JOB_OPTIONS,
  deleteTrackJobId,
  JOB_NAMES,
  parseJobPayload,
  QUEUE_NAMES,
} from '@dawg/shared';
import { Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { queueRedisUrl } from './account-deletion-queue';

export interface TrackDeletionQueue {
  enqueue(trackId: string): Promise<void>;
  close(): Promise<void>;
}

/** How long an enqueue may wait for a fresh queue connection. */
const READY_TIMEOUT_MS = 2_000;

export function createTrackDeletionQueue(env: ApiEnv, log: FastifyBaseLogger): TrackDeletionQueue {
  let connection: Redis | undefined;
  let queue: Queue | undefined;

  function open(): Queue {
    if (queue) return queue;
    connection = new Redis(queueRedisUrl(env), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: 2_000,
    });
    connection.on('error', (err: Error) => log.debug({ err }, 'track deletion queue connection error'));
    queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix: env.REDIS_KEY_PREFIX });
    queue.on('error', (err) => log.warn({ err }, 'track deletion queue error'));
    return queue;
  }

  return {
    async enqueue(trackId) {
      const q = open();
      if (connection && connection.status !== 'ready') {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('the queue connection is not ready')), READY_TIMEOUT_MS);
        });
        try {
          await Promise.race([q.waitUntilReady(), timeout]);
        } finally {
          clearTimeout(timer);
        }
      }
      const data = parseJobPayload(JOB_NAMES.deleteTrack, { trackId });
      await q.add(JOB_NAMES.deleteTrack, data, {
        ...DELETE_TRACK_JOB_OPTIONS,
        jobId: deleteTrackJobId(trackId),
        removeOnComplete: { age: 24 * 60 * 60, count: 1_000 },
        removeOnFail: { age: 7 * 24 * 60 * 60, count: 5_000 },
      });
    },
    async close() {
      await queue?.close().catch(() => undefined);
      if (connection) await connection.quit().catch(() => connection?.disconnect());
    },
  };
}
