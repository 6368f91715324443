/**
 * The producer of `maintenance.delete-account` jobs (the worker removes the account's S3 objects and rows).
 * Enqueueing fails fast while Redis is away: the caller answers 503 and nothing was changed.
 */
import { JOB_NAMES, parseJobPayload } from '@dawg/shared';
import type { JobProducer } from './job-producer';

export interface AccountDeletionQueue {
  /** Idempotent per user (the job id is derived from the user id). */
  enqueue(userId: string): Promise<void>;
}

export function deleteAccountJobId(userId: string): string {
  return `delete-account-${userId}`;
}

export function createAccountDeletionQueue(producer: JobProducer): AccountDeletionQueue {
  return {
    async enqueue(userId) {
      const data = parseJobPayload(JOB_NAMES.deleteAccount, { userId });
      await producer.add(JOB_NAMES.deleteAccount, data, {
        jobId: deleteAccountJobId(userId),
        attempts: 5,
        backoff: { type: 'exponential', delay: 5_000 },
        removeOnComplete: { age: 24 * 60 * 60, count: 1_000 },
        removeOnFail: { age: 7 * 24 * 60 * 60, count: 5_000 },
      });
    },
  };
}
