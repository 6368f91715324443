/**
 * Redis connections of the worker. Queues live on database REDIS_QUEUE_DB of the REDIS_URL server (the cache and
 * pub/sub use REDIS_URL's own database), so a cache flush never loses jobs.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { queueRedisUrl, type WorkerEnv } from '@dawg/shared';

/** A connection for BullMQ workers: BullMQ requires maxRetriesPerRequest null (blocking commands must not time out). */
export function createQueueConnection(env: Pick<WorkerEnv, 'REDIS_URL' | 'REDIS_QUEUE_DB'>, opts: RedisOptions = {}) {
  return new Redis(queueRedisUrl(env), { maxRetriesPerRequest: null, ...opts });
}

/**
 * A connection for health checks: no offline queue and one retry, so a ping fails fast when Redis is away instead of
 * waiting for it to come back.
 */
export function createProbeConnection(env: Pick<WorkerEnv, 'REDIS_URL' | 'REDIS_QUEUE_DB'>) {
  return new Redis(queueRedisUrl(env), {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
}

/** CONFIG GET maxmemory-policy; undefined when the server refuses CONFIG (managed Redis often renames it). */
export async function maxmemoryPolicy(redis: Redis): Promise<string | undefined> {
  const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
  if (!Array.isArray(reply)) return undefined;
  const value: unknown = reply[1];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The worker's cache/event connection: REDIS_URL's own database (where the api reads progress streams). Commands
 * queue while reconnecting, and fail after a few retries rather than hanging a job forever.
 */
export function createEventsConnection(env: Pick<WorkerEnv, 'REDIS_URL'>) {
  return new Redis(env.REDIS_URL, {
    maxRetriesPerRequest: 3,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
  });
}
