/**
 * The generation cache: an identical request (normalised prompt and options, seed, provider, model) by the same user
 * within a window is offered the audio it already made, with the money it would save. Accepting the offer answers the
 * existing generation: no provider call, no hold, no charge. Offers never cross users.
 */
import { z } from 'zod';
import type { GenerationParams } from './generation-api';

/** How long a finished generation is offered for reuse. */
export const GENERATION_CACHE_WINDOW_MS = 24 * 60 * 60 * 1000;
/** How many of the user's recent finished generations a lookup compares against. */
export const GENERATION_CACHE_SCAN_LIMIT = 200;

/** Case, surrounding and repeated whitespace do not make a request different. */
export function normaliseText(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const out = text.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();
  return out === '' ? undefined : out;
}

/**
 * The comparable form of a request's params. The seed is left out here: a request that names a seed matches only
 * that seed, one that names none matches any (the caller compares seeds separately, see `cacheMatches`).
 */
export function cacheKeyOf(params: GenerationParams, provider: string, model: string): string {
  const p = params;
  const key = {
    provider,
    model,
    mode: p.mode,
    prompt: normaliseText(p.prompt),
    title: normaliseText(p.title),
    style: normaliseText(p.style),
    lyrics: normaliseText(p.lyrics),
    negativeTags: normaliseText(p.negativeTags),
    instrumental: p.instrumental,
    durationSec: p.durationSec,
    genre: p.genre,
    bpm: p.bpm,
    key: p.key,
    scale: p.scale,
    variants: p.variants,
    writeLyrics: p.writeLyrics === true,
    extend: p.extend ?? null,
  };
  return JSON.stringify(key);
}

/** Whether a stored request answers a new one: same key, and the same seed when the new request names one. */
export function cacheMatches(
  stored: { params: GenerationParams; provider: string; model: string },
  wanted: { params: GenerationParams; provider: string; model: string; seedGiven: boolean },
): boolean {
  if (wanted.seedGiven && stored.params.seed !== wanted.params.seed) return false;
  return (
    cacheKeyOf(stored.params, stored.provider, stored.model) ===
    cacheKeyOf(wanted.params, wanted.provider, wanted.model)
  );
}

export const generationCacheOfferSchema = z.object({
  /** The finished generation whose audio would be reused. */
  generationId: z.uuid(),
  createdAt: z.string(),
  /** What a new generation would cost (micro-dollars), saved by reusing. */
  savingMicro: z.number().int().min(0),
  /** The same, formatted (e.g. "$0.12"). */
  saving: z.string(),
});
export type GenerationCacheOffer = z.infer<typeof generationCacheOfferSchema>;

export const generationCacheLookupOutputSchema = z.object({ offer: generationCacheOfferSchema.nullable() });
export type GenerationCacheLookupOutput = z.infer<typeof generationCacheLookupOutputSchema>;

/** `generation.reuse`: accept an offer. The generation must be the caller's, finished, with audio, in the window. */
export const reuseGenerationInputSchema = z.object({ generationId: z.uuid() });
export type ReuseGenerationInput = z.infer<typeof reuseGenerationInputSchema>;
