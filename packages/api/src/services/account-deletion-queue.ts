/**
 * The producer of `maintenance.delete-account` jobs (the worker removes the account's S3 objects and rows). Its
 * BullMQ queue connection (database REDIS_QUEUE_DB, prefix REDIS_KEY_PREFIX, like every producer) opens on first
 * use, so api instances that never close an account hold no extra connection.
 */
import { type ApiEnv, JOB_NAMES, parseJobPayload, QUEUE_NAMES } from '@dawg/shared';
import { Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

export interface AccountDeletionQueue {
  /** Idempotent per user (the job id is derived from the user id). */
  enqueue(userId: string): Promise<void>;
  close(): Promise<void>;
}

/** REDIS_URL with its database replaced by REDIS_QUEUE_DB. */
export function queueRedisUrl(env: Pick<ApiEnv, 'REDIS_URL' | 'REDIS_QUEUE_DB'>): string {
  const url = new URL(env.REDIS_URL);
  url.pathname = `/${env.REDIS_QUEUE_DB}`;
  return url.toString();
}

export function deleteAccountJobId(userId: string): string {
  return `delete-account-${userId}`;
}

export function createAccountDeletionQueue(env: ApiEnv, log: FastifyBaseLogger): AccountDeletionQueue {
  let connection: Redis | undefined;
  let queue: Queue | undefined;

  function open(): Queue {
    if (queue) return queue;
    connection = new Redis(queueRedisUrl(env), {
      // Enqueueing fails fast while Redis is away: the caller answers 503 and nothing was changed.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
    });
    connection.on('error', (err: Error) => log.debug({ err }, 'account deletion queue connection error'));
    queue = new Queue(QUEUE_NAMES.maintenance, { connection, prefix: env.REDIS_KEY_PREFIX });
    queue.on('error', (err) => log.warn({ err }, 'account deletion queue error'));
    return queue;
  }

  return {
    async enqueue(userId) {
      const data = parseJobPayload(JOB_NAMES.deleteAccount, { userId });
      await open().add(JOB_NAMES.deleteAccount, data, {
        jobId: deleteAccountJobId(userId),
        attempts: 5,
        backoff: { type: 'exponential', delay: 5_000 },
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
