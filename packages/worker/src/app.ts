/**
 * The worker application: one BullMQ Worker per queue of the registered jobs, a small HTTP server for /health and
 * /metrics, and graceful shutdown. At SIGTERM it stops taking jobs, lets running ones finish until the deadline, then
 * aborts them and hands them back to the queue (waiting, attempts untouched) so another worker picks them up: a job
 * is never lost or failed because a process was stopped.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { DelayedError, Queue, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createDb, type Database } from '@dawg/db';
import {
  jobCancelChannel,
  jobCancelMessageSchema,
  sunoWakeChannel,
  sunoWakeMessageSchema,
  type WorkerEnv,
} from '@dawg/shared';
import { KEEP_COMPLETED, KEEP_FAILED, MAX_STALLED_COUNT } from './job-options';
import { createLogger } from './logger';
import { wakeSuno } from './providers/suno-wake';
import { createErrorReporter } from './error-reporter';
import { databaseRetryDelayMs, isDatabaseDown, MAX_DATABASE_DEFERRALS } from './db-unavailable';
import { setProviderObserver } from './providers/observe';
import { createWorkerMetrics, type JobOutcome } from './metrics';
import { createEventsConnection, createProbeConnection, createQueueConnection, maxmemoryPolicy } from './redis';
import { createJobRegistry, type AnyJobDefinition, type JobContext, type JobRegistry } from './registry';
import { createS3 } from './s3';

export interface WorkerAppOptions {
  env: WorkerEnv;
  jobs: JobRegistry | readonly AnyJobDefinition[];
  logger?: Logger;
  /** Use this database instead of opening one from DATABASE_URL (the caller then owns and closes it). */
  db?: Kysely<Database>;
  /** Use this S3 client instead of one built from the env (the caller then owns it). */
  s3?: S3Client;
}

export interface WorkerApp {
  /** Connects, starts consuming and listens on WORKER_PORT. */
  start(): Promise<void>;
  /** Graceful stop; running jobs get `deadlineMs` (default SHUTDOWN_TIMEOUT_MS) before they are handed back. */
  close(deadlineMs?: number): Promise<void>;
  /** The port /health and /metrics listen on (the real one when WORKER_PORT is 0). */
  port(): number;
  url(): string;
  readonly registry: JobRegistry;
  readonly metrics: Registry;
  readonly db: Kysely<Database>;
}

export interface WorkerHealth {
  status: 'healthy' | 'degraded' | 'shutting_down';
  service: 'worker';
  timestamp: string;
  connections: { redis: boolean; database: boolean };
  queues: string[];
  uptime: number;
}

/** The reason given to a job's AbortSignal when the shutdown deadline passes. */
export class ShutdownAbort extends Error {
  constructor() {
    super('worker shutting down: job handed back to the queue');
    this.name = 'ShutdownAbort';
  }
}

const PING_TIMEOUT_MS = 2_000;
/** After aborting running jobs, how long their hand-back may take before connections are dropped regardless. */
const HAND_BACK_GRACE_MS = 5_000;

function isRegistry(jobs: WorkerAppOptions['jobs']): jobs is JobRegistry {
  return !Array.isArray(jobs) && typeof (jobs as JobRegistry).parse === 'function';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A sleep that cancel() ends early, so a finished shutdown leaves no timer holding the process open. */
function cancellableSleep(ms: number): { done: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
    timer = setTimeout(resolve, ms);
  });
  return {
    done,
    cancel() {
      clearTimeout(timer);
      resolveDone();
    },
  };
}

/** Races `promise` against `ms`; true when the promise settled first. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const sleep = cancellableSleep(ms);
  const settled = await Promise.race([promise.then(() => true), sleep.done.then(() => false)]);
  sleep.cancel();
  return settled;
}

/** QUIT when connected (bounded: it queues forever while Redis is away), else just drop the socket. */
async function closeRedis(redis: Redis | undefined): Promise<void> {
  if (!redis) return;
  if (
    redis.status === 'ready' &&
    (await settlesWithin(
      redis.quit().catch(() => undefined),
      1_000,
    ))
  )
    return;
  redis.disconnect();
}

