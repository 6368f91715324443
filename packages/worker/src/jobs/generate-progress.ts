/**
 * Publishes a generation's progress events to its Redis Stream (`${prefix}:gen:<id>:events`). The stream entry id
 * is the event's id end to end: the api's subscription yields it as the `tracked()` id, so a client that reconnects
 * with it resumes exactly after it, on any api instance. Streams are trimmed (approximate MAXLEN) and expire: a day
 * while the job may still run, an hour after the final event. A publisher writes on the next turn of the event loop
 * and keeps one write in flight: the events published until then are written together, in order.
 */
import { createHash } from 'node:crypto';
import {
  GENERATION_EVENT_FIELD,
  GENERATION_EVENTS_DONE_TTL_SEC,
  GENERATION_EVENTS_MAXLEN,
  GENERATION_EVENTS_TTL_SEC,
  generationEventsKey,
  isTerminalStatus,
  type GenerationProgressEvent,
} from '@dawg/shared';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/**
 * Appends events to a stream and sets its TTL, atomically, in one command: KEYS[1] the stream; ARGV the entry's
 * field, the approximate MAXLEN, the TTL in seconds, then one JSON entry per event. Returns their ids, in order.
 */
const APPEND_SCRIPT = `local ids = {}
for i = 4, #ARGV do
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', ARGV[1], ARGV[i])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return ids`;
const APPEND_SHA = createHash('sha1').update(APPEND_SCRIPT).digest('hex');

export type ProgressUpdate = Omit<GenerationProgressEvent, 'generationId' | 'at'>;

export interface ProgressPublisher {
  /** The stream id of the event, or null when Redis refused it (the row stays the source of truth). */
  publish(update: ProgressUpdate): Promise<string | null>;
}

export function createProgressPublisher(
  redis: Redis,
  prefix: string,
  generationId: string,
  log?: Pick<Logger, 'warn'>,
): ProgressPublisher {
  const key = generationEventsKey(prefix, generationId);
  /** Events not written yet; they go out together, in order, in the next write. */
  let queued: { update: ProgressUpdate; entry: string; done(id: string | null): void }[] = [];
  /** A write is scheduled or in flight. */
  let writing = false;

  async function write(): Promise<void> {
    while (queued.length > 0) {
      const batch = queued;
      queued = [];
      // The stream's TTL follows its latest event: a day while the job runs, an hour once it ended.
      const last = batch[batch.length - 1]!.update;
      const ttl = isTerminalStatus(last.status) ? GENERATION_EVENTS_DONE_TTL_SEC : GENERATION_EVENTS_TTL_SEC;
      let ids: unknown[] | null = null;
      let failure: Error | null = null;
      try {
        const args = [GENERATION_EVENT_FIELD, GENERATION_EVENTS_MAXLEN, ttl, ...batch.map((e) => e.entry)];
        ids = (await redis.evalsha(APPEND_SHA, 1, key, ...args).catch((err: Error) => {
          if (!err.message.startsWith('NOSCRIPT')) throw err;
          return redis.eval(APPEND_SCRIPT, 1, key, ...args);
        })) as unknown[];
      } catch (err) {
        failure = err as Error;
      }
      batch.forEach((e, i) => {
        const id = ids?.[i];
        if (typeof id === 'string') {
          e.done(id);
          return;
        }
        // Progress is a view of the row; a job must not fail because the event bus hiccupped.
        log?.warn(
          { err: (failure ?? new Error('no stream id')).message, generationId, stage: e.update.stage },
          'progress event not published',
        );
        e.done(null);
      });
    }
    writing = false;
  }

  return {
    publish(update) {
      const event: GenerationProgressEvent = { generationId, ...update, at: Date.now() };
      return new Promise<string | null>((done) => {
        queued.push({ update, entry: JSON.stringify(event), done });
        // Written on the next turn of the event loop, with every event published until then and, while that write
        // is in flight, the next batch after it: one script call each (every XADD, then the EXPIRE), so a burst of
        // stages costs one round trip, not one each.
        if (!writing) {
          writing = true;
          setImmediate(() => void write());
        }
      });
    },
  };
}
