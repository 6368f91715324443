import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultRedisUrl, flushPrefix, uniqueRedisPrefix } from '../src/redis';

const cache = new Redis(defaultRedisUrl());
const queue = new Redis(defaultRedisUrl(), { db: 1 });

afterAll(() => {
  cache.disconnect();
  queue.disconnect();
});

describe('redis isolation', () => {
  it('uniqueRedisPrefix() is unique and fits REDIS_KEY_PREFIX', () => {
    const a = uniqueRedisPrefix('my file.test');
    const b = uniqueRedisPrefix('my file.test');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^t:my-file-test:[0-9a-f]{10}$/);
    expect(a).toMatch(/^[A-Za-z0-9:_-]+$/);
    expect(uniqueRedisPrefix()).toMatch(/^t:test:/);
  });

  it('flushPrefix() deletes the prefix in the cache and queue databases, nothing else', async () => {
    const mine = uniqueRedisPrefix('flush');
    const other = uniqueRedisPrefix('flush-other');
    const many = Array.from({ length: 1200 }, (_, i) => [`${mine}:k${i}`, 'v'] as const).flat();
    await cache.mset(...many);
    await cache.set(`${other}:keep`, '1');
    await cache.set(`${mine}x`, 'not under the prefix');
    await queue.hset(`${mine}:generate:1`, 'data', '{}');
    await queue.set(`${other}:generate:1`, '1');

    const deleted = await flushPrefix(defaultRedisUrl(), mine);
    expect(deleted).toBe(1201);
    expect(await cache.exists(`${mine}:k0`, `${mine}:k1199`)).toBe(0);
    expect(await queue.exists(`${mine}:generate:1`)).toBe(0);
    expect(await cache.get(`${other}:keep`)).toBe('1');
    expect(await cache.get(`${mine}x`)).toBe('not under the prefix');
    expect(await queue.get(`${other}:generate:1`)).toBe('1');

    await flushPrefix(defaultRedisUrl(), other);
    await cache.del(`${mine}x`);
    await expect(flushPrefix(defaultRedisUrl(), '')).rejects.toThrow(/non-empty/);
  });
});
