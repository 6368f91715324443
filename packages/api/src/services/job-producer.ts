/**
 * The api's producer side of one BullMQ queue (database REDIS_QUEUE_DB, prefix REDIS_KEY_PREFIX). Its connection
 * opens on first use, so instances that never enqueue on a queue hold no connection for it, and it fails fast while
 * Redis is away (no offline queue, one retry, a bounded wait for a fresh connection): every caller has committed or
 * can refuse by then, and the worker's sweepers enqueue what was missed.
 */
import { type ApiEnv, queueRedisUrl } from '@dawg/shared';
import { type JobsOptions, Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

export interface JobProducer {
  add(name: string, data: unknown, opts: JobsOptions): Promise<void>;
  close(): Promise<void>;
}

/** How long an enqueue may wait for a fresh queue connection. */
const READY_TIMEOUT_MS = 2_000;

export function createJobProducer(env: ApiEnv, log: FastifyBaseLogger, queueName: string): JobProducer {
  let connection: Redis | undefined;
  let queue: Queue | undefined;

  function open(): { queue: Queue; connection: Redis } {
    if (queue && connection) return { queue, connection };
    connection = new Redis(queueRedisUrl(env), {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: 2_000,
    });
    connection.on('error', (err: Error) => log.debug({ err, queue: queueName }, 'queue connection error'));
    queue = new Queue(queueName, { connection, prefix: env.REDIS_KEY_PREFIX });
    queue.on('error', (err) => log.warn({ err, queue: queueName }, 'queue error'));
    return { queue, connection };
  }

  return {
    async add(name, data, opts) {
      const { queue: q, connection: c } = open();
      // A fresh connection is not usable until it is ready (no offline queue): wait for it, briefly.
      if (c.status !== 'ready') {
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
      await q.add(name, data, opts);
    },
    async close() {
      await queue?.close().catch(() => undefined);
      if (connection) await connection.quit().catch(() => connection?.disconnect());
    },
  };
}