interface ActiveJob {
  controller: AbortController;
}

export function createWorkerApp(options: WorkerAppOptions): WorkerApp {
  const { env } = options;
  const log = options.logger ?? createLogger(env);
  const registry = isRegistry(options.jobs) ? options.jobs : createJobRegistry(options.jobs);
  const metrics = createWorkerMetrics();
  const errors = createErrorReporter(env, { service: 'worker' });
  const unobserveProviders = setProviderObserver((provider, operation, outcome, seconds) =>
    metrics.observeProvider(provider, operation, outcome, seconds),
  );
  const ownsDb = !options.db;
  const db =
    options.db ??
    createDb({
      connectionString: env.DATABASE_URL,
      max: env.DATABASE_MAX_CONNECTIONS,
      connectionTimeoutMillis: env.DATABASE_CONNECTION_TIMEOUT,
      applicationName: 'dawg-worker',
      onError: (err) => log.warn({ err: err.message }, 'idle database connection failed'),
    });

  const ownsS3 = !options.s3;
  const s3 = options.s3 ?? createS3(env);
  const prefix = env.REDIS_KEY_PREFIX;
  const redisKey = (...parts: string[]) => [prefix, ...parts].join(':');
  // Producers for jobs that enqueue other jobs; created on first use, on the queue connection.
  const producers = new Map<string, Queue>();

  let connection: Redis | undefined;
  let probe: Redis | undefined;
  let events: Redis | undefined;
  /** Subscribed to the job-cancel channel: the api asks here for a running job to be aborted. */
  let cancels: Redis | undefined;
  let server: Server | undefined;
  const workers: Worker[] = [];
  const active = new Set<ActiveJob>();
  let closing: Promise<void> | undefined;
  let shuttingDown = false;

  function producer(name: string): Queue {
    let queue = producers.get(name);
    if (!queue) {
      if (!connection) throw new Error('worker app is not started');
      queue = new Queue(name, { connection, prefix });
      queue.on('error', (err) => log.warn({ err: err.message, queue: name }, 'queue producer error'));
      producers.set(name, queue);
    }
    return queue;
  }

  async function processJob(job: Job, token: string | undefined, bullSignal: AbortSignal | undefined) {
    const entry: ActiveJob = { controller: new AbortController() };
    active.add(entry);
    metrics.activeJobs.inc();
    const started = performance.now();
    const jobLog = log.child({ job: job.name, jobId: job.id, queue: job.queueName, attempt: job.attemptsMade + 1 });
    const shutdownSignal = entry.controller.signal;
    const signal = bullSignal ? AbortSignal.any([bullSignal, shutdownSignal]) : shutdownSignal;
    let outcome: JobOutcome = 'failed';
    try {
      const { def, payload } = registry.parse(job.name, job.data);
      const ctx: JobContext = {
        job,
        signal,
        log: jobLog,
        progress: (p) => job.updateProgress(p),
        db,
        env,
        s3,
        redis: events as Redis,
        redisKey,
        queue: producer,
      };
      const handled = Promise.resolve().then(() => def.handler(payload, ctx));
      // The handler may ignore its signal; the hand-back must not wait for it.
      const aborted = new Promise<never>((_, reject) => {
        if (shutdownSignal.aborted) reject(shutdownSignal.reason as Error);
        shutdownSignal.addEventListener('abort', () => reject(shutdownSignal.reason as Error), { once: true });
      });
      aborted.catch(() => undefined);
      handled.catch(() => undefined);
      const result = await Promise.race([handled, aborted]);
      outcome = 'completed';
      jobLog.debug('job completed');
      return result;
    } catch (err) {
      if (shutdownSignal.aborted && shutdownSignal.reason instanceof ShutdownAbort && token !== undefined) {
        // Back to waiting with its lock released and attemptsMade unchanged; WaitingError tells BullMQ that the
        // processor moved the job itself, so it neither completes nor fails it.
        await job.moveToWait(token);
        outcome = 'returned';
        jobLog.warn('shutdown deadline passed: job handed back to the queue');
        throw new WaitingError();
      }
      // Postgres unreachable: not the job's fault. Delayed with attemptsMade unchanged (DelayedError: BullMQ
      // neither completes nor fails it), a bounded number of times; the job left its rows for the next run.
      const deferrals = Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
      if (
        token !== undefined &&
        !bullSignal?.aborted &&
        deferrals < MAX_DATABASE_DEFERRALS &&
        (await isDatabaseDown(db, err))
      ) {
        const delayMs = databaseRetryDelayMs(deferrals);
        await job.moveToDelayed(Date.now() + delayMs, token);
        outcome = 'returned';
        jobLog.warn({ err: (err as Error).message, delayMs, deferrals }, 'database unreachable: job retried later');
        throw new DelayedError();
      }
      if (bullSignal?.aborted) jobLog.info({ reason: String(bullSignal.reason) }, 'job canceled');
      else jobLog.warn({ err }, 'job failed');
      errors.capture(err, {
        jobId: job.id,
        job: job.name,
        queue: job.queueName,
        attempt: String(job.attemptsMade + 1),
      });
      throw err;
    } finally {
      active.delete(entry);
      metrics.activeJobs.dec();
      metrics.observeJob(job.name, outcome, (performance.now() - started) / 1000);
    }
  }

  async function health(): Promise<{ code: number; body: WorkerHealth }> {
    const [redis, database] = await Promise.all([
      probe
        ? withTimeout(probe.ping(), PING_TIMEOUT_MS, 'redis ping').then(
            () => true,
            () => false,
          )
        : Promise.resolve(false),
      withTimeout(sql`select 1`.execute(db), PING_TIMEOUT_MS, 'database ping').then(
        () => true,
        () => false,
      ),
    ]);
    const status = shuttingDown ? 'shutting_down' : redis && database ? 'healthy' : 'degraded';
    return {
      code: status === 'healthy' ? 200 : 503,
      body: {
        status,
        service: 'worker',
        timestamp: new Date().toISOString(),
        connections: { redis, database },
        queues: [...registry.queues],
        uptime: process.uptime(),
      },
    };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' })
        .end('{"error":"Method not allowed"}');
      return;
    }
    if (path === '/health') {
      const { code, body } = await health();
      res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
      return;
    }
    if (path === '/metrics' && env.ENABLE_METRICS) {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
  }

  async function warnUnlessNoeviction(redis: Redis): Promise<void> {
    try {
      const policy = await withTimeout(maxmemoryPolicy(redis), PING_TIMEOUT_MS, 'CONFIG GET');
      if (policy === undefined) {
        log.warn('could not read Redis maxmemory-policy; make sure it is noeviction');
      } else if (policy !== 'noeviction') {
        log.warn(
          { maxmemoryPolicy: policy },
          `Redis maxmemory-policy is "${policy}": queued jobs can be evicted under memory pressure; set it to noeviction`,
        );
      }
    } catch (err) {
      // Managed Redis often disables CONFIG; that is not a reason to refuse to start.
      log.warn({ err: (err as Error).message }, 'could not read Redis maxmemory-policy (CONFIG unavailable)');
    }
  }

  async function listen(): Promise<void> {
    const httpServer = createServer((req, res) => {
      handle(req, res).catch((err: unknown) => {
        log.error({ err }, 'worker http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"Internal server error"}');
      });
    });
    server = httpServer;
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(env.WORKER_PORT, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Job cancels published by the api (jobCancelChannel): the worker running the job aborts its signal through
   * BullMQ's Worker.cancelJob; every other worker has no such active job and ignores the message. Verified Suno
   * callbacks (sunoWakeChannel) wake the poll loop of their generation, wherever it runs.
   */
  async function listenForCancels(): Promise<void> {
    const subscriber = createEventsConnection(env);
    cancels = subscriber;
    subscriber.on('error', (err) => log.debug({ err: err.message }, 'redis cancel subscriber error'));
    const wakeChannel = sunoWakeChannel(prefix);
    subscriber.on('message', (channel: string, text: string) => {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return;
      }
      if (channel === wakeChannel) {
        const wake = sunoWakeMessageSchema.safeParse(json);
        if (wake.success) wakeSuno(wake.data.generationId);
        return;
      }
      const parsed = jobCancelMessageSchema.safeParse(json);
      if (!parsed.success) return;
      const { queue, jobId, reason } = parsed.data;
      const worker = workers.find((w) => w.name === queue);
      if (worker?.cancelJob(jobId, reason ?? 'canceled')) log.info({ queue, jobId }, 'job cancel requested');
    });
    await subscriber.subscribe(jobCancelChannel(prefix), wakeChannel);
  }

  async function start(): Promise<void> {
    if (connection) throw new Error('worker app already started');
    connection = createQueueConnection(env);
    connection.on('error', (err) => log.error({ err: err.message }, 'redis connection error'));
    probe = createProbeConnection(env);
    probe.on('error', (err) => log.debug({ err: err.message }, 'redis probe connection error'));
    events = createEventsConnection(env);
    events.on('error', (err) => log.debug({ err: err.message }, 'redis events connection error'));
    // Health first: while Redis or Postgres is unreachable at boot, /health says which one (503) instead of nothing.
    await listen();

    await warnUnlessNoeviction(connection);

    for (const queue of registry.queues) {
      const worker = new Worker(queue, processJob, {
        connection,
        prefix: env.REDIS_KEY_PREFIX,
        concurrency: env.WORKER_CONCURRENCY,
        lockDuration: env.WORKER_LOCK_DURATION_MS,
        stalledInterval: env.WORKER_LOCK_DURATION_MS,
        maxStalledCount: MAX_STALLED_COUNT,
        removeOnComplete: KEEP_COMPLETED,
        removeOnFail: KEEP_FAILED,
      });
      worker.on('error', (err) => log.error({ err: err.message, queue }, 'queue worker error'));
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    await listenForCancels();
    // Idempotent: every worker upserts the same scheduler id, so there is one schedule however many workers run.
    for (const def of registry.definitions) {
      if (!def.schedule) continue;
      await producer(def.queue).upsertJobScheduler(
        def.name,
        { every: def.schedule.everyMs },
        { name: def.name, data: def.schedule.data },
      );
    }
    log.info({ queues: registry.queues, concurrency: env.WORKER_CONCURRENCY }, 'worker started');
  }

  async function shutdown(deadlineMs: number): Promise<void> {
    shuttingDown = true;
    log.info({ active: active.size, deadlineMs }, 'worker closing');
    // Non-forced close: stop fetching, wait for running jobs (BullMQ keeps their locks renewed meanwhile).
    const workersClosed = Promise.allSettled(workers.map((w) => w.close()));
    if (!(await settlesWithin(workersClosed, deadlineMs))) {
      log.warn({ active: active.size }, 'shutdown deadline passed: aborting running jobs');
      for (const entry of active) entry.controller.abort(new ShutdownAbort());
      if (!(await settlesWithin(workersClosed, HAND_BACK_GRACE_MS))) {
        // Redis is unreachable or a hand-back hangs: drop the connection so close() can end. A job still locked by
        // us goes back to waiting through BullMQ's stalled-job check on another worker.
        log.error('running jobs could not be handed back in time; dropping the queue connection');
        connection?.disconnect();
        await settlesWithin(workersClosed, HAND_BACK_GRACE_MS);
      }
    }
    if (server) {
      const s = server;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    await Promise.allSettled([...producers.values()].map((q) => q.close()));
    await Promise.allSettled([
      closeRedis(connection),
      closeRedis(probe),
      closeRedis(events),
      closeRedis(cancels),
      ownsDb ? db.destroy() : undefined,
      ownsS3 ? Promise.resolve().then(() => s3.destroy()) : undefined,
    ]);
    unobserveProviders();
    await errors.flush();
    log.info('worker closed');
  }

  function port(): number {
    const address = server?.address();
    if (!address || typeof address === 'string') throw new Error('worker app is not listening');
    return (address as AddressInfo).port;
  }

  return {
    registry,
    metrics: metrics.registry,
    db,
    start,
    close(deadlineMs = env.SHUTDOWN_TIMEOUT_MS) {
      closing ??= shutdown(deadlineMs);
      return closing;
    },
    port,
    url: () => `http://127.0.0.1:${port()}`,
  };
}
