/**
 * The producer of `generate` jobs. The job id is the generation's id, so enqueueing twice (the api after commit,
 * the worker's sweeper, a retried request) never makes two jobs. It fails fast while Redis is away: the row is
 * committed by then, and the sweeper enqueues it later.
 */
import { GENERATE_JOB_OPTIONS, JOB_NAMES, parseJobPayload } from '@dawg/shared';
import type { JobProducer } from './job-producer';

export interface GenerationQueue {
  enqueue(generationId: string): Promise<void>;
}

export function createGenerationQueue(producer: JobProducer): GenerationQueue {
  return {
    async enqueue(generationId) {
      const data = parseJobPayload(JOB_NAMES.generate, { generationId });
      await producer.add(JOB_NAMES.generate, data, { ...GENERATE_JOB_OPTIONS, jobId: generationId });
    },
  };
}
