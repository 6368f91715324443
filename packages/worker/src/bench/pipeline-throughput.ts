/**
 * Throughput of the generate job's machinery (wired into `pnpm bench` by scripts/bench/pipeline-throughput.ts):
 * jobs/s through the real `generate` job — a worker app (createWorkerApp) on a scratch Postgres database, Redis and
 * an S3-protocol server: attempt start, every stage written to the row and published on the generation's stream,
 * three objects uploaded per take, the success transaction (tracks, ledger, settled hold, row) — with a provider and
 * a mastering step that take no time, against bare BullMQ (a no-op processor) on the same Redis, same concurrency,
 * in the same run. Rounds alternate the two. Needs Postgres (DATABASE_URL or the local admin database) and Redis.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Queue, Worker } from 'bullmq';
import { pino } from 'pino';
import { createDb, migrateToLatest, type Database } from '@dawg/db';
import { GENERATE_JOB_OPTIONS, JOB_NAMES, parseEnv, QUEUE_NAMES, workerEnvSchema } from '@dawg/shared';
import { adminUrl, databaseUrl, quoteIdent, withAdminClient } from '@dawg/testing/pg-admin';
import { createS3Client } from '@dawg/testing/s3';
import type { Kysely } from 'kysely';
import { createWorkerApp } from '../app';
import type { MasteredClip } from '../audio/master';
import { runGenerateJob, generateJob } from '../jobs/generate';
import type { MusicProvider } from '../providers/types';
import { createQueueConnection } from '../redis';
import { createJobRegistry, defineJob } from '../registry';
import { startS3Child } from './s3-child';

export interface ThroughputResult {
  /** jobs/s per round, in round order. */
  bare: number[];
  /** Bare BullMQ whose processor does the storage any pipeline must do (three uploads, one result transaction). */
  bareStorage: number[];
  pipeline: number[];
  settings: Record<string, number | string>;
}

const SAMPLE_RATE = 44_100;

/** A provider that answers at once with a twentieth of a second of silence. */
const zeroTimeProvider: MusicProvider = {
  id: 'test',
  model: 'test-tone-1',
  async generate(req, { onStage }) {
    const frames = SAMPLE_RATE / 20;
    await onStage({ stage: 'first_audio' });
    return [
      {
        index: 0,
        audio: { kind: 'pcm', pcm: { sampleRate: SAMPLE_RATE, channels: [new Float32Array(frames)] } },
        seed: req.seed,
        bpm: 120,
        musicalKey: null,
        lyrics: null,
        meta: { bench: true },
      },
    ];
  },
};

/** A mastering step that costs nothing (mastering speed has its own benchmark: generation-pipeline). */
async function zeroTimeMaster(): Promise<MasteredClip> {
  return {
    wav: Buffer.alloc(64),
    mp3: Buffer.alloc(32),
    peaks: {
      version: 1,
      sampleRate: SAMPLE_RATE,
      channels: 1,
      samplesPerPeak: SAMPLE_RATE / 20,
      length: 1,
      durationSec: 0.05,
      data: [[0, 0]],
    },
    durationSec: 0.05,
    sampleRate: SAMPLE_RATE,
    channels: 1,
    loudnessLufs: null,
    normalization: 'none',
  };
}

const benchGenerateJob = defineJob({
  ...generateJob,
  handler: ({ generationId }, ctx) =>
    runGenerateJob(generationId, ctx, { providers: { test: () => zeroTimeProvider }, master: zeroTimeMaster }),
});

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function admitRows(db: Kysely<Database>, userId: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await db
    .insertInto('generations')
    .values(
      ids.map((id) => ({
        id,
        owner_id: userId,
        prompt: 'bench',
        params: JSON.stringify({ mode: 'simple', prompt: 'bench', instrumental: true, durationSec: 5, seed: 1, variants: 1 }),
        provider: 'test' as const,
        model: 'test-tone-1',
      })),
    )
    .execute();
  await db
    .insertInto('budget_holds')
    .values(
      ids.map((id) => ({
        user_id: userId,
        kind: 'music' as const,
        amount_micro: 0,
        generation_id: id,
        expires_at: new Date(Date.now() + 3_600_000),
      })),
    )
    .execute();
  return ids;
}

