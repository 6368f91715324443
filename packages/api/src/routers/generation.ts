/**
 * `generation.*`: create and extend (admission; under the per-user generation rate limit), cancel, get, list
 * (owner-scoped, cursor paging) and onProgress (the row, then live stage events with resumable ids). Thin: each procedure calls a service.
 */
import {
  cancelGenerationInputSchema,
  cancelGenerationOutputSchema,
  createGenerationInputSchema,
  createGenerationOutputSchema,
  extendGenerationInputSchema,
  generationCacheLookupOutputSchema,
  generationProgressInputSchema,
  generationViewSchema,
  getGenerationInputSchema,
  listGenerationsInputSchema,
  listGenerationsOutputSchema,
  reuseGenerationInputSchema,
} from '@dawg/shared';
import { createDemoGenerationLimiter } from '../services/demo';
import { createGeneration, getGeneration, listGenerations, type GenerationDeps } from '../services/generation';
import { lookupCachedGeneration, reuseCachedGeneration } from '../services/generation-cache';
import { cancelGeneration, extendGeneration } from '../services/generation-control';
import { generationProgress } from '../services/progress';
import { protectedProcedure, router, type Context } from '../trpc';

export function generationDeps(ctx: Context): GenerationDeps {
  return {
    db: ctx.db,
    env: ctx.env,
    log: ctx.log,
    storage: { s3: ctx.s3, bucket: ctx.env.AWS_S3_BUCKET },
    generationQueue: ctx.generationQueue,
    demoLimiter: createDemoGenerationLimiter(ctx),
  };
}

export const generationRouter = router({
  create: protectedProcedure
    .input(createGenerationInputSchema)
    .output(createGenerationOutputSchema)
    .mutation(({ ctx, input }) => createGeneration(generationDeps(ctx), ctx.user, input)),

  /** The generation cache: the caller's identical finished song in the window, offered with the saving (or null). */
  cacheLookup: protectedProcedure
    .input(createGenerationInputSchema)
    .output(generationCacheLookupOutputSchema)
    .query(({ ctx, input }) => lookupCachedGeneration(generationDeps(ctx), ctx.user, input)),

  /** Accept a cache offer: the existing generation answers, finished, with no provider call and no charge. */
  reuse: protectedProcedure
    .input(reuseGenerationInputSchema)
    .output(createGenerationOutputSchema)
    .mutation(({ ctx, input }) => reuseCachedGeneration(generationDeps(ctx), ctx.user, input.generationId)),

  /** Continue an owned track from a bar line; admitted like a new song. */
  extend: protectedProcedure
    .input(extendGenerationInputSchema)
    .output(createGenerationOutputSchema)
    .mutation(({ ctx, input }) => extendGeneration(generationDeps(ctx), ctx.user, input)),

  /** Queued → canceled at once; running → its worker aborts it. Either way the hold is released. */
  cancel: protectedProcedure
    .input(cancelGenerationInputSchema)
    .output(cancelGenerationOutputSchema)
    .mutation(({ ctx, input }) => cancelGeneration({ ...generationDeps(ctx), redis: ctx.redis }, ctx.user, input.id)),

  get: protectedProcedure
    .input(getGenerationInputSchema)
    .output(generationViewSchema)
    .query(({ ctx, input }) => getGeneration(generationDeps(ctx), ctx.user.id, input.id)),

  list: protectedProcedure
    .input(listGenerationsInputSchema)
    .output(listGenerationsOutputSchema)
    .query(({ ctx, input }) => listGenerations(generationDeps(ctx), ctx.user.id, input)),

  onProgress: protectedProcedure.input(generationProgressInputSchema).subscription(async function* ({
    ctx,
    input,
    signal,
  }) {
    const deps = { ...generationDeps(ctx), progress: ctx.progress };
    yield* generationProgress(deps, ctx.user.id, input, signal ?? new AbortController().signal);
  }),
});
