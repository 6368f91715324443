/**
 * The producer of `billing.stripe-event` jobs. The job id is the Stripe event id (plus the number of failed tries
 * recorded on the event), so a redelivered event that is still queued is not queued twice, while a redelivery after
 * the job failed for good starts a fresh job. The job skips events already processed.
 */
import { JOB_NAMES, parseJobPayload } from '@dawg/shared';
import type { JobProducer } from './job-producer';

export interface BillingQueue {
  enqueueStripeEvent(eventId: string, failedTries?: number): Promise<void>;
}

export function createBillingQueue(producer: JobProducer): BillingQueue {
  return {
    async enqueueStripeEvent(eventId, failedTries = 0) {
      const data = parseJobPayload(JOB_NAMES.stripeEvent, { eventId });
      await producer.add(JOB_NAMES.stripeEvent, data, {
        jobId: failedTries > 0 ? `${eventId}-r${failedTries}` : eventId,
        attempts: 8,
        backoff: { type: 'exponential', delay: 2_000 },
        removeOnComplete: { age: 24 * 60 * 60, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 60 * 60, count: 10_000 },
      });
    },
  };
}
