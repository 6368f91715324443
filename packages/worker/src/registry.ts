/**
 * Job definitions and the registry the worker dispatches from. Each job has a name, the queue it runs on, a zod
 * payload schema (checked when the job is consumed, since producers and consumers deploy separately) and exactly one
 * handler; the registry refuses to exist if a name is defined twice or an expected job has no handler.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { UnrecoverableError, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Database } from '@dawg/db';
import type { WorkerEnv } from '@dawg/shared';

/** What a handler may know of its BullMQ job (a BullMQ `Job` satisfies it). */
export interface JobInfo {
  id?: string | undefined;
  name: string;
  queueName: string;
  /** Attempts that already ended (failed) before this one. */
  attemptsMade: number;
  timestamp: number;
  /** The options it was added with (BullMQ's `attempts`: how many runs a failure may take in total). */
  opts?: { attempts?: number };
}

export interface JobContext {
  job: JobInfo;
  /** Aborted when the job is cancelled or the worker's shutdown deadline passes: pass it to every fetch and spawn. */
  signal: AbortSignal;
  /** Bound to the job's name and id; log ids, never payloads. */
  log: Logger;
  /** BullMQ job progress (a percentage or a small object), visible to QueueEvents listeners. */
  progress(p: number | object): Promise<void>;
  db: Kysely<Database>;
  env: WorkerEnv;
  /** The audio bucket (AWS_* / S3_ENDPOINT). */
  s3: S3Client;
  /** Cache and event connection (REDIS_URL's own database, not the queue database); keys go through `redisKey`. */
  redis: Redis;
  /** `${REDIS_KEY_PREFIX}:a:b`, as in the api. */
  redisKey(...parts: string[]): string;
  /** A producer for a queue, sharing the worker's queue connection (jobs that enqueue other jobs). */
  queue(name: string): Queue;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType, R = unknown> {
  name: string;
  queue: string;
  schema: S;
  // Method syntax on purpose: a definition with a narrow payload type must fit in a list of any definitions.
  handler(payload: z.output<S>, ctx: JobContext): Promise<R> | R;
  /** Repeat this job every `everyMs` with `data` (a BullMQ job scheduler, upserted by every worker at start). */
  schedule?: { everyMs: number; data: z.input<S> };
}

export type AnyJobDefinition = JobDefinition<z.ZodType, unknown>;

export function defineJob<S extends z.ZodType, R>(def: JobDefinition<S, R>): JobDefinition<S, R> {
  return def;
}

export class JobRegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobRegistryError';
  }
}

export interface JobRegistry {
  readonly definitions: readonly AnyJobDefinition[];
  /** Queues that have at least one job, sorted. */
  readonly queues: readonly string[];
  get(name: string): AnyJobDefinition | undefined;
  forQueue(queue: string): AnyJobDefinition[];
  /**
   * The definition and validated payload of a consumed job. An unknown name or an invalid payload is an
   * UnrecoverableError: retrying cannot fix it, so BullMQ fails the job at once with the reason.
   */
  parse(name: string, data: unknown): { def: AnyJobDefinition; payload: unknown };
}

/** BullMQ builds keys as `<prefix>:<queue>:...`; a colon in a queue name would collide with that layout. */
const QUEUE_NAME = /^[A-Za-z0-9_-]+$/;

export interface JobRegistryOptions {
  /** Job names that must have a handler. */
  expected?: readonly string[];
  /**
   * The system's job catalog (@dawg/shared JOBS): each entry must have a handler on the same queue, unless it is
   * deferred.
   */
  catalog?: Readonly<Record<string, { queue: string }>>;
  /**
   * Catalog jobs whose handlers have not been written yet. A deferred name that does have a handler is an error too,
   * so the list cannot go stale.
   */
  deferred?: readonly string[];
}

export function createJobRegistry(
  defs: readonly AnyJobDefinition[],
  { expected = [], catalog = {}, deferred = [] }: JobRegistryOptions = {},
): JobRegistry {
  const byName = new Map<string, AnyJobDefinition>();
  const duplicates = new Set<string>();
  for (const def of defs) {
    if (!def.name) throw new JobRegistryError('a job definition has no name');
    if (!QUEUE_NAME.test(def.queue)) {
      throw new JobRegistryError(`job "${def.name}": queue name "${def.queue}" must match ${QUEUE_NAME}`);
    }
    if (typeof def.handler !== 'function') throw new JobRegistryError(`job "${def.name}" has no handler function`);
    if (byName.has(def.name)) duplicates.add(def.name);
    byName.set(def.name, def);
  }
  if (duplicates.size > 0) {
    throw new JobRegistryError(`jobs defined more than once: ${[...duplicates].sort().join(', ')}`);
  }
  const deferredSet = new Set(deferred);
  const stale = [...deferredSet].filter((name) => byName.has(name)).sort();
  if (stale.length > 0) {
    throw new JobRegistryError(`jobs listed as deferred but having a handler: ${stale.join(', ')}`);
  }
  const required = new Set([...expected, ...Object.keys(catalog)]);
  const missing = [...required].filter((name) => !byName.has(name) && !deferredSet.has(name)).sort();
  if (missing.length > 0) throw new JobRegistryError(`jobs without a handler: ${missing.join(', ')}`);
  for (const [name, entry] of Object.entries(catalog)) {
    const def = byName.get(name);
    if (def && def.queue !== entry.queue) {
      throw new JobRegistryError(
        `job "${name}" runs on queue "${def.queue}" but producers send it to "${entry.queue}"`,
      );
    }
  }

  const queues = [...new Set(defs.map((d) => d.queue))].sort();
  return {
    definitions: [...defs],
    queues,
    get: (name) => byName.get(name),
    forQueue: (queue) => defs.filter((d) => d.queue === queue),
    parse(name, data) {
      const def = byName.get(name);
      if (!def) throw new UnrecoverableError(`no handler for job "${name}"`);
      const result = def.schema.safeParse(data);
      if (!result.success) {
        const reasons = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
        throw new UnrecoverableError(`invalid payload for job "${name}": ${reasons}`);
      }
      return { def, payload: result.data };
    },
  };
}
