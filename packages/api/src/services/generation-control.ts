/**
 * Generation II controls: `generation.cancel` and `generation.extend`.
 *
 * Cancel: a queued generation is canceled at once (hold released, a `canceled` event on its stream); for a running
 * one the request is recorded on the row and published on the job-cancel channel, where the worker running the job
 * aborts its AbortSignal (provider calls stop at once); that worker then deletes what the attempt uploaded, releases
 * the hold and marks the row `canceled`. The worker also checks the row between steps, so a lost message only delays
 * the stop.
 *
 * Extend: continues an owned generated track from a bar line (the request's point snapped to the track's tempo)
 * through the same admission as a new song; the worker records the parent on the new track.
 */
import { cancelGenerationOfOwner, findTrackById } from '@dawg/db';
import {
  AppError,
  type CancelGenerationOutput,
  type CreateGenerationOutput,
  EXTEND_DEFAULT_DURATION_SEC,
  GENERATION_EVENT_FIELD,
  GENERATION_EVENTS_DONE_TTL_SEC,
  GENERATION_EVENTS_MAXLEN,
  generationEventsKey,
  generationParamsSchema,
  type GenerationParams,
  type GenerationProgressEvent,
  jobCancelChannel,
  type JobCancelMessage,
  musicProviderSchema,
  QUEUE_NAMES,
  snapToBar,
  STAGE_PROGRESS,
  type ExtendGenerationRequest,
  LIMITS,
} from '@dawg/shared';
import type { Redis } from 'ioredis';
import { admitGeneration, type Caller, type GenerationDeps } from './generation';

export interface GenerationControlDeps extends GenerationDeps {
  /** The cache/pub-sub connection (REDIS_URL). */
  redis: Redis;
}

function badInput(path: string, message: string, summary = message): AppError {
  return new AppError('BAD_REQUEST', summary, { details: [{ path: [path], message }] });
}

export async function cancelGeneration(
  deps: GenerationControlDeps,
  caller: Caller,
  id: string,
): Promise<CancelGenerationOutput> {
  const { db, env, log, redis } = deps;
  const result = await db.transaction().execute((trx) => cancelGenerationOfOwner(trx, caller.id, id));
  const prefix = env.REDIS_KEY_PREFIX;
  switch (result.outcome) {
    case 'not_found':
      throw new AppError('NOT_FOUND', 'Generation not found');
    case 'finished':
      return { id, status: result.status, cancelRequested: false };
    case 'canceled': {
      const event: GenerationProgressEvent = {
        generationId: id,
        status: 'canceled',
        stage: 'queued',
        progress: STAGE_PROGRESS.queued,
        message: 'Canceled',
        at: Date.now(),
      };
      const key = generationEventsKey(prefix, id);
      await redis
        .multi()
        .xadd(key, 'MAXLEN', '~', GENERATION_EVENTS_MAXLEN, '*', GENERATION_EVENT_FIELD, JSON.stringify(event))
        .expire(key, GENERATION_EVENTS_DONE_TTL_SEC)
        .exec()
        .catch((err: unknown) => log.warn({ err, generationId: id }, 'cancel event not published'));
      return { id, status: 'canceled', cancelRequested: true };
    }
    case 'requested': {
      const message: JobCancelMessage = { queue: QUEUE_NAMES.generate, jobId: id, reason: 'canceled by the user' };
      await redis
        .publish(jobCancelChannel(prefix), JSON.stringify(message))
        // The row says so: the worker sees it at its next step even if this message is lost.
        .catch((err: unknown) => log.warn({ err, generationId: id }, 'cancel message not published'));
      return { id, status: 'running', cancelRequested: true };
    }
  }
}

export async function extendGeneration(
  deps: GenerationDeps,
  caller: Caller,
  input: ExtendGenerationRequest,
): Promise<CreateGenerationOutput> {
  const track = await findTrackById(deps.db, input.trackId);
  if (!track || track.owner_id !== caller.id || track.deleted_at) {
    throw new AppError('NOT_FOUND', 'Track not found', { details: [{ path: ['trackId'], message: 'not found' }] });
  }
  const provider = musicProviderSchema.safeParse(track.provider);
  const parent = generationParamsSchema.safeParse(track.params);
  if (track.source !== 'generated' || !provider.success || !parent.success || track.status !== 'ready') {
    throw badInput('trackId', 'only a generated track can be extended');
  }
  if (provider.data === 'suno' && !deps.env.SUNO_API_KEY) {
    throw badInput('trackId', 'Suno is not configured on this server');
  }
  const duration = track.duration_sec ?? parent.data.durationSec;
  const bpm = track.bpm ?? parent.data.bpm ?? 120;
  const { bar, seconds } = snapToBar(input.continueAt, bpm);
  if (bar < 1 || seconds > duration + 1e-6) {
    throw badInput('continueAt', `must be a bar line inside the track (0–${Math.floor(duration)} s)`);
  }
  const meta = (track.params as { provider?: { id?: unknown; clipId?: unknown; variant?: unknown } }).provider ?? {};
  const providerClipId = typeof meta.clipId === 'string' ? meta.clipId : undefined;
  if (provider.data === 'suno' && !providerClipId) throw badInput('trackId', 'this track has no Suno clip to extend');
  const continuation = input.duration ?? EXTEND_DEFAULT_DURATION_SEC;
  if (seconds + continuation > LIMITS.DURATION_MAX_SEC) {
    throw badInput('duration', `the extended song may last at most ${LIMITS.DURATION_MAX_SEC} s`);
  }
  const p = parent.data;
  const params: GenerationParams = {
    ...p,
    ...(input.prompt ? { prompt: input.prompt } : {}),
    ...(track.bpm ? { bpm: track.bpm } : {}),
    durationSec: continuation,
    variants: 1,
    extend: {
      parentTrackId: track.id,
      continueAtSec: seconds,
      parentDurationSec: p.durationSec,
      parentVariant: meta.variant === 1 || track.clip_index === 1 ? 1 : 0,
      ...(providerClipId ? { providerClipId } : {}),
    },
  };
  delete params.writeLyrics;
  const title = track.title.length > 180 ? `${track.title.slice(0, 179)}…` : track.title;
  return admitGeneration(deps, caller, {
    kind: 'extend',
    provider: provider.data,
    durationSec: continuation,
    variants: 1,
    prompt: `${title} (extended from ${Math.round(seconds * 10) / 10} s)`,
    params,
    projectId: input.projectId ?? track.project_id,
    idempotencyKey: input.idempotencyKey ?? null,
  });
}
