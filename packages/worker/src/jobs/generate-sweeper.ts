/**
 * `sweep-stale-generations` (maintenance, every 30 s): makes sure no generation is stuck. The api commits the row,
 * then enqueues; a crash in between leaves a `queued` row nobody will run, which the sweeper enqueues. A `running`
 * row whose job is gone (its worker died and the job was lost) goes back to `queued` and is enqueued too. The job id
 * is the row id, so a job that exists (waiting, delayed for a retry, active) is never duplicated, however many sweeps
 * or api enqueues race. A row whose job already failed for good (its failure could not be recorded) is failed here,
 * hold released.
 */
import { Job } from 'bullmq';
import {
  findStaleGenerations,
  lockGenerationAttempt,
  markGenerationEnqueued,
  markGenerationFailed,
  requeueOrphanedGeneration,
  resolveGenerationHold,
} from '@dawg/db';
import {
  GENERATE_JOB_OPTIONS,
  GENERATION_SWEEP_AFTER_MS,
  GENERATION_SWEEP_EVERY_MS,
  JOB_NAMES,
  maintenanceJobSchema,
  QUEUE_NAMES,
} from '@dawg/shared';
import { defineJob } from '../registry';

/** Rows handled per sweep; the rest wait for the next one (oldest first). */
const SWEEP_BATCH = 200;

export const sweepStaleGenerations = defineJob({
  name: JOB_NAMES.sweepStaleGenerations,
  queue: QUEUE_NAMES.maintenance,
  schema: maintenanceJobSchema,
  schedule: { everyMs: GENERATION_SWEEP_EVERY_MS, data: {} },
  handler: async ({ olderThanMs }, { db, queue, log }) => {
    const cutoff = new Date(Date.now() - (olderThanMs ?? GENERATION_SWEEP_AFTER_MS));
    const rows = await findStaleGenerations(db, cutoff, SWEEP_BATCH);
    const generate = queue(QUEUE_NAMES.generate);
    let enqueued = 0;
    let failed = 0;
    for (const { id, status } of rows) {
      const state = await generate.getJobState(id);
      if (state === 'unknown') {
        if (status === 'running' && !(await requeueOrphanedGeneration(db, id))) continue;
        await generate.add(JOB_NAMES.generate, { generationId: id }, { ...GENERATE_JOB_OPTIONS, jobId: id });
        await markGenerationEnqueued(db, id);
        enqueued++;
      } else if (state === 'failed') {
        const job = await Job.fromId(generate, id);
        const reason = `Generation failed: ${job?.failedReason ?? 'the job failed'}`.slice(0, 500);
        const done = await db.transaction().execute(async (trx) => {
          if (!(await lockGenerationAttempt(trx, id, null))) return false;
          await markGenerationFailed(trx, id, { error: reason, errorCode: 'job_failed', durationMs: null });
          await resolveGenerationHold(trx, id, 'released');
          return true;
        });
        if (done) failed++;
      }
    }
    if (enqueued + failed > 0) log.warn({ checked: rows.length, enqueued, failed }, 'swept stale generations');
    return { checked: rows.length, enqueued, failed };
  },
});
