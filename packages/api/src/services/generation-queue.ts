/**
 * The producer of `generate` jobs. The job id is the generation's id, so enqueueing twice (the api after commit,
 * the worker's sweeper, a retried request) never makes two jobs. Its queue connection (REDIS_QUEUE_DB, prefix
 * REDIS_KEY_PREFIX) fails fast while Redis is away: the row is committed by then, and the sweeper enqueues it later.
 */
import { type ApiEnv, GENERATE_JOB_OPTIONS, JOB_NAMES, parseJobPayload, QUEUE_NAMES } from '@dawg/shared';
import { Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { queueRedisUrl } from './account-deletion-queue';

export interface GenerationQueue {
  enqueue(generationId: string): Promise<void>;
  close(): Promise<void>;
}

export function createGenerationQueue(env: ApiEnv, log: FastifyBaseLogger): GenerationQueue {
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
    connection.on('error', (err: Error) => log.debug({ err }, 'generation queue connection error'));
    queue = new Queue(QUEUE_NAMES.generate, { connection, prefix: env.REDIS_KEY_PREFIX });
    queue.on('error', (err) => log.warn({ err }, 'generation queue error'));
    return queue;
  }

  return {
    async enqueue(generationId) {
      const q = open();
      // A fresh connection is not usable until it is ready (no offline queue): wait for it briefly.
      if (connection && connection.status !== 'ready') await q.waitUntilReady();
      const data = parseJobPayload(JOB_NAMES.generate, { generationId });
      await q.add(JOB_NAMES.generate, data, { ...GENERATE_JOB_OPTIONS, jobId: generationId });
    },
    async close() {
      await queue?.close().catch(() => undefined);
      if (connection) await connection.quit().catch(() => connection?.disconnect());
    },
  };
}
