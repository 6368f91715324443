/**
 * The price table (data) and the pure cost functions. Every amount is an integer number of micro-dollars
 * (1 µUSD = 1e-6 USD) so sums in the ledger never drift; costs are rounded UP to the next micro-dollar, once per
 * usage record, so we never under-charge. Prices are list prices per provider and model; the local synth and the
 * test provider cost nothing.
 */
import { z } from 'zod';

export const PROVIDERS = ['anthropic', 'openai', 'google', 'suno', 'local', 'test'] as const;
export const providerSchema = z.enum(PROVIDERS);
export type Provider = z.infer<typeof providerSchema>;

/** What a usage record paid for (the ledger's `kind`). */
export const USAGE_KINDS = ['chat', 'lyrics', 'music', 'voice', 'transcription', 'analysis', 'other'] as const;
export const usageKindSchema = z.enum(USAGE_KINDS);
export type UsageKind = z.infer<typeof usageKindSchema>;

export const MICRO_PER_USD = 1_000_000;

/** USD → integer micro-dollars (for writing prices and limits readably). */
export function usdToMicro(usd: number): number {
  return Math.round(usd * MICRO_PER_USD);
}

export function microToUsd(micro: number): number {
  return micro / MICRO_PER_USD;
}

/**
 * Price of one model, in micro-dollars. Token prices are per million tokens (the providers' unit), so
 * `$3 / Mtok` is `3_000_000`. Cached input defaults to the full input price when a provider has no discount.
 */
export type ModelPrice =
  | { unit: 'tokens'; inputPerMtok: number; outputPerMtok: number; cachedInputPerMtok?: number }
  | {
      unit: 'realtime';
      textInputPerMtok: number;
      cachedTextInputPerMtok?: number;
      textOutputPerMtok: number;
      audioInputPerMtok: number;
      cachedAudioInputPerMtok?: number;
      audioOutputPerMtok: number;
    }
  | { unit: 'clips'; perClip: number }
  | { unit: 'seconds'; perSecond: number }
  | { unit: 'free' };

const tokens = (input: number, output: number, cachedInput?: number): ModelPrice => ({
  unit: 'tokens',
  inputPerMtok: usdToMicro(input),
  outputPerMtok: usdToMicro(output),
  ...(cachedInput === undefined ? {} : { cachedInputPerMtok: usdToMicro(cachedInput) }),
});

const realtime = (p: {
  textIn: number;
  textCached: number;
  textOut: number;
  audioIn: number;
  audioCached: number;
  audioOut: number;
}): ModelPrice => ({
  unit: 'realtime',
  textInputPerMtok: usdToMicro(p.textIn),
  cachedTextInputPerMtok: usdToMicro(p.textCached),
  textOutputPerMtok: usdToMicro(p.textOut),
  audioInputPerMtok: usdToMicro(p.audioIn),
  cachedAudioInputPerMtok: usdToMicro(p.audioCached),
  audioOutputPerMtok: usdToMicro(p.audioOut),
});

const perClip = (usd: number): ModelPrice => ({ unit: 'clips', perClip: usdToMicro(usd) });
const perMinute = (usd: number): ModelPrice => ({ unit: 'seconds', perSecond: usdToMicro(usd / 60) });

/**
 * Model ids are matched exactly, then without a trailing date/`-latest` suffix (`claude-sonnet-4-5-20250929` →
 * `claude-sonnet-4-5`), then against the provider's `*` entry if it has one.
 */
