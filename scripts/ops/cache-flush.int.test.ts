/**
 * `pnpm ops:cache-flush` deletes the prefix's keys in the cache database and never touches the queue database, and
 * refuses outright when REDIS_URL selects the queue database.
 */
import { DEFAULT_QUEUE_DB, defaultRedisUrl, flushPrefix, uniqueRedisPrefix } from '@dawg/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript } from './run-script';

const prefix = uniqueRedisPrefix('cacheflush');
const cacheUrl = defaultRedisUrl();
const queueUrl = (() => {
  const u = new URL(cacheUrl);
  u.pathname = `/${DEFAULT_QUEUE_DB}`;
  return u.toString();
})();

afterAll(async () => {
  await flushPrefix(cacheUrl, prefix);
  await flushPrefix(queueUrl, prefix);
});

describe('ops:cache-flush', () => {
  it('deletes the cache keys of the prefix only, and leaves the queue database alone', async () => {
    const cache = new Redis(cacheUrl);
    const queue = new Redis(queueUrl);
    try {
      await cache.mset(`${prefix}:rl:a`, '1', `${prefix}:rl:b`, '2', `${prefix}x:other`, 'keep');
      await queue.set(`${prefix}:bull:generate:1`, 'job');
      const env = { REDIS_URL: cacheUrl, REDIS_QUEUE_DB: String(DEFAULT_QUEUE_DB), REDIS_KEY_PREFIX: prefix };

      const dry = await runScript('scripts/ops/cache-flush.ts', ['--dry-run'], env);
      expect(dry.stdout).toContain(`would delete 2 keys under ${prefix}:*`);
      expect(await cache.exists(`${prefix}:rl:a`)).toBe(1);

      const real = await runScript('scripts/ops/cache-flush.ts', [], env);
      expect(real.code).toBe(0);
      expect(real.stdout).toContain(`deleted 2 keys under ${prefix}:*`);
      expect(await cache.exists(`${prefix}:rl:a`, `${prefix}:rl:b`)).toBe(0);
      expect(await cache.get(`${prefix}x:other`)).toBe('keep');
      expect(await queue.get(`${prefix}:bull:generate:1`)).toBe('job');

      const refused = await runScript('scripts/ops/cache-flush.ts', [], { ...env, REDIS_URL: queueUrl });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('REDIS_QUEUE_DB (the job queues): refusing');
      expect(await queue.get(`${prefix}:bull:generate:1`)).toBe('job');
    } finally {
      await cache.del(`${prefix}x:other`);
      cache.disconnect();
      queue.disconnect();
    }
  });
});
