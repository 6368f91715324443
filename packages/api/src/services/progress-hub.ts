/**
 * Generation progress over the process's one stream reader (services/stream-hub): the generation's stream key, and
 * each entry parsed into a progress event (entries that do not parse are skipped). `createProgressHub` without a
 * `hub` opens its own reader (benchmarks); the api passes the shared one.
 */
import {
  GENERATION_EVENT_FIELD,
  generationEventsKey,
  generationProgressEventSchema,
  type GenerationProgressEvent,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { createStreamHub, type StreamEntry, type StreamHub } from './stream-hub';

export { compareStreamIds, isStreamId } from './stream-hub';

export interface ProgressEntry {
  /** The Redis Stream entry id (`<ms>-<seq>`). */
  id: string;
  event: GenerationProgressEvent;
}

export type ProgressListener = (entry: ProgressEntry) => void;

export interface ProgressHub {
  /** Deliver entries of the generation's stream appended from now on; returns the unsubscribe function. */
  subscribe(generationId: string, listener: ProgressListener): Promise<() => void>;
  /** Entries after `after` (exclusive; null = from the start), oldest first. */
  range(generationId: string, after: string | null): Promise<ProgressEntry[]>;
  /** The id of the stream's newest entry; null when the stream does not exist. */
  lastId(generationId: string): Promise<string | null>;
  /** Streams currently read (for tests and metrics). */
  readonly streamCount: number;
  close(): Promise<void>;
}

function parseEntry(entry: StreamEntry): ProgressEntry | null {
  const value = entry.fields[GENERATION_EVENT_FIELD];
  if (value === undefined) return null;
  try {
    const parsed = generationProgressEventSchema.safeParse(JSON.parse(value));
    return parsed.success ? { id: entry.id, event: parsed.data } : null;
  } catch {
    return null;
  }
}

export function createProgressHub(opts: {
  redisUrl: string;
  redis: Redis;
  prefix: string;
  log: FastifyBaseLogger;
  /** The process's shared reader; without it the hub opens (and closes) its own. */
  hub?: StreamHub;
}): ProgressHub {
  const hub = opts.hub ?? createStreamHub(opts);
  const keyOf = (generationId: string) => generationEventsKey(opts.prefix, generationId);
  return {
    get streamCount() {
      return hub.streamCount;
    },
    subscribe(generationId, listener) {
      return hub.subscribe(keyOf(generationId), (raw) => {
        const entry = parseEntry(raw);
        if (entry) listener(entry);
      });
    },
    async range(generationId, after) {
      const entries = await hub.range(keyOf(generationId), after);
      return entries.map(parseEntry).filter((e): e is ProgressEntry => e !== null);
    },
    lastId: (generationId) => hub.lastId(keyOf(generationId)),
    async close() {
      if (!opts.hub) await hub.close();
    },
  };
}
