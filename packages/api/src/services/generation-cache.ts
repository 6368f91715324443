/**
 * The generation cache (see `@dawg/shared` generation-cache.ts): `lookup` compares a request with the caller's own
 * finished songs of the same provider and model in the window and offers the newest identical one with the saving;
 * `reuse` accepts an offer and answers that generation as a finished job. Neither holds budget, charges, enqueues or
 * calls a provider, and both only ever see the caller's rows.
 */
import { findGenerationOfOwner, listReusableGenerations, listTracksOfGenerations, type GenerationRow } from '@dawg/db';
import {
  AppError,
  cacheMatches,
  type CreateGenerationOutput,
  type CreateGenerationRequest,
  DEFAULT_MUSIC_MODELS,
  estimateMusicCost,
  formatUsd,
  GENERATION_CACHE_SCAN_LIMIT,
  GENERATION_CACHE_WINDOW_MS,
  type GenerationCacheLookupOutput,
  type GenerationParams,
} from '@dawg/shared';
import { chooseMusicProvider, paramsOf, type Caller, type GenerationDeps } from './generation';

type CacheDeps = Pick<GenerationDeps, 'db' | 'env'>;

async function hasAudio(deps: CacheDeps, row: GenerationRow): Promise<boolean> {
  const tracks = await listTracksOfGenerations(deps.db, row.owner_id, [row.id]);
  return tracks.some((t) => t.status === 'ready' && t.mp3_key !== null);
}

function inWindow(row: GenerationRow, now: number): boolean {
  return new Date(row.created_at).getTime() >= now - GENERATION_CACHE_WINDOW_MS;
}

export async function lookupCachedGeneration(
  deps: CacheDeps,
  caller: Caller,
  input: CreateGenerationRequest,
): Promise<GenerationCacheLookupOutput> {
  const provider = chooseMusicProvider(deps.env, caller, input.provider);
  const model = DEFAULT_MUSIC_MODELS[provider];
  const seedGiven = input.seed !== undefined;
  const params = paramsOf(input, input.seed ?? 0);
  const now = Date.now();
  const candidates = await listReusableGenerations(deps.db, caller.id, {
    since: new Date(now - GENERATION_CACHE_WINDOW_MS),
    provider,
    model,
    limit: GENERATION_CACHE_SCAN_LIMIT,
  });
  for (const row of candidates) {
    if (row.kind !== 'song') continue;
    const stored = { params: row.params as unknown as GenerationParams, provider: row.provider, model: row.model };
    if (!cacheMatches(stored, { params, provider, model, seedGiven })) continue;
    if (!(await hasAudio(deps, row))) continue;
    const savingMicro = estimateMusicCost({
      provider,
      model,
      durationSec: input.duration,
      ...(provider === 'suno' ? {} : { clips: input.variants }),
    });
    return {
      offer: {
        generationId: row.id,
        createdAt: new Date(row.created_at).toISOString(),
        savingMicro,
        saving: formatUsd(savingMicro),
      },
    };
  }
  return { offer: null };
}

/** Accepts an offer: the existing generation is the answer, finished, at no cost. */
export async function reuseCachedGeneration(
  deps: CacheDeps,
  caller: Caller,
  generationId: string,
): Promise<CreateGenerationOutput> {
  const row = await findGenerationOfOwner(deps.db, caller.id, generationId);
  // Another user's generation is "not found": offers never cross users and ids are not probeable.
  if (!row) throw new AppError('NOT_FOUND', 'Generation not found');
  const reusable =
    row.kind === 'song' && row.status === 'succeeded' && inWindow(row, Date.now()) && (await hasAudio(deps, row));
  if (!reusable) {
    throw new AppError('CONFLICT', 'This generation can no longer be reused; generate a new one', {
      details: [{ path: ['generationId'], message: 'not reusable' }],
    });
  }
  return { jobId: row.id, status: row.status, estimatedTime: 0 };
}
