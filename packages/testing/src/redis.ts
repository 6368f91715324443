/**
 * Redis isolation for tests: every test file takes its own key prefix (REDIS_KEY_PREFIX, which is also the BullMQ
 * prefix), so files share one Redis server without seeing each other's keys, and cleans up by that prefix.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';
/** The queue database of the env schema's default (REDIS_QUEUE_DB). */
export const DEFAULT_QUEUE_DB = 1;

export function defaultRedisUrl(): string {
  return process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;
}

/** `t:<label>:<random>`; the label is reduced to the characters REDIS_KEY_PREFIX allows. */
export function uniqueRedisPrefix(label = 'test'): string {
  const clean =
    label
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'test';
  return `t:${clean}:${randomBytes(5).toString('hex')}`;
}

function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/**
 * Deletes every key under `${prefix}:` in the cache database (the one in `redisUrl`) and in the queue database.
 * Returns how many keys went.
 */
export async function flushPrefix(
  redisUrl: string,
  prefix: string,
  { queueDb = DEFAULT_QUEUE_DB }: { queueDb?: number } = {},
): Promise<number> {
  if (!prefix) throw new Error('flushPrefix needs a non-empty prefix (it would delete everything)');
  const pattern = `${escapeGlob(prefix)}:*`;
  const cache = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  cache.on('error', () => undefined);
  try {
    await cache.connect();
    const cacheDb = (cache.options.db ?? 0) as number;
    let deleted = await deleteMatching(cache, pattern);
    if (queueDb !== cacheDb) {
      await cache.select(queueDb);
      deleted += await deleteMatching(cache, pattern);
    }
    return deleted;
  } finally {
    cache.disconnect();
  }
}