export async function run(opts: { rounds?: number; jobs?: number; concurrency?: number } = {}): Promise<ThroughputResult> {
  const rounds = opts.rounds ?? 5;
  const jobs = opts.jobs ?? 200;
  const concurrency = opts.concurrency ?? 16;
  const base = process.env.DATABASE_URL ?? adminUrl();
  const dbName = `dawg_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(dbName)}`), base);
  const db = createDb({ connectionString: databaseUrl(base, dbName), max: 10 });
  const s3server = await startS3Child();
  const s3 = createS3Client(s3server);
  const bare: number[] = [];
  const bareStorage: number[] = [];
  const pipeline: number[] = [];
  try {
    await migrateToLatest(db);
    const user = await db
      .insertInto('users')
      .values({ email: `bench-${dbName}@bench.local`, name: 'Bench', password_hash: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    const envFor = (prefix: string) =>
      parseEnv(workerEnvSchema, {
        ...process.env,
        NODE_ENV: 'development',
        LOG_LEVEL: 'silent',
        DATABASE_URL: databaseUrl(base, dbName),
        DATABASE_MAX_CONNECTIONS: '10',
        REDIS_KEY_PREFIX: prefix,
        WORKER_PORT: '0',
        WORKER_CONCURRENCY: String(concurrency),
        S3_ENDPOINT: s3server.endpoint,
        AWS_S3_BUCKET: s3server.bucket,
        AWS_ACCESS_KEY_ID: s3server.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3server.secretAccessKey,
        AWS_REGION: s3server.region,
        GENERATION_FAULT: '',
      });

    async function measureBare(): Promise<number> {
      const env = envFor(`bench-bare-${randomUUID().slice(0, 8)}`);
      const connection = createQueueConnection(env);
      const queue = new Queue(QUEUE_NAMES.generate, { connection, prefix: env.REDIS_KEY_PREFIX });
      const worker = new Worker(QUEUE_NAMES.generate, async () => undefined, {
        connection,
        prefix: env.REDIS_KEY_PREFIX,
        concurrency,
        removeOnComplete: { count: 10_000 },
      });
      await worker.waitUntilReady();
      try {
        const started = performance.now();
        await queue.addBulk(
          Array.from({ length: jobs }, () => ({
            name: JOB_NAMES.generate,
            data: { generationId: randomUUID() },
            opts: { ...GENERATE_JOB_OPTIONS, removeOnComplete: { count: 10_000 }, jobId: randomUUID() },
          })),
        );
        await until(async () => (await queue.getCompletedCount()) >= jobs, 120_000, 'bare BullMQ jobs completed');
        return jobs / ((performance.now() - started) / 1000);
      } finally {
        await worker.close();
        await queue.obliterate({ force: true });
        await queue.close();
        connection.disconnect();
      }
    }

    /**
     * The same work without the job's machinery: a plain BullMQ processor that uploads the three objects a take
     * leaves (WAV, MP3, peaks JSON; the zero-time master's sizes) and commits the result in one transaction. What the
     * generate job adds on top (attempt claim, stage rows and progress events, holds, ledger, cancel checks) is the
     * difference.
     */
    async function measureBareStorage(): Promise<number> {
      const env = envFor(`bench-store-${randomUUID().slice(0, 8)}`);
      const ids = await admitRows(db, user.id, jobs);
      const mastered = await zeroTimeMaster();
      const peaks = Buffer.from(JSON.stringify(mastered.peaks));
      const connection = createQueueConnection(env);
      const queue = new Queue(QUEUE_NAMES.generate, { connection, prefix: env.REDIS_KEY_PREFIX });
      const worker = new Worker(
        QUEUE_NAMES.generate,
        async (job) => {
          const { generationId } = job.data as { generationId: string };
          const prefix = `users/${user.id}/generations/${generationId}/0`;
          await Promise.all(
            (
              [
                ['wav', mastered.wav, 'audio/wav'],
                ['mp3', mastered.mp3, 'audio/mpeg'],
                ['peaks.json', peaks, 'application/json'],
              ] as const
            ).map(([ext, body, type]) =>
              s3.send(
                new PutObjectCommand({
                  Bucket: s3server.bucket,
                  Key: `${prefix}.${ext}`,
                  Body: body,
                  ContentType: type,
                  ContentLength: body.byteLength,
                }),
              ),
            ),
          );
          await db.transaction().execute((trx) =>
            trx
              .updateTable('generations')
              .set({ status: 'succeeded', stage: 'done', progress: 100, completed_at: new Date() })
              .where('id', '=', generationId)
              .execute(),
          );
        },
        { connection, prefix: env.REDIS_KEY_PREFIX, concurrency, removeOnComplete: { count: 10_000 } },
      );
      await worker.waitUntilReady();
      try {
        const started = performance.now();
        await queue.addBulk(
          ids.map((id) => ({
            name: JOB_NAMES.generate,
            data: { generationId: id },
            opts: { ...GENERATE_JOB_OPTIONS, removeOnComplete: { count: 10_000 }, jobId: id },
          })),
        );
        await until(async () => (await queue.getCompletedCount()) >= jobs, 300_000, 'storage-only jobs completed');
        return jobs / ((performance.now() - started) / 1000);
      } finally {
        await worker.close();
        await queue.obliterate({ force: true });
        await queue.close();
        connection.disconnect();
      }
    }

    async function measurePipeline(): Promise<number> {
      const env = envFor(`bench-gen-${randomUUID().slice(0, 8)}`);
      const ids = await admitRows(db, user.id, jobs);
      const app = createWorkerApp({
        env,
        jobs: createJobRegistry([benchGenerateJob]),
        logger: pino({ level: 'silent' }),
        db,
        s3,
      });
      await app.start();
      const connection = createQueueConnection(env);
      const queue = new Queue(QUEUE_NAMES.generate, { connection, prefix: env.REDIS_KEY_PREFIX });
      try {
        const started = performance.now();
        await queue.addBulk(
          ids.map((id) => ({
            name: JOB_NAMES.generate,
            data: { generationId: id },
            opts: { ...GENERATE_JOB_OPTIONS, removeOnComplete: { count: 10_000 }, jobId: id },
          })),
        );
        await until(async () => (await queue.getCompletedCount()) >= jobs, 300_000, 'generate jobs completed');
        const elapsed = (performance.now() - started) / 1000;
        const failed = await queue.getFailedCount();
        if (failed > 0) throw new Error(`${failed} generate jobs failed in the benchmark`);
        return jobs / elapsed;
      } finally {
        await app.close(5_000);
        await queue.obliterate({ force: true });
        await queue.close();
        connection.disconnect();
      }
    }

    // Warm-up of both (JIT, connections, the S3 server): not measured.
    await measureBare();
    await measureBareStorage();
    await measurePipeline();
    for (let round = 0; round < rounds; round++) {
      bare.push(await measureBare());
      bareStorage.push(await measureBareStorage());
      pipeline.push(await measurePipeline());
    }
  } finally {
    s3.destroy();
    await s3server.stop();
    await db.destroy();
    await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`), base);
  }
  return {
    bare,
    bareStorage,
    pipeline,
    settings: {
      jobsPerRound: jobs,
      concurrency,
      provider: 'zero-time, one take',
      mastering: 'zero-time (see generation-pipeline)',
      stages: 'generating, first_audio, processing, uploading, done (row + stream each)',
    },
  };
}
