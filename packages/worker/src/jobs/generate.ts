/**
 * The `generate` job: one generation row from `queued` to `succeeded` or `failed`.
 *
 * A run bumps the row's `attempts` and names that attempt in every later write, so an abandoned attempt cannot
 * overwrite a newer one. Each stage is persisted, then published on the generation's Redis Stream. Success writes the
 * tracks (with provenance), the ledger entry (idempotency key `generation:<id>:music`), the settled hold and
 * `succeeded` in ONE transaction. A failed attempt deletes every object it uploaded; the row fails (hold released,
 * reason recorded) only after the last BullMQ attempt, or at once for an UnrecoverableError; before that it goes
 * back to `queued` for the retry. A run handed back at shutdown returns the row to `queued` and keeps its objects
 * (keys are deterministic: the next run overwrites them).
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
  findGeneration,
  generationUsageKey,
  lockGenerationAttempt,
  markGenerationFailed,
  markGenerationSucceeded,
  recordUsage,
  requeueGeneration,
  resolveGenerationHold,
  setGenerationStage,
  startGenerationAttempt,
  upsertGeneratedTracks,
  type GenerationRow,
} from '@dawg/db';
import { UnrecoverableError } from 'bullmq';
import { ShutdownAbort } from '../app';
import { resolveProvider, type MusicProvider, type MusicRequest, type StageUpdate } from '../providers';
import { defineJob, type JobContext } from '../registry';
import { GenerationPhaseError, produceClips, StaleAttemptError, type ProducedClip } from './generate-pipeline';
import { createProgressPublisher, type ProgressPublisher } from './generate-progress';
import { deleteObjects } from './generate-storage';

export type GenerateOutcome =
  | { outcome: 'succeeded'; trackIds: string[] }
  | { outcome: 'missing' | 'superseded' | 'not_runnable' }
  | { outcome: 'already_finished'; status: string };

/** Row errors are shown to the user: one line, bounded. */
const ERROR_MAX_CHARS = 500;

export function musicRequestFor(row: Pick<GenerationRow, 'id' | 'params'>): MusicRequest {
  const parsed = generationParamsSchema.safeParse(row.params);
  if (!parsed.success) throw new UnrecoverableError('the generation request is invalid');
  const p: GenerationParams = parsed.data;
  const prompt = p.mode === 'custom' ? [p.style, p.title].filter(Boolean).join('. ') : (p.prompt ?? '');
  return {
    generationId: row.id,
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
  };
}

/** What the row says about a failure: a code by phase and a one-line reason. */
export function describeFailure(err: unknown): { code: string; message: string } {
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  const clip = (s: string) => (s.length > ERROR_MAX_CHARS ? `${s.slice(0, ERROR_MAX_CHARS - 1)}…` : s);
  if (err instanceof GenerationPhaseError) {
    return { code: `${err.phase}_failed`, message: clip(text.charAt(0).toUpperCase() + text.slice(1)) };
  }
  if (err instanceof UnrecoverableError) return { code: 'unrecoverable', message: clip(text) };
  return { code: 'internal_error', message: clip(`Generation failed: ${text}`) };
}

function trackTitle(params: GenerationParams, prompt: string, index: number): string {
  const base = (params.title ?? params.prompt ?? prompt).replace(/\s+/g, ' ').trim();
  const short = base.length > 80 ? `${base.slice(0, 79)}…` : base || 'Untitled';
  return params.variants > 1 ? `${short} (take ${index + 1})` : short;
}

