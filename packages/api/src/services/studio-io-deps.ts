/**
 * What Studio II needs from the api's connections: producers for the `analyze` and `mixdown` queues and the
 * process's project channel hub. Built once with the other dependencies (deps.ts) and closed with them.
 */
import { type ApiEnv, JOB_NAMES, parseJobPayload, QUEUE_NAMES } from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { createJobProducer } from './job-producer';
import { createProjectHub, type ProjectHub } from './project-hub';

export interface StudioIo {
  /** Enqueue the analysis of an uploaded track (job id derived from the track: never twice). */
  analyze(trackId: string): Promise<void>;
  /** Enqueue a mixdown render (job id = the mixdown id). */
  mixdown(projectId: string, mixdownId: string): Promise<void>;
  projects: ProjectHub;
  close(): Promise<void>;
}

const RETENTION = {
  removeOnComplete: { age: 24 * 60 * 60, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 60 * 60, count: 5_000 },
};

export function createStudioIo(env: ApiEnv, log: FastifyBaseLogger, redis: Redis): StudioIo {
  const analyzeProducer = createJobProducer(env, log, QUEUE_NAMES.analyze);
  const mixdownProducer = createJobProducer(env, log, QUEUE_NAMES.mixdown);
  const projects = createProjectHub({ redisUrl: env.REDIS_URL, redis, prefix: env.REDIS_KEY_PREFIX, log });
  return {
    async analyze(trackId) {
      const data = parseJobPayload(JOB_NAMES.analyze, { trackId });
      await analyzeProducer.add(JOB_NAMES.analyze, data, {
        jobId: `analyze-${trackId}`,
        attempts: 3,
        backoff: { type: 'exponential', delay: 1_000 },
        ...RETENTION,
      });
    },
    async mixdown(projectId, mixdownId) {
      const data = parseJobPayload(JOB_NAMES.mixdown, { projectId, mixdownId });
      await mixdownProducer.add(JOB_NAMES.mixdown, data, {
        jobId: mixdownId,
        attempts: 2,
        backoff: { type: 'fixed', delay: 1_000 },
        ...RETENTION,
      });
    },
    projects,
    async close() {
      await Promise.allSettled([analyzeProducer.close(), mixdownProducer.close(), projects.close()]);
    },
  };
}
