import { describe, expect, it } from 'vitest';
import {
  PRICES,
  PROVIDERS,
  PriceError,
  costOf,
  estimateChatCost,
  estimateMusicCost,
  findModelPrice,
  formatUsd,
  usageUnitsSchema,
  usdToMicro,
} from './prices';

describe('costOf', () => {
  it('prices tokens per million, input and output separately', () => {
    // gpt-4o: $2.50 in, $10 out per Mtok → 1M in + 1M out = $12.50
    expect(
      costOf({ provider: 'openai', model: 'gpt-4o', units: { unit: 'tokens', inputTokens: 1e6, outputTokens: 1e6 } }),
    ).toBe(12_500_000);
    // claude-sonnet-4-5: 1,000 in ($0.003) + 500 out ($0.0075)
    expect(
      costOf({
        provider: 'anthropic',
        model: 'claude-sonnet-4-5',
        units: { unit: 'tokens', inputTokens: 1000, outputTokens: 500 },
      }),
    ).toBe(10_500);
  });

  it('rounds up to the next micro-dollar, once per record', () => {
    // gpt-4o-mini input is $0.15/Mtok = 0.15 µUSD per token: 1 token costs 1 µUSD, 10 tokens 2 µUSD (1.5 → 2)
    const mini = (inputTokens: number) =>
      costOf({ provider: 'openai', model: 'gpt-4o-mini', units: { unit: 'tokens', inputTokens, outputTokens: 0 } });
    expect(mini(1)).toBe(1);
    expect(mini(10)).toBe(2);
    expect(mini(0)).toBe(0);
  });

  it('bills cached input at the cached rate', () => {
    const cached = costOf({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      units: { unit: 'tokens', inputTokens: 0, cachedInputTokens: 1e6, outputTokens: 0 },
    });
    expect(cached).toBe(300_000);
  });

  it('stays exact for volumes beyond 2^53 intermediate products', () => {
    const huge = costOf({
      provider: 'anthropic',
      model: 'claude-opus-4-1',
      units: { unit: 'tokens', inputTokens: 1e9, outputTokens: 1e9 },
    });
    expect(huge).toBe(90_000 * 1e6);
  });

  it('prices realtime audio and text tokens separately', () => {
    const cost = costOf({
      provider: 'openai',
      model: 'gpt-realtime',
      units: {
        unit: 'realtime',
        textInputTokens: 1e6,
        textOutputTokens: 1e6,
        audioInputTokens: 1e6,
        audioOutputTokens: 1e6,
      },
    });
    expect(cost).toBe(usdToMicro(4 + 16 + 32 + 64));
  });

  it('prices clips and seconds', () => {
    expect(costOf({ provider: 'suno', model: 'V4_5', units: { unit: 'clips', clips: 2 } })).toBe(100_000);
    // whisper-1 at $0.006/min = 100 µUSD/s; 1.5 s → 150, 0.0001 s rounds up to 1
    expect(costOf({ provider: 'openai', model: 'whisper-1', units: { unit: 'seconds', seconds: 1.5 } })).toBe(150);
    expect(costOf({ provider: 'openai', model: 'whisper-1', units: { unit: 'seconds', seconds: 0.0001 } })).toBe(1);
  });

  it('charges nothing for the local synth and the test provider, whatever the units', () => {
    expect(costOf({ provider: 'local', model: 'synth-v1', units: { unit: 'seconds', seconds: 300 } })).toBe(0);
    expect(
      costOf({ provider: 'test', model: 'anything', units: { unit: 'tokens', inputTokens: 5, outputTokens: 5 } }),
    ).toBe(0);
  });

  it('matches dated model ids to their family and refuses unknown models', () => {
    expect(findModelPrice('anthropic', 'claude-sonnet-4-5-20250929')).toBe(PRICES.anthropic['claude-sonnet-4-5']);
    expect(findModelPrice('openai', 'gpt-4o-2024-08-06')).toBe(PRICES.openai['gpt-4o']);
    expect(findModelPrice('anthropic', 'claude-3-7-sonnet-latest')).toBe(PRICES.anthropic['claude-3-7-sonnet']);
    expect(findModelPrice('openai', 'gpt-9-ultra')).toBeUndefined();
    expect(() =>
      costOf({ provider: 'openai', model: 'gpt-9-ultra', units: { unit: 'tokens', inputTokens: 1, outputTokens: 1 } }),
    ).toThrow(PriceError);
    // an unknown Suno model is charged at the highest clip rate rather than refused
    expect(costOf({ provider: 'suno', model: 'V9', units: { unit: 'clips', clips: 1 } })).toBe(60_000);
  });

  it('refuses usage in the wrong unit for the model', () => {
    expect(() => costOf({ provider: 'suno', model: 'V5', units: { unit: 'seconds', seconds: 10 } })).toThrow(
      /billed in clips/,
    );
  });

  it('has integer, non-negative prices everywhere', () => {
    for (const provider of PROVIDERS) {
      for (const [model, price] of Object.entries(PRICES[provider])) {
        for (const [field, value] of Object.entries(price)) {
          if (field === 'unit') continue;
          expect(Number.isSafeInteger(value) && (value as number) >= 0, `${provider}/${model}.${field}`).toBe(true);
        }
      }
    }
  });
});

describe('estimates', () => {
  it('estimates a Suno task as two clips and the local synth as free', () => {
    expect(estimateMusicCost({ provider: 'suno', model: 'V5', durationSec: 120 })).toBe(120_000);
    expect(estimateMusicCost({ provider: 'local', model: 'synth-v1', durationSec: 120 })).toBe(0);
    expect(() => estimateMusicCost({ provider: 'openai', model: 'gpt-4o', durationSec: 30 })).toThrow(PriceError);
  });

  it('estimates a chat call from its maximum output', () => {
    expect(
      estimateChatCost({ provider: 'anthropic', model: 'claude-haiku-4-5', inputTokens: 2000, maxOutputTokens: 1000 }),
    ).toBe(2000 + 5000);
  });
});

describe('formatUsd', () => {
  it('formats micro-dollars', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(1_500_000)).toBe('$1.50');
    expect(formatUsd(12_345)).toBe('$0.0123');
    expect(formatUsd(12_350)).toBe('$0.0124');
    expect(formatUsd(1_234_567_890_000)).toBe('$1,234,567.89');
    expect(formatUsd(-2_500_000)).toBe('-$2.50');
    expect(formatUsd(40)).toBe('$0.00');
    expect(formatUsd(123_456, { maxDecimals: 6 })).toBe('$0.123456');
    expect(formatUsd(1_999_999, { maxDecimals: 2 })).toBe('$2.00');
  });
});

describe('usageUnitsSchema', () => {
  it('rejects negative and fractional token counts', () => {
    expect(usageUnitsSchema.safeParse({ unit: 'tokens', inputTokens: -1, outputTokens: 0 }).success).toBe(false);
    expect(usageUnitsSchema.safeParse({ unit: 'tokens', inputTokens: 1.5, outputTokens: 0 }).success).toBe(false);
    expect(usageUnitsSchema.safeParse({ unit: 'clips', clips: 2 }).success).toBe(true);
  });
});