async function commitSuccess(
  ctx: JobContext,
  row: GenerationRow,
  attempt: number,
  provider: MusicProvider,
  clips: ProducedClip[],
  durationMs: number,
): Promise<string[]> {
  const params = generationParamsSchema.parse(row.params);
  const units = { unit: 'clips' as const, clips: clips.length };
  const cost = costOf({ provider: provider.id, model: provider.model, units });
  return ctx.db.transaction().execute(async (trx) => {
    const locked = await lockGenerationAttempt(trx, row.id, attempt);
    if (!locked || locked.status !== 'running') throw new StaleAttemptError(row.id, attempt);
    const trackIds = await upsertGeneratedTracks(
      trx,
      clips.map((c) => ({
        ownerId: row.owner_id,
        projectId: row.project_id,
        generationId: row.id,
        clipIndex: c.index,
        title: trackTitle(params, row.prompt, c.index),
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
        lyrics: c.source.lyrics ?? params.lyrics ?? null,
        params: {
          ...params,
          take: c.index,
          normalization: c.normalization,
          sizes: c.sizes,
          peaks: c.peaks,
          provider: c.source.meta,
        },
        seed: c.source.seed,
      })),
    );
    await recordUsage(trx, {
      userId: row.owner_id,
      provider: provider.id,
      model: provider.model,
      kind: 'music',
      units,
      costMicro: cost,
      generationId: row.id,
      idempotencyKey: generationUsageKey(row.id, 'music'),
    });
    await resolveGenerationHold(trx, row.id, 'settled');
    await markGenerationSucceeded(trx, row.id, { actualCostMicro: cost, durationMs });
    return trackIds;
  });
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

export async function runGenerateJob(generationId: string, ctx: JobContext): Promise<GenerateOutcome> {
  const { db, env, log, signal } = ctx;
  const row = await findGeneration(db, generationId);
  if (!row) {
    log.warn({ generationId }, 'generation row not found; nothing to do');
    return { outcome: 'missing' };
  }
  if (isTerminalStatus(row.status)) return { outcome: 'already_finished', status: row.status };
  const progress = createProgressPublisher(ctx.redis, env.REDIS_KEY_PREFIX, generationId, log);

  let provider: MusicProvider;
  let request: MusicRequest;
  try {
    request = musicRequestFor(row);
    provider = resolveProvider(row.provider);
  } catch (err) {
    // Nothing any attempt could do: fail now, with the reason.
    await failFinally(ctx, row, null, err, progress, null);
    throw err instanceof UnrecoverableError ? err : new UnrecoverableError((err as Error).message);
  }

  const running = await startGenerationAttempt(db, generationId, 'generating', STAGE_PROGRESS.generating);
  if (!running) return { outcome: 'not_runnable' };
  const attempt = running.attempts;
  const started = performance.now();
  await progress.publish({
    status: 'running',
    stage: 'generating',
    progress: STAGE_PROGRESS.generating,
    message: attempt > 1 ? `Generating (attempt ${attempt})` : 'Generating',
  });

  const onStage = async ({ stage, progress: value = STAGE_PROGRESS[stage], message }: StageUpdate) => {
    if (!(await setGenerationStage(db, generationId, attempt, stage, value))) {
      throw new StaleAttemptError(generationId, attempt);
    }
    await progress.publish({ status: 'running', stage, progress: value, ...(message ? { message } : {}) });
  };
  const fault = env.NODE_ENV === 'production' ? undefined : env.GENERATION_FAULT;
  const uploaded: string[] = [];
  try {
    const clips = await produceClips({
      provider,
      request,
      userId: row.owner_id,
      s3: ctx.s3,
      bucket: env.AWS_S3_BUCKET,
      signal,
      onStage,
      uploaded,
      failRender: fault === 'render',
    });
    if (fault === 'finalize') {
      throw new GenerationPhaseError('finalize', new Error('injected finalize fault (GENERATION_FAULT=finalize)'));
    }
    const trackIds = await commitSuccess(ctx, row, attempt, provider, clips, Math.round(performance.now() - started));
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
    const leftovers = await deleteObjects(ctx.s3, env.AWS_S3_BUCKET, uploaded);
    if (leftovers.length > 0)
      log.error({ generationId, keys: leftovers }, 'could not delete objects of a failed attempt');
    const final = err instanceof UnrecoverableError || ctx.job.attemptsMade + 1 >= (ctx.job.opts?.attempts ?? 1);
    if (final) {
      await failFinally(ctx, row, attempt, err, progress, Math.round(performance.now() - started));
    } else {
      const { message } = describeFailure(err);
      if (await requeueGeneration(db, generationId, attempt, message)) {
        await progress.publish({ status: 'queued', stage: 'queued', progress: 0, message: `Retrying: ${message}` });
      }
      log.warn({ generationId, attempt, err: message }, 'generation attempt failed; it will be retried');
    }
    throw err;
  }
}

export const generateJob = defineJob({
  name: JOB_NAMES.generate,
  queue: QUEUE_NAMES.generate,
  schema: generateJobSchema,
  handler: ({ generationId }, ctx) => runGenerateJob(generationId, ctx),
});
