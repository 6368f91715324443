/**
 * The `generate` job: one generation row from `queued` to `succeeded` or `failed`.
 *
 * A run reads its row and bumps `attempts` in one statement, and names that attempt in every later write, so an
 * abandoned attempt cannot overwrite a newer one. Each stage is published on the generation's Redis Stream (and
 * written to the row, throttled). Success writes the tracks (with provenance), the ledger entry (idempotency key
 * `generation:<id>:music`), the settled hold and `succeeded` in ONE statement (commitGenerationSuccess). A failed attempt deletes every object it uploaded; the row fails (hold released,
 * reason recorded) only after the last BullMQ attempt, or at once for an UnrecoverableError; before that it goes
 * back to `queued` for the retry. A run handed back at shutdown returns the row to `queued` and keeps its objects
 * (keys are deterministic: the next run overwrites them).
 *
 * Custom requests that ask for lyrics get them written first (stage `writing_lyrics`); their token cost is a second
 * ledger entry (`generation:<id>:lyrics`) in the same success statement. A cancel (the row's
 * `cancel_requested_at`, seen at every stage, or BullMQ's cancelJob through the job-cancel channel) and the
 * GENERATION_TIMEOUT_MS limit abort the provider through the run's AbortSignal; both delete what the attempt
 * uploaded and release the hold (`canceled`, or `failed` with code `timeout`). Taking over a row still `running`
 * counts a stall on it.
 */
import {
  costOf,
  generationParamsSchema,
  generateJobSchema,
  isTerminalStatus,
  JOB_NAMES,
  QUEUE_NAMES,
  STAGE_PROGRESS,
  type GenerationParams,
} from '@dawg/shared';
import {
  claimGenerationAttempt,
  commitGenerationSuccess,
  findGeneration,
  generationUsageKey,
  isGenerationCancelRequested,
  lockGenerationAttempt,
  markGenerationCanceled,
  markGenerationFailed,
  requeueGeneration,
  resolveGenerationHold,
  setGenerationProviderTask,
  setGenerationStageChecked,
  type GenerationRow,
  type UsageInput,
} from '@dawg/db';
import { UnrecoverableError } from 'bullmq';
import { ShutdownAbort } from '../app';
import { DatabaseUnavailableError, isDatabaseDown } from '../db-unavailable';
import { writeLyrics, type WrittenLyrics } from '../lyrics';
import {
  providersFor,
  resolveProvider,
  type MusicProvider,
  type MusicRequest,
  type ProviderFactories,
  type StageUpdate,
} from '../providers';
import { defineJob, type JobContext } from '../registry';
import {
  GenerationPhaseError,
  produceClips,
  StaleAttemptError,
  type PipelineOptions,
  type ProducedClip,
} from './generate-pipeline';
import { createProgressPublisher, type ProgressPublisher } from './generate-progress';
import { deleteObjects } from './generate-storage';

export type GenerateOutcome =
  | { outcome: 'succeeded'; trackIds: string[] }
  | { outcome: 'missing' | 'superseded' | 'not_runnable' }
  | { outcome: 'already_finished'; status: string };

/** Abort reason: the user canceled the generation (row `cancel_requested_at`, or the job-cancel channel). */
export class GenerationCanceled extends Error {
  constructor() {
    super('the generation was canceled');
    this.name = 'GenerationCanceled';
  }
}

