/**
 * The runbook's cache flush (seed post-rollback "Clear Redis cache"), made safe: deletes the keys under
 * REDIS_KEY_PREFIX in the cache database (REDIS_URL's database) and nothing else. It refuses when that database is
 * REDIS_QUEUE_DB, where the job queues live: the seed's `redis-cli FLUSHDB` there would drop every queued generation.
 * Rate-limit counters and live progress streams are cache too (clients re-subscribe; limits restart their window).
 *
 *   pnpm ops:cache-flush --dry-run
 *   pnpm ops:cache-flush
 */
import { Redis } from 'ioredis';
import { type CommandSpec, isMain, numberOption, parseArgs, run, UsageError } from './cli';

export function redisDb(url: string): number {
  const path = new URL(url).pathname.replace(/^\//, '');
  return path === '' ? 0 : Number(path);
}

export async function flushCache(opts: {
  redisUrl: string;
  queueDb: number;
  prefix: string;
  dryRun: boolean;
}): Promise<{ db: number; keys: number }> {
  const db = redisDb(opts.redisUrl);
  if (db === opts.queueDb) {
    throw new UsageError(
      `REDIS_URL selects database ${db}, which is REDIS_QUEUE_DB (the job queues): refusing to flush it`,
    );
  }
  if (!/^[\w.:-]+$/.test(opts.prefix)) throw new UsageError(`REDIS_KEY_PREFIX "${opts.prefix}" is not a plain prefix`);
  const redis = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let keys = 0;
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${opts.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (batch.length > 0 && !opts.dryRun) await redis.unlink(...batch);
      keys += batch.length;
    } while (cursor !== '0');
    return { db, keys };
  } finally {
    redis.disconnect();
  }
}

export const cacheFlushCommand: CommandSpec = {
  usage: 'pnpm ops:cache-flush [--dry-run]',
  description:
    'Deletes every key under REDIS_KEY_PREFIX in the cache database (REDIS_URL), never the queue database\n' +
    '(REDIS_QUEUE_DB): refuses when both are the same.',
  options: [
    { name: 'redis-url', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379', help: 'the cache Redis' },
    { name: 'queue-db', env: 'REDIS_QUEUE_DB', default: '1', help: 'the database of the job queues' },
    { name: 'prefix', env: 'REDIS_KEY_PREFIX', default: 'dawg', help: 'the key prefix' },
    { name: 'dry-run', flag: true, help: 'count the keys, delete nothing' },
  ],
  epilogue: 'Exit codes: 0 flushed (or counted), 1 Redis failed, 2 bad usage or the queue database selected.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(cacheFlushCommand);
    const dryRun = values['dry-run'] === 'true';
    const { db, keys } = await flushCache({
      redisUrl: values['redis-url']!,
      queueDb: numberOption(values, 'queue-db'),
      prefix: values.prefix!,
      dryRun,
    });
    process.stdout.write(
      `cache-flush: ${dryRun ? 'would delete' : 'deleted'} ${keys} keys under ${values.prefix}:* in database ${db}\n`,
    );
    return 0;
  });
}
