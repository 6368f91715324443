/**
 * Metrics read when `/metrics` is scraped (or the dashboard asked) rather than counted as things happen: job queue
 * depth per queue and state (BullMQ, database REDIS_QUEUE_DB), this month's ledger spend per kind, the memory limit
 * of the process's container and the used share of the disk it writes to. Each read is bounded so a slow backend
 * only leaves a value stale, never a scrape hanging. Labels come from fixed vocabularies (queue names, job states,
 * usage kinds), so cardinality is bounded.
 */
import { statfs } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { type Database, monthStart } from '@dawg/db';
import { type ApiEnv, QUEUE_NAMES, queueRedisUrl } from '@dawg/shared';
import { Queue } from 'bullmq';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
export type QueueDepths = Record<string, Record<QueueState, number>>;

/** A read that takes longer than this is skipped (the gauge keeps its previous value). */
export const COLLECT_TIMEOUT_MS = 1_500;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface QueueInspector {
  depths(): Promise<QueueDepths>;
  close(): Promise<void>;
}

/** One lazily opened connection to the queue database, shared by a read-only Queue handle per queue. */
export function createQueueInspector(env: ApiEnv, log: FastifyBaseLogger): QueueInspector {
  let connection: Redis | undefined;
  let queues: Queue[] | undefined;
  function open(): Queue[] {
    if (queues) return queues;
    connection = new Redis(queueRedisUrl(env), {
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      commandTimeout: 2_000,
    });
    connection.on('error', (err: Error) => log.debug({ err }, 'queue inspector connection error'));
    const conn = connection;
    queues = Object.values(QUEUE_NAMES).map((name) => {
      const q = new Queue(name, { connection: conn, prefix: env.REDIS_KEY_PREFIX });
      q.on('error', (err) => log.debug({ err, queue: name }, 'queue inspector error'));
      return q;
    });
    return queues;
  }
  return {
    async depths() {
      const result: QueueDepths = {};
      await Promise.all(
        open().map(async (q) => {
          const counts = await q.getJobCounts(...QUEUE_STATES);
          result[q.name] = Object.fromEntries(QUEUE_STATES.map((s) => [s, counts[s] ?? 0])) as Record<
            QueueState,
            number
          >;
        }),
      );
      return result;
    },
    async close() {
      if (queues) await Promise.allSettled(queues.map((q) => q.close()));
      if (connection) await connection.quit().catch(() => connection?.disconnect());
    },
  };
}

/** This month's ledger spend per usage kind, in micro-dollars. */
export async function monthSpendByKind(db: Kysely<Database>, now = new Date()): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('usage_events')
    .select(['kind', (eb) => eb.fn.sum<string | number>('cost_micro').as('total')])
    .where('occurred_at', '>=', monthStart(now))
    .groupBy('kind')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.kind, Number(r.total)]));
}

/** The container's memory limit (cgroup v2, then v1), else the machine's memory. */
export async function memoryLimitBytes(): Promise<number> {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const text = (await readFile(file, 'utf8')).trim();
      const value = Number(text);
      // "max" or v1's "no limit" (a number near 2^63) mean unlimited.
      if (Number.isFinite(value) && value > 0 && value < os.totalmem()) return value;
    } catch {
      // not in a cgroup with a limit
    }
  }
  return os.totalmem();
}

/** Used share (0..1) of the filesystem holding `dir`. */
export async function diskUsedRatio(dir: string): Promise<number> {
  const s = await statfs(dir);
  if (s.blocks === 0) return 0;
  // Like df: used / (used + available to unprivileged users).
  const used = s.blocks - s.bfree;
  return used / (used + s.bavail);
}

export interface CollectorDeps {
  db: Kysely<Database>;
  queues: QueueInspector;
  log: FastifyBaseLogger;
  /** The directory whose filesystem `disk_used_ratio` reports (the working directory by default). */
  diskPath?: string;
}

/** Registers the scrape-time gauges on `registry`. */
export function registerCollectors(registry: Registry, deps: CollectorDeps): void {
  const log = deps.log;
  new Gauge({
    name: 'queue_depth',
    help: 'Jobs in each queue by state (waiting, active, delayed, prioritized, failed)',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      try {
        const depths = await withTimeout(deps.queues.depths(), COLLECT_TIMEOUT_MS, 'queue depth');
        for (const [queue, states] of Object.entries(depths)) {
          for (const state of QUEUE_STATES) this.set({ queue, state }, states[state]);
        }
      } catch (err) {
        log.debug({ err }, 'queue depth not collected');
      }
    },
  });
  new Gauge({
    name: 'ledger_spend_month_micro_usd',
    help: 'AI spend recorded in the ledger since the start of this month, by kind (micro-dollars)',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      try {
        const spend = await withTimeout(monthSpendByKind(deps.db), COLLECT_TIMEOUT_MS, 'ledger spend');
        this.reset();
        for (const [kind, total] of Object.entries(spend)) this.set({ kind }, total);
      } catch (err) {
        log.debug({ err }, 'ledger spend not collected');
      }
    },
  });
  new Gauge({
    name: 'process_memory_limit_bytes',
    help: 'Memory available to this process: the container limit, else the machine total',
    registers: [registry],
    async collect() {
      this.set(await memoryLimitBytes());
    },
  });
  const diskPath = deps.diskPath ?? process.cwd();
  new Gauge({
    name: 'disk_used_ratio',
    help: 'Used share (0..1) of the filesystem holding the working directory',
    registers: [registry],
    async collect() {
      try {
        this.set(await diskUsedRatio(diskPath));
      } catch (err) {
        log.debug({ err }, 'disk usage not collected');
      }
    },
  });
}