/** Abort reason: the generation ran longer than GENERATION_TIMEOUT_MS. */
export class GenerationTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${Math.round(ms / 1000)} s`);
    this.name = 'GenerationTimeout';
  }
}

/** Row errors are shown to the user: one line, bounded. */
const ERROR_MAX_CHARS = 500;

/** The row's stage is written at most this often (every stage is still published on the stream at once). */
export const STAGE_PERSIST_INTERVAL_MS = 250;

/** The row's params, validated: an invalid request is unrecoverable. */
function paramsOf(row: Pick<GenerationRow, 'params'>): GenerationParams {
  const parsed = generationParamsSchema.safeParse(row.params);
  if (!parsed.success) throw new UnrecoverableError('the generation request is invalid');
  return parsed.data;
}

export function musicRequestFor(row: Pick<GenerationRow, 'id' | 'params'>): MusicRequest {
  return musicRequestOf(row.id, paramsOf(row));
}

function musicRequestOf(generationId: string, p: GenerationParams): MusicRequest {
  const prompt = p.mode === 'custom' ? [p.style, p.title].filter(Boolean).join('. ') : (p.prompt ?? '');
  return {
    generationId,
    prompt,
    instrumental: p.instrumental,
    durationSec: p.durationSec,
    seed: p.seed,
    variants: p.variants,
    ...(p.title !== undefined ? { title: p.title } : {}),
    ...(p.style !== undefined ? { style: p.style } : {}),
    ...(p.lyrics !== undefined ? { lyrics: p.lyrics } : {}),
    ...(p.negativeTags !== undefined ? { negativeTags: p.negativeTags } : {}),
    ...(p.genre !== undefined ? { genre: p.genre } : {}),
    ...(p.bpm !== undefined ? { bpm: p.bpm } : {}),
    ...(p.key !== undefined ? { key: p.key } : {}),
    ...(p.scale !== undefined ? { scale: p.scale } : {}),
    ...(p.extend
      ? {
          extend: {
            continueAtSec: p.extend.continueAtSec,
            parentDurationSec: p.extend.parentDurationSec,
            parentVariant: p.extend.parentVariant === 1 ? 1 : 0,
            ...(p.extend.providerClipId ? { providerClipId: p.extend.providerClipId } : {}),
          },
        }
      : {}),
  };
}

/** What the row says about a failure: a code by phase and a one-line reason. */
export function describeFailure(err: unknown): { code: string; message: string } {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  const clip = (s: string) => (s.length > ERROR_MAX_CHARS ? `${s.slice(0, ERROR_MAX_CHARS - 1)}…` : s);
  if (err instanceof GenerationPhaseError) {
    return { code: `${err.phase}_failed`, message: clip(text.charAt(0).toUpperCase() + text.slice(1)) };
  }
  if (err instanceof GenerationTimeout) return { code: 'timeout', message: clip(`Generation ${text}`) };
  if (err instanceof UnrecoverableError) return { code: 'unrecoverable', message: clip(text) };
  return { code: 'internal_error', message: clip(`Generation failed: ${text}`) };
}

function trackTitle(params: GenerationParams, prompt: string, index: number, written?: string): string {
  const base = (params.title ?? written ?? params.prompt ?? prompt).replace(/\s+/g, ' ').trim();
  const short = base.length > 80 ? `${base.slice(0, 79)}…` : base || 'Untitled';
  return params.variants > 1 ? `${short} (take ${index + 1})` : short;
}

async function commitSuccess(
  ctx: JobContext,
  row: GenerationRow,
  params: GenerationParams,
  attempt: number,
  provider: MusicProvider,
  clips: ProducedClip[],
  durationMs: number,
  written: WrittenLyrics | null,
): Promise<string[]> {
  // A provider may bill more clips than were kept (Suno: every clip of the task).
  const billed = Math.max(clips.length, ...clips.map((c) => Number(c.source.meta.billedClips) || 0));
  const units = { unit: 'clips' as const, clips: billed };
  const cost = costOf({ provider: provider.id, model: provider.model, units });
  const usage: UsageInput[] = [
    {
      userId: row.owner_id,
      provider: provider.id,
      model: provider.model,
      kind: 'music',
      units,
      costMicro: cost,
      generationId: row.id,
      idempotencyKey: generationUsageKey(row.id, 'music'),
    },
  ];
  let lyricsCost = 0;
  if (written?.usage) {
    const lyricsUnits = {
      unit: 'tokens' as const,
      inputTokens: written.usage.inputTokens,
      cachedInputTokens: written.usage.cachedInputTokens,
      outputTokens: written.usage.outputTokens,
    };
    lyricsCost = costOf({ provider: 'openai', model: written.usage.model, units: lyricsUnits });
    usage.push({
      userId: row.owner_id,
      provider: 'openai',
      model: written.usage.model,
      kind: 'lyrics',
      units: lyricsUnits,
      costMicro: lyricsCost,
      generationId: row.id,
      idempotencyKey: generationUsageKey(row.id, 'lyrics'),
    });
  }
  // One statement: row `succeeded` (only for this attempt, uncanceled), tracks, ledger and settled hold.
  const result = await commitGenerationSuccess(ctx.db, row.id, {
    attempt,
    tracks: clips.map((c) => ({
      ownerId: row.owner_id,
      projectId: row.project_id,
      generationId: row.id,
      clipIndex: c.index,
      title: trackTitle(params, row.prompt, c.index, written?.title),
      mp3Key: c.keys.mp3,
      wavKey: c.keys.wav,
      peaksKey: c.keys.peaks,
      sizeBytes: c.sizes.mp3,
      durationSec: c.durationSec,
      loudnessLufs: c.loudnessLufs,
      bpm: c.source.bpm,
      musicalKey: c.source.musicalKey,
      sampleRate: c.sampleRate,
      channels: c.channels,
      provider: provider.id,
      model: provider.model,
      prompt: row.prompt,
      lyrics: c.source.lyrics ?? written?.lyrics ?? params.lyrics ?? null,
      params: {
        ...params,
        take: c.index,
        normalization: c.normalization,
        sizes: c.sizes,
        peaks: c.peaks,
        provider: c.source.meta,
      },
      seed: c.source.seed,
      parentTrackId: params.extend?.parentTrackId ?? null,
    })),
    usage,
    actualCostMicro: cost + lyricsCost,
    durationMs,
  });
  if (result.outcome === 'stale') throw new StaleAttemptError(row.id, attempt);
  if (result.outcome === 'canceled') throw new GenerationCanceled();
  return result.trackIds;
}

/** The final failure: row `failed` with the reason and the hold released, in one transaction; then the event. */
async function failFinally(
  ctx: JobContext,
  row: GenerationRow,
  attempt: number | null,
  err: unknown,
  progress: ProgressPublisher,
  durationMs: number | null,
): Promise<void> {
  const { code, message } = describeFailure(err);
  const stage = await ctx.db.transaction().execute(async (trx) => {
    const locked = await lockGenerationAttempt(trx, row.id, attempt);
    if (!locked) return null;
    await markGenerationFailed(trx, row.id, { error: message, errorCode: code, durationMs });
    await resolveGenerationHold(trx, row.id, 'released');
    return locked.stage;
  });
  if (stage === null) return;
  ctx.log.warn({ generationId: row.id, code, attempt }, 'generation failed');
  await progress.publish({ status: 'failed', stage, progress: STAGE_PROGRESS[stage], error: message });
}

/** The end of a canceled run: row `canceled` and the hold released in one transaction; then the event. */
async function finishCanceled(
  ctx: JobContext,
  row: GenerationRow,
  attempt: number,
  progress: ProgressPublisher,
  durationMs: number,
): Promise<boolean> {
  const stage = await ctx.db.transaction().execute(async (trx) => {
    const locked = await lockGenerationAttempt(trx, row.id, attempt);
    if (!locked) return null;
    await markGenerationCanceled(trx, row.id, { durationMs });
    await resolveGenerationHold(trx, row.id, 'released');
    return locked.stage;
  });
  if (stage === null) return false;
  ctx.log.info({ generationId: row.id, attempt }, 'generation canceled');
  await progress.publish({ status: 'canceled', stage, progress: STAGE_PROGRESS[stage], message: 'Canceled' });
  return true;
}

/** Blocks until the signal aborts (GENERATION_FAULT=pause_processing), then throws its reason. */
function pausedUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

/** Seams for the throughput benchmark: other providers than the environment's, another mastering step. */
export interface GenerateJobOverrides {
  providers?: ProviderFactories;
  master?: PipelineOptions['master'];
}

export async function runGenerateJob(
  generationId: string,
  ctx: JobContext,
  overrides: GenerateJobOverrides = {},
): Promise<GenerateOutcome> {
  const { db, env, log, signal } = ctx;
  // One statement reads the row and starts this run (attempts + 1; a stall counted when a lost run is taken over).
  const claim = await claimGenerationAttempt(db, generationId);
  if (claim.outcome === 'missing') {
    log.warn({ generationId }, 'generation row not found; nothing to do');
    return { outcome: 'missing' };
  }
  if (claim.outcome === 'not_runnable') {
    return isTerminalStatus(claim.status)
      ? { outcome: 'already_finished', status: claim.status }
      : { outcome: 'not_runnable' };
  }
  const row = claim.row;
  const attempt = row.attempts;
  const progress = createProgressPublisher(ctx.redis, env.REDIS_KEY_PREFIX, generationId, log);

  let provider: MusicProvider;
  let request: MusicRequest;
  let params: GenerationParams;
  try {
    params = paramsOf(row);
    request = musicRequestOf(row.id, params);
    provider = resolveProvider(row.provider, overrides.providers ?? providersFor(env));
  } catch (err) {
    // Nothing any attempt could do: fail now, with the reason.
    await failFinally(ctx, row, attempt, err, progress, null);
    throw err instanceof UnrecoverableError ? err : new UnrecoverableError((err as Error).message);
  }
  if (row.provider_task_id) request.providerTaskId = row.provider_task_id;
  const needsLyrics = params.mode === 'custom' && params.writeLyrics === true && !params.lyrics;
  const firstStage = needsLyrics ? 'writing_lyrics' : 'generating';
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);

  // The run's own abort: a cancel seen on the row, or the generation's time limit. The job's signal (shutdown, or
  // a cancel through BullMQ's Worker.cancelJob) joins it.
  const control = new AbortController();
  const timer = setTimeout(
    () => control.abort(new GenerationTimeout(env.GENERATION_TIMEOUT_MS)),
    env.GENERATION_TIMEOUT_MS,
  );
  timer.unref?.();
  const runSignal = AbortSignal.any([signal, control.signal]);
  const cancel = () => {
    if (!control.signal.aborted) control.abort(new GenerationCanceled());
  };

  const fault = env.NODE_ENV === 'production' ? undefined : env.GENERATION_FAULT;
  // Stages are published at once but written to the row at most every STAGE_PERSIST_INTERVAL_MS: a fast job's
  // stages would otherwise cost a database round trip each. The stream carries every stage; the row catches up at
  // the next write and at the final commit; a cancel also arrives over Redis and is re-checked by that commit.
  let lastPersisted = performance.now();
  const onStage = async ({ stage, progress: value = STAGE_PROGRESS[stage], message, streamUrl }: StageUpdate) => {
    const pausing = stage === 'processing' && fault === 'pause_processing';
    if (pausing || performance.now() - lastPersisted >= STAGE_PERSIST_INTERVAL_MS) {
      // One statement records the stage and reads a pending cancel; only a current, uncanceled attempt publishes.
      const state = await setGenerationStageChecked(db, generationId, attempt, stage, value);
      lastPersisted = performance.now();
      if (state === 'stale') throw new StaleAttemptError(generationId, attempt);
      if (state === 'cancel') {
        cancel();
        throw new GenerationCanceled();
      }
    }
    // Not awaited: one connection keeps the stream's order, publish never throws, and the job does not wait a round
    // trip per stage (the final event is awaited after the commit).
    void progress.publish({
      status: 'running',
      stage,
      progress: value,
      ...(message ? { message } : {}),
      ...(streamUrl ? { streamUrl } : {}),
    });
    if (stage === 'processing' && fault === 'pause_processing') await pausedUntilAborted(runSignal);
  };
  const uploaded: string[] = [];
  let written: WrittenLyrics | null = null;
  try {
    if (row.cancel_requested_at) {
      cancel();
      throw new GenerationCanceled();
    }
    // The claim chose the first stage from the row's params in SQL; the parsed params have the last word.
    if (row.stage !== firstStage) {
      const state = await setGenerationStageChecked(db, generationId, attempt, firstStage, STAGE_PROGRESS[firstStage]);
      if (state === 'stale') throw new StaleAttemptError(generationId, attempt);
    }
    // Not awaited: the publisher keeps the stream's order, and the final event is awaited after the commit.
    void progress.publish({
      status: 'running',
      stage: firstStage,
      progress: STAGE_PROGRESS[firstStage],
      message: `${needsLyrics ? 'Writing lyrics' : 'Generating'}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
    });
    if (needsLyrics) {
      written = await writeLyrics(
        {
          style: params.style ?? request.prompt,
          prompt: request.prompt,
          seed: params.seed,
          durationSec: params.durationSec,
          ...(params.title ? { title: params.title } : {}),
        },
        env,
        runSignal,
      );
      request.lyrics = written.lyrics;
      request.title ??= written.title;
      await onStage({ stage: 'generating' });
    }
    const clips = await produceClips({
      provider,
      request,
      userId: row.owner_id,
      s3: ctx.s3,
      bucket: env.AWS_S3_BUCKET,
      signal: runSignal,
      onStage,
      onTaskId: (taskId) => setGenerationProviderTask(db, generationId, attempt, taskId),
      uploaded,
      failRender: fault === 'render',
      ...(overrides.master ? { master: overrides.master } : {}),
    });
    if (fault === 'finalize') {
      throw new GenerationPhaseError('finalize', new Error('injected finalize fault (GENERATION_FAULT=finalize)'));
    }
    const trackIds = await commitSuccess(ctx, row, params, attempt, provider, clips, elapsed(), written);
    await progress.publish({ status: 'succeeded', stage: 'done', progress: 100, trackIds, message: 'Done' });
    log.info({ generationId, attempt, tracks: trackIds.length }, 'generation succeeded');
    return { outcome: 'succeeded', trackIds };
  } catch (err) {
    if (err instanceof StaleAttemptError) {
      // A newer attempt owns the row and the same deterministic keys: its objects must stay.
      log.info({ generationId, attempt }, 'attempt superseded; leaving the row to the newer attempt');
      return { outcome: 'superseded' };
    }
    if (signal.aborted && signal.reason instanceof ShutdownAbort) {
      if (await requeueGeneration(db, generationId, attempt, 'The worker restarted; the generation was requeued')) {
        await progress.publish({ status: 'queued', stage: 'queued', progress: 0, message: 'Requeued' });
      }
      throw err;
    }
    if (await isDatabaseDown(db, err)) {
      // Postgres unreachable (maybe mid-commit: the commit may even have happened). Nothing is deleted or written:
      // the objects' keys are deterministic and the next run takes the row over; the worker retries the job.
      log.warn({ generationId, attempt, err: (err as Error).message }, 'database unreachable; the job will be retried');
      throw new DatabaseUnavailableError(err);
    }
    // A run that lost its row to a newer attempt (its lock expired while it kept going) shares that attempt's
    // deterministic keys: deleting "its" objects would delete the newer attempt's, so it leaves everything alone.
    const current = await findGeneration(db, generationId).catch(() => undefined);
    if (current && current.attempts !== attempt) {
      log.info(
        { generationId, attempt },
        'failed attempt was superseded; leaving the row and objects to the newer one',
      );
      return { outcome: 'superseded' };
    }
    const leftovers = await deleteObjects(ctx.s3, env.AWS_S3_BUCKET, uploaded);
    if (leftovers.length > 0)
      log.error({ generationId, keys: leftovers }, 'could not delete objects of a failed attempt');
    const timedOut = control.signal.reason instanceof GenerationTimeout;
    // Canceled: our own check saw it, BullMQ's cancelJob aborted the job, or the row says so (checked last).
    const canceled =
      !timedOut &&
      (err instanceof GenerationCanceled ||
        control.signal.reason instanceof GenerationCanceled ||
        signal.aborted ||
        (await isGenerationCancelRequested(db, generationId).catch(() => false)));
    if (canceled) {
      await finishCanceled(ctx, row, attempt, progress, elapsed());
      throw new UnrecoverableError('the generation was canceled');
    }
    const cause = timedOut ? (control.signal.reason as GenerationTimeout) : err;
    const final =
      timedOut || err instanceof UnrecoverableError || ctx.job.attemptsMade + 1 >= (ctx.job.opts?.attempts ?? 1);
    if (final) {
      await failFinally(ctx, row, attempt, cause, progress, elapsed());
      if (timedOut) throw new UnrecoverableError(describeFailure(cause).message);
    } else {
      const { message } = describeFailure(err);
      if (await requeueGeneration(db, generationId, attempt, message)) {
        await progress.publish({ status: 'queued', stage: 'queued', progress: 0, message: `Retrying: ${message}` });
      }
      log.warn({ generationId, attempt, err: message }, 'generation attempt failed; it will be retried');
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

export const generateJob = defineJob({
  name: JOB_NAMES.generate,
  queue: QUEUE_NAMES.generate,
  schema: generateJobSchema,
  handler: ({ generationId }, ctx) => runGenerateJob(generationId, ctx),
});