export const PRICES: Readonly<Record<Provider, Readonly<Record<string, ModelPrice>>>> = {
  anthropic: {
    'claude-opus-4-5': tokens(5, 25, 0.5),
    'claude-opus-4-1': tokens(15, 75, 1.5),
    'claude-opus-4': tokens(15, 75, 1.5),
    'claude-opus-4-0': tokens(15, 75, 1.5),
    'claude-sonnet-4-5': tokens(3, 15, 0.3),
    'claude-sonnet-4': tokens(3, 15, 0.3),
    'claude-sonnet-4-0': tokens(3, 15, 0.3),
    'claude-3-7-sonnet': tokens(3, 15, 0.3),
    'claude-3-5-sonnet': tokens(3, 15, 0.3),
    'claude-haiku-4-5': tokens(1, 5, 0.1),
    'claude-3-5-haiku': tokens(0.8, 4, 0.08),
    'claude-3-haiku': tokens(0.25, 1.25, 0.03),
  },
  openai: {
    'gpt-4o': tokens(2.5, 10, 1.25),
    'gpt-4o-mini': tokens(0.15, 0.6, 0.075),
    'gpt-4.1': tokens(2, 8, 0.5),
    'gpt-4.1-mini': tokens(0.4, 1.6, 0.1),
    'gpt-realtime': realtime({ textIn: 4, textCached: 0.4, textOut: 16, audioIn: 32, audioCached: 0.4, audioOut: 64 }),
    'gpt-realtime-mini': realtime({
      textIn: 0.6,
      textCached: 0.06,
      textOut: 2.4,
      audioIn: 10,
      audioCached: 0.3,
      audioOut: 20,
    }),
    'gpt-4o-realtime-preview': realtime({
      textIn: 5,
      textCached: 2.5,
      textOut: 20,
      audioIn: 40,
      audioCached: 2.5,
      audioOut: 80,
    }),
    'gpt-4o-mini-realtime-preview': realtime({
      textIn: 0.6,
      textCached: 0.3,
      textOut: 2.4,
      audioIn: 10,
      audioCached: 0.3,
      audioOut: 20,
    }),
    'whisper-1': perMinute(0.006),
    'gpt-4o-transcribe': perMinute(0.006),
    'gpt-4o-mini-transcribe': perMinute(0.003),
  },
  google: {
    'gemini-2.5-pro': tokens(1.25, 10, 0.31),
    'gemini-2.5-flash': tokens(0.3, 2.5, 0.075),
    'gemini-2.5-flash-lite': tokens(0.1, 0.4, 0.025),
    'gemini-2.0-flash': tokens(0.1, 0.4, 0.025),
    'gemini-1.5-pro': tokens(1.25, 5),
    'gemini-1.5-flash': tokens(0.075, 0.3),
  },
  /** Reseller prices per clip (a task usually yields 2); an unknown model is charged at the highest rate. */
  suno: {
    V3_5: perClip(0.04),
    V4: perClip(0.04),
    V4_5: perClip(0.05),
    V4_5PLUS: perClip(0.06),
    V5: perClip(0.06),
    '*': perClip(0.06),
  },
  /** The local synth and offline providers run on our own CPU. */
  local: { '*': { unit: 'free' } },
  test: { '*': { unit: 'free' } },
};

const count = z.number().int().min(0);

/** Quantities a provider reported (stored as the ledger's `units`). Input token counts exclude cached tokens. */
export const usageUnitsSchema = z.discriminatedUnion('unit', [
  z.object({
    unit: z.literal('tokens'),
    inputTokens: count,
    outputTokens: count,
    cachedInputTokens: count.optional(),
  }),
  z.object({
    unit: z.literal('realtime'),
    textInputTokens: count,
    cachedTextInputTokens: count.optional(),
    textOutputTokens: count,
    audioInputTokens: count,
    cachedAudioInputTokens: count.optional(),
    audioOutputTokens: count,
  }),
  z.object({ unit: z.literal('clips'), clips: count }),
  z.object({ unit: z.literal('seconds'), seconds: z.number().min(0) }),
]);
export type UsageUnits = z.infer<typeof usageUnitsSchema>;

export const usageSchema = z.object({
  provider: providerSchema,
  model: z.string().min(1),
  units: usageUnitsSchema,
});
export type Usage = z.infer<typeof usageSchema>;

export class PriceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PriceError';
  }
}

const DATE_SUFFIX = /-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$/;

/** The price of a model, or undefined when the table has none (see PRICES for the matching rules). */
export function findModelPrice(provider: Provider, model: string): ModelPrice | undefined {
  const table = PRICES[provider];
  return table[model] ?? table[model.replace(DATE_SUFFIX, '')] ?? table['*'];
}

export function hasPrice(provider: Provider, model: string): boolean {
  return findModelPrice(provider, model) !== undefined;
}

/** Like findModelPrice, but an unpriced model is an error: spending money at an unknown rate is never silent. */
export function getModelPrice(provider: Provider, model: string): ModelPrice {
  const price = findModelPrice(provider, model);
  if (!price) throw new PriceError(`no price for ${provider}/${model}`);
  return price;
}

const MEGA = 1_000_000n;

/** Σ quantity × price-per-million, divided once and rounded up: exact in BigInt whatever the volumes. */
function perMillion(pairs: [quantity: number, pricePerMillion: number][]): number {
  let total = 0n;
  for (const [q, p] of pairs) total += BigInt(q) * BigInt(p);
  return Number((total + MEGA - 1n) / MEGA);
}

/** Cost of one usage record in integer micro-dollars. Throws PriceError if the model is unpriced or the units
 * do not fit the way the model is billed. */
