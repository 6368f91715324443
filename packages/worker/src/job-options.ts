/**
 * Default options for every job a producer adds, and the retention the worker applies: completed and failed jobs are
 * kept for a bounded time and count, so Redis memory stays flat however many jobs run (BullMQ keeps them forever by
 * default).
 */
import type { DefaultJobOptions, KeepJobs } from 'bullmq';

/** Completed jobs: a day, at most 1,000 per queue (enough to read a result back and to debug). */
export const KEEP_COMPLETED: KeepJobs = { age: 24 * 60 * 60, count: 1_000 };
/** Failed jobs: a week, at most 5,000 per queue (kept longer: they are what someone investigates). */
export const KEEP_FAILED: KeepJobs = { age: 7 * 24 * 60 * 60, count: 5_000 };

/**
 * Takeovers of a job whose worker died (lock expired) before BullMQ fails it. A stall is the worker's fault, not the
 * job's: during a rolling deploy or a crash loop one job can lose several workers in a row (the fault suite kills ten
 * during a hundred generations and has seen a job lose four). Bounded, so a job that crashes its worker every time
 * still stops; the generation's own time limit bounds it too.
 */
export const MAX_STALLED_COUNT = 10;

/** For `new Queue(name, { defaultJobOptions })` in every producer. */
export const defaultJobOptions: DefaultJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: KEEP_COMPLETED,
  removeOnFail: KEEP_FAILED,
};
