/**
 * Every job this worker runs, and the registry options that tie it to the system's job catalog (@dawg/shared JOBS):
 * the worker refuses to start if a catalog job has no handler, unless the job is listed in DEFERRED_JOBS.
 */
import { JOB_NAMES, JOBS, type JobName } from '@dawg/shared';
import type { AnyJobDefinition, JobRegistryOptions } from '../registry';
import { maintenancePing } from './maintenance-ping';

export const jobs: readonly AnyJobDefinition[] = [maintenancePing];

/**
 * Catalog jobs whose processors arrive with later features. Each feature deletes its name here in the change that
 * registers the handler (the registry rejects a deferred name that has one). Empty = every catalog job is served.
 */
export const DEFERRED_JOBS: readonly JobName[] = [
  JOB_NAMES.generate,
  JOB_NAMES.analyze,
  JOB_NAMES.mixdown,
  JOB_NAMES.sweepStaleGenerations,
  JOB_NAMES.releaseExpiredHolds,
  JOB_NAMES.purgeExpiredSessions,
  JOB_NAMES.purgeDeletedTracks,
];

export const registryOptions: JobRegistryOptions = { catalog: JOBS, deferred: DEFERRED_JOBS };
