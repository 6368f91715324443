/**
 * The api process's ONE reader of Redis Streams (generation progress and AI producer turns alike). A single loop on
 * a dedicated ioredis connection runs a blocking XREAD over every stream that has a subscriber and fans each entry
 * out in-process to that stream's listeners. Adding a stream wakes the blocked read at once (CLIENT UNBLOCK from the
 * main connection), so a new subscriber waits for nothing; a lost connection keeps every stream's cursor, so nothing
 * is skipped when it comes back. Listeners get entries appended after they registered (and perhaps a few before):
 * they deduplicate by stream id, which is also the id they give their clients.
 */
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

export interface StreamEntry {
  /** The Redis Stream entry id (`<ms>-<seq>`). */
  id: string;
  /** The entry's field/value pairs. */
  fields: Record<string, string>;
}

export type StreamListener = (entry: StreamEntry) => void;

export interface StreamHub {
  /** Deliver entries of the stream at `key` appended from now on; returns the unsubscribe function. */
  subscribe(key: string, listener: StreamListener): Promise<() => void>;
  /** Entries after `after` (exclusive; null = from the start), oldest first. */
  range(key: string, after: string | null): Promise<StreamEntry[]>;
  /** The id of the stream's newest entry; null when the stream does not exist. */
  lastId(key: string): Promise<string | null>;
  /** Streams currently read (for tests and metrics). */
  readonly streamCount: number;
  close(): Promise<void>;
}

const STREAM_ID = /^(\d+)-(\d+)$/;

export function isStreamId(value: string): boolean {
  return STREAM_ID.test(value);
}

/** Orders stream ids numerically (`10-0` > `9-5`). */
export function compareStreamIds(a: string, b: string): number {
  const [, am = '0', as = '0'] = STREAM_ID.exec(a) ?? [];
  const [, bm = '0', bs = '0'] = STREAM_ID.exec(b) ?? [];
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

export type RawEntry = [id: string, fields: string[]];

export function toStreamEntry([id, list]: RawEntry): StreamEntry {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) fields[list[i]!] = list[i + 1]!;
  return { id, fields };
}

/** Upper bound on one blocking read: the loop re-reads its stream set at least this often, whatever happens. */
const BLOCK_MS = 2_000;
const READ_COUNT = 200;
const RETRY_MS = 250;

interface StreamState {
  cursor: string;
  listeners: Set<StreamListener>;
}

export function createStreamHub(opts: {
  redisUrl: string;
  /** The main connection: answers range/lastId and sends CLIENT UNBLOCK to the reader. */
  redis: Redis;
  log: FastifyBaseLogger;
}): StreamHub {
  const { redis, log } = opts;
  const streams = new Map<string, StreamState>();
  let reader: Redis | undefined;
  let readerId: number | undefined;
  let blocked = false;
  let closed = false;
  let loop: Promise<void> | undefined;
  let wakeIdle: (() => void) | undefined;

  function openReader(): Redis {
    const r = new Redis(opts.redisUrl, {
      connectionName: 'dawg-api-streams',
      // A blocking read must not time out, and a read cut by a disconnect must fail (not be replayed on the new
      // connection) so the loop learns the new connection's id before blocking again.
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    });
    r.on('error', (err: Error) => log.debug({ err }, 'stream reader connection error'));
    r.on('close', () => {
      readerId = undefined;
    });
    return r;
  }

  /** Makes a blocked XREAD return now, so the next one includes a stream just added. */
  function interrupt(): void {
    wakeIdle?.();
    if (!blocked || readerId === undefined || redis.status !== 'ready') return;
    redis.client('UNBLOCK', readerId).catch(() => undefined);
  }

  function idle(): Promise<void> {
    return new Promise((resolve) => {
      wakeIdle = () => {
        wakeIdle = undefined;
        resolve();
      };
    });
  }

  async function run(): Promise<void> {
    reader = openReader();
    while (!closed) {
      if (streams.size === 0) {
        await idle();
        continue;
      }
      const keys = [...streams.keys()];
      const cursors = keys.map((k) => streams.get(k)!.cursor);
      let reply: [key: string, entries: RawEntry[]][] | null;
      try {
        if (readerId === undefined) readerId = (await reader.client('ID')) as number;
        blocked = true;
        reply = (await reader.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', ...keys, ...cursors)) as
          [string, RawEntry[]][] | null;
      } catch (err) {
        if (closed) break;
        readerId = undefined;
        log.debug({ err }, 'stream read failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      } finally {
        blocked = false;
      }
      for (const [key, entries] of reply ?? []) {
        const state = streams.get(key);
        if (!state) continue;
        for (const raw of entries) {
          // A stream removed and re-added during the read has a newer cursor: never move it back.
          if (compareStreamIds(raw[0], state.cursor) <= 0) continue;
          state.cursor = raw[0];
          const entry = toStreamEntry(raw);
          for (const listener of state.listeners) {
            try {
              listener(entry);
            } catch (err) {
              log.error({ err }, 'stream listener failed');
            }
          }
        }
      }
    }
  }

  async function lastId(key: string): Promise<string | null> {
    const newest = (await redis.xrevrange(key, '+', '-', 'COUNT', 1)) as RawEntry[];
    return newest[0]?.[0] ?? null;
  }

  return {
    get streamCount() {
      return streams.size;
    },
    async subscribe(key, listener) {
      if (closed) throw new Error('stream hub is closed');
      let state = streams.get(key);
      if (!state) {
        const cursor = (await lastId(key)) ?? '0-0';
        state = streams.get(key) ?? { cursor, listeners: new Set() };
        streams.set(key, state);
        state.listeners.add(listener);
        interrupt();
      } else {
        state.listeners.add(listener);
      }
      loop ??= run().catch((err: unknown) => log.error({ err }, 'stream reader stopped'));
      const subscribed = state;
      return () => {
        subscribed.listeners.delete(listener);
        if (subscribed.listeners.size === 0 && streams.get(key) === subscribed) streams.delete(key);
      };
    },
    async range(key, after) {
      const start = after === null ? '-' : `(${after}`;
      const entries = (await redis.xrange(key, start, '+')) as RawEntry[];
      return entries.map(toStreamEntry);
    },
    lastId,
    async close() {
      closed = true;
      streams.clear();
      wakeIdle?.();
      if (reader) reader.disconnect();
      await loop;
    },
  };
}