export function costOf(usage: Usage): number {
  const price = getModelPrice(usage.provider, usage.model);
  const u = usage.units;
  if (price.unit === 'free') return 0;
  if (price.unit !== u.unit) {
    throw new PriceError(`${usage.provider}/${usage.model} is billed in ${price.unit}, usage reported ${u.unit}`);
  }
  switch (u.unit) {
    case 'tokens': {
      const p = price as Extract<ModelPrice, { unit: 'tokens' }>;
      return perMillion([
        [u.inputTokens, p.inputPerMtok],
        [u.cachedInputTokens ?? 0, p.cachedInputPerMtok ?? p.inputPerMtok],
        [u.outputTokens, p.outputPerMtok],
      ]);
    }
    case 'realtime': {
      const p = price as Extract<ModelPrice, { unit: 'realtime' }>;
      return perMillion([
        [u.textInputTokens, p.textInputPerMtok],
        [u.cachedTextInputTokens ?? 0, p.cachedTextInputPerMtok ?? p.textInputPerMtok],
        [u.textOutputTokens, p.textOutputPerMtok],
        [u.audioInputTokens, p.audioInputPerMtok],
        [u.cachedAudioInputTokens ?? 0, p.cachedAudioInputPerMtok ?? p.audioInputPerMtok],
        [u.audioOutputTokens, p.audioOutputPerMtok],
      ]);
    }
    case 'clips': {
      const p = price as Extract<ModelPrice, { unit: 'clips' }>;
      return u.clips * p.perClip;
    }
    case 'seconds': {
      const p = price as Extract<ModelPrice, { unit: 'seconds' }>;
      // Milliseconds keep the arithmetic integral; a per-second price times ms is per-thousand.
      const ms = BigInt(Math.ceil(u.seconds * 1000));
      return Number((ms * BigInt(p.perSecond) + 999n) / 1000n);
    }
  }
}

/**
 * The cost of usage that has not happened yet (what a budget hold reserves). Same arithmetic as costOf: an estimate
 * is the cost of the largest usage the caller allows (e.g. max output tokens).
 */
export function estimateCost(expected: Usage): number {
  return costOf(expected);
}

/** Suno returns two clips per task; both are billed. */
export const SUNO_CLIPS_PER_TASK = 2;

/** Upper bound of one music generation's cost, whatever the way its model is billed. */
export function estimateMusicCost(input: {
  provider: Provider;
  model: string;
  durationSec: number;
  clips?: number;
}): number {
  const price = getModelPrice(input.provider, input.model);
  const clips = input.clips ?? (input.provider === 'suno' ? SUNO_CLIPS_PER_TASK : 1);
  switch (price.unit) {
    case 'free':
      return 0;
    case 'clips':
      return estimateCost({ provider: input.provider, model: input.model, units: { unit: 'clips', clips } });
    case 'seconds':
      return (
        clips *
        estimateCost({
          provider: input.provider,
          model: input.model,
          units: { unit: 'seconds', seconds: input.durationSec },
        })
      );
    default:
      throw new PriceError(`${input.provider}/${input.model} is not a music model (billed in ${price.unit})`);
  }
}

/** Upper bound of one chat/lyrics completion: the prompt plus the most output the call allows. */
export function estimateChatCost(input: {
  provider: Provider;
  model: string;
  inputTokens: number;
  maxOutputTokens: number;
}): number {
  const price = getModelPrice(input.provider, input.model);
  if (price.unit === 'free') return 0;
  return estimateCost({
    provider: input.provider,
    model: input.model,
    units: { unit: 'tokens', inputTokens: input.inputTokens, outputTokens: input.maxOutputTokens },
  });
}

/**
 * Micro-dollars as a USD string: `$1,234.50`, `$0.0123`. Between minDecimals and maxDecimals digits (trailing zeros
 * trimmed down to minDecimals), rounded half up in integer arithmetic.
 */
export function formatUsd(micro: number, opts: { minDecimals?: number; maxDecimals?: number } = {}): string {
  const minDecimals = opts.minDecimals ?? 2;
  const maxDecimals = Math.max(opts.maxDecimals ?? 4, minDecimals);
  if (!Number.isFinite(micro)) throw new RangeError(`not a finite amount: ${micro}`);
  if (maxDecimals > 6) throw new RangeError('micro-dollars have at most 6 decimals');
  const negative = micro < 0;
  const abs = BigInt(Math.abs(Math.round(micro)));
  const step = 10n ** BigInt(6 - maxDecimals);
  const rounded = (abs + step / 2n) / step;
  const scale = 10n ** BigInt(maxDecimals);
  const whole = (rounded / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  let fraction = (rounded % scale).toString().padStart(maxDecimals, '0');
  while (fraction.length > minDecimals && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  const sign = negative && rounded > 0n ? '-' : '';
  return `${sign}$${whole}${fraction ? `.${fraction}` : ''}`;
}
