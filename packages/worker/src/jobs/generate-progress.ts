/**
 * Publishes a generation's progress events to its Redis Stream (`${prefix}:gen:<id>:events`). The stream entry id
 * is the event's id end to end: the api's subscription yields it as the `tracked()` id, so a client that reconnects
 * with it resumes exactly after it, on any api instance. Streams are trimmed (approximate MAXLEN) and expire: a day
 * while the job may still run, an hour after the final event.
 */
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
  return {
    async publish(update) {
      const event: GenerationProgressEvent = { generationId, ...update, at: Date.now() };
      const ttl = isTerminalStatus(update.status) ? GENERATION_EVENTS_DONE_TTL_SEC : GENERATION_EVENTS_TTL_SEC;
      try {
        const results = await redis
          .multi()
          .xadd(key, 'MAXLEN', '~', GENERATION_EVENTS_MAXLEN, '*', GENERATION_EVENT_FIELD, JSON.stringify(event))
          .expire(key, ttl)
          .exec();
        const [err, id] = results?.[0] ?? [new Error('transaction discarded'), null];
        if (err) throw err;
        return id as string;
      } catch (err) {
        // Progress is a view of the row; a job must not fail because the event bus hiccupped.
        log?.warn({ err: (err as Error).message, generationId, stage: update.stage }, 'progress event not published');
        return null;
      }
    },
  };
}
