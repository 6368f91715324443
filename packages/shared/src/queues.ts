/**
 * Queue and job names and the zod schema of every job payload. Producers (api) and consumers (worker) both import
 * these, so a payload is validated against the same schema on both sides. Payloads carry ids only: no secrets, no
 * user content (the worker reads the row).
 */
import { z } from 'zod';

export const QUEUE_NAMES = {
  generate: 'generate',
  analyze: 'analyze',
  mixdown: 'mixdown',
  maintenance: 'maintenance',
  billing: 'billing',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
export const queueNameSchema = z.enum(Object.values(QUEUE_NAMES) as [QueueName, ...QueueName[]]);

export const JOB_NAMES = {
  generate: 'generate',
  analyze: 'analyze',
  mixdown: 'mixdown',
  /** Re-enqueue generations left `queued` with no job (crash between commit and enqueue). */
  sweepStaleGenerations: 'sweep-stale-generations',
  /** Release budget holds whose job is gone, so money is never held forever. */
  releaseExpiredHolds: 'release-expired-holds',
  purgeExpiredSessions: 'purge-expired-sessions',
  /** Re-enqueue `maintenance.delete-track` for tracks soft-deleted long ago whose job is gone or failed for good. */
  purgeDeletedTracks: 'purge-deleted-tracks',
  /** Remove a closed account: its S3 objects under `users/<userId>/` and its rows. */
  deleteAccount: 'maintenance.delete-account',
  /** Remove a soft-deleted track: its clips, its S3 objects (MP3, WAV, peaks, original), then its row. */
  deleteTrack: 'maintenance.delete-track',
  /** Fail uploads never completed (pending) or whose analysis never finished (processing), deleting their objects. */
  purgeStaleUploads: 'purge-stale-uploads',
  /** Remove expired demo-mode (ephemeral) accounts with their S3 objects, and nothing else. */
  purgeExpiredDemoAccounts: 'purge-expired-demo-accounts',
  /** Apply one recorded Stripe webhook event (a `stripe_events` row) to subscriptions and plans. */
  stripeEvent: 'billing.stripe-event',
} as const;
export type JobName = (typeof JOB_NAMES)[keyof typeof JOB_NAMES];

export const generateJobSchema = z.object({ generationId: z.uuid() });
export const analyzeJobSchema = z.object({ trackId: z.uuid() });
export const mixdownJobSchema = z.object({ projectId: z.uuid(), mixdownId: z.uuid() });
/** Maintenance jobs are repeatable; `olderThanMs` overrides the job's default age threshold (tests shorten it). */
export const maintenanceJobSchema = z.object({ olderThanMs: z.number().int().min(0).optional() });
export const deleteAccountJobSchema = z.object({ userId: z.uuid() });
export const deleteTrackJobSchema = z.object({ trackId: z.uuid() });
export const stripeEventJobSchema = z.object({ eventId: z.string().regex(/^evt_[A-Za-z0-9_]+$/) });

export type GenerateJob = z.infer<typeof generateJobSchema>;
export type AnalyzeJob = z.infer<typeof analyzeJobSchema>;
export type MixdownJob = z.infer<typeof mixdownJobSchema>;
export type MaintenanceJob = z.infer<typeof maintenanceJobSchema>;
export type DeleteAccountJob = z.infer<typeof deleteAccountJobSchema>;
export type DeleteTrackJob = z.infer<typeof deleteTrackJobSchema>;

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: JobName;
  queue: QueueName;
  schema: S;
}

function job<S extends z.ZodType>(name: JobName, queue: QueueName, schema: S): JobDefinition<S> {
  return { name, queue, schema };
}

/** Every job the system knows, keyed by name; the worker's registry must have exactly one handler for each. */
export const JOBS = {
  [JOB_NAMES.generate]: job(JOB_NAMES.generate, QUEUE_NAMES.generate, generateJobSchema),
  [JOB_NAMES.analyze]: job(JOB_NAMES.analyze, QUEUE_NAMES.analyze, analyzeJobSchema),
  [JOB_NAMES.mixdown]: job(JOB_NAMES.mixdown, QUEUE_NAMES.mixdown, mixdownJobSchema),
  [JOB_NAMES.sweepStaleGenerations]: job(
    JOB_NAMES.sweepStaleGenerations,
    QUEUE_NAMES.maintenance,
    maintenanceJobSchema,
  ),
  [JOB_NAMES.releaseExpiredHolds]: job(JOB_NAMES.releaseExpiredHolds, QUEUE_NAMES.maintenance, maintenanceJobSchema),
  [JOB_NAMES.purgeExpiredSessions]: job(JOB_NAMES.purgeExpiredSessions, QUEUE_NAMES.maintenance, maintenanceJobSchema),
  [JOB_NAMES.purgeDeletedTracks]: job(JOB_NAMES.purgeDeletedTracks, QUEUE_NAMES.maintenance, maintenanceJobSchema),
  [JOB_NAMES.deleteAccount]: job(JOB_NAMES.deleteAccount, QUEUE_NAMES.maintenance, deleteAccountJobSchema),
  [JOB_NAMES.deleteTrack]: job(JOB_NAMES.deleteTrack, QUEUE_NAMES.maintenance, deleteTrackJobSchema),
  [JOB_NAMES.purgeStaleUploads]: job(JOB_NAMES.purgeStaleUploads, QUEUE_NAMES.maintenance, maintenanceJobSchema),
  [JOB_NAMES.purgeExpiredDemoAccounts]: job(
    JOB_NAMES.purgeExpiredDemoAccounts,
    QUEUE_NAMES.maintenance,
    maintenanceJobSchema,
  ),
  [JOB_NAMES.stripeEvent]: job(JOB_NAMES.stripeEvent, QUEUE_NAMES.billing, stripeEventJobSchema),
} as const satisfies Record<JobName, JobDefinition>;

export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['schema']>;

/** Validate a payload for a named job (producer side before enqueue, consumer side before work). */
export function parseJobPayload<N extends JobName>(name: N, data: unknown): JobPayload<N> {
  return JOBS[name].schema.parse(data) as JobPayload<N>;
}

export function jobsOfQueue(queue: QueueName): JobDefinition[] {
  return Object.values(JOBS).filter((j) => j.queue === queue);
}

/** REDIS_URL with its database replaced by REDIS_QUEUE_DB (ioredis lets a URL's /db win over an options object). */
export function queueRedisUrl(env: { REDIS_URL: string; REDIS_QUEUE_DB: number }): string {
  const url = new URL(env.REDIS_URL);
  url.pathname = `/${env.REDIS_QUEUE_DB}`;
  return url.toString();
}
