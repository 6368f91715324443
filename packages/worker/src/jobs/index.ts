/**
 * Every job this worker runs, and the registry options that tie it to the system's job catalog (@dawg/shared JOBS):
 * the worker refuses to start if a catalog job has no handler, unless the job is listed in DEFERRED_JOBS.
 */
import { JOB_NAMES, JOBS, type JobName } from '@dawg/shared';
import type { AnyJobDefinition, JobRegistryOptions } from '../registry';
import { analyzeJob } from './analyze';
import { mixdownJob } from './mixdown';
import { purgeStaleUploads } from './purge-stale-uploads';
import { purgeExpiredDemoAccounts } from './purge-expired-demo-accounts';
import { deleteAccountJob } from './delete-account';
import { deleteTrackJob } from './delete-track';
import { generateJob } from './generate';
import { sweepStaleGenerations } from './generate-sweeper';
import { maintenancePing } from './maintenance-ping';
import { purgeDeletedTracks } from './purge-deleted-tracks';
import { stripeEventJob } from './stripe-event';

export const jobs: readonly AnyJobDefinition[] = [
  maintenancePing,
  generateJob,
  sweepStaleGenerations,
  deleteAccountJob,
  deleteTrackJob,
  purgeDeletedTracks,
  stripeEventJob,
  analyzeJob,
  mixdownJob,
  purgeStaleUploads,
  purgeExpiredDemoAccounts,
];

/**
 * Catalog jobs whose processors arrive with later features. Each feature deletes its name here in the change that
 * registers the handler (the registry rejects a deferred name that has one). Empty = every catalog job is served.
 */
export const DEFERRED_JOBS: readonly JobName[] = [JOB_NAMES.releaseExpiredHolds, JOB_NAMES.purgeExpiredSessions];

export const registryOptions: JobRegistryOptions = { catalog: JOBS, deferred: DEFERRED_JOBS };
