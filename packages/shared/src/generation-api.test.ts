import { describe, expect, it } from 'vitest';
import {
  createGenerationInputSchema,
  estimateGenerationSeconds,
  generationEventsKey,
  generationObjectKeys,
  listGenerationsInputSchema,
} from './generation-api';

describe('createGenerationInputSchema', () => {
  it('reads the seed’s REST body as simple mode with defaults', () => {
    const input = createGenerationInputSchema.parse({
      prompt: ' upbeat electronic ',
      duration: 30,
      genre: 'electronic',
    });
    expect(input).toEqual({
      mode: 'simple',
      prompt: 'upbeat electronic',
      duration: 30,
      genre: 'electronic',
      instrumental: false,
      variants: 1,
    });
  });

  it('bounds prompt, duration, bpm, variants and genre', () => {
    const bad = createGenerationInputSchema.safeParse({
      prompt: 'x'.repeat(501),
      duration: 4,
      bpm: 241,
      variants: 3,
      genre: 'polka',
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(['bpm', 'duration', 'genre', 'prompt', 'variants']);
    expect(createGenerationInputSchema.safeParse({ prompt: 'x', duration: 300, bpm: 40, variants: 2 }).success).toBe(
      true,
    );
  });

  it('needs lyrics in custom mode unless instrumental, and bounds them', () => {
    const base = { mode: 'custom', title: 'Night Drive', style: 'synthwave', duration: 60 } as const;
    const missing = createGenerationInputSchema.safeParse(base);
    expect(missing.error?.issues.map((i) => i.path.join('.'))).toEqual(['lyrics']);
    expect(createGenerationInputSchema.safeParse({ ...base, instrumental: true }).success).toBe(true);
    expect(createGenerationInputSchema.safeParse({ ...base, lyrics: 'la '.repeat(100) }).success).toBe(true);
    expect(createGenerationInputSchema.safeParse({ ...base, lyrics: 'x'.repeat(5001) }).success).toBe(false);
  });

  it('accepts keys and scales the synth knows only', () => {
    expect(
      createGenerationInputSchema.safeParse({ prompt: 'x', duration: 10, key: 'F#', scale: 'dorian' }).success,
    ).toBe(true);
    expect(createGenerationInputSchema.safeParse({ prompt: 'x', duration: 10, key: 'H' }).success).toBe(false);
    expect(createGenerationInputSchema.safeParse({ prompt: 'x', duration: 10, scale: 'blues' }).success).toBe(false);
  });
});

describe('generation helpers', () => {
  it('puts objects under the user’s prefix with deterministic names', () => {
    expect(generationObjectKeys('u1', 'g1', 1)).toEqual({
      wav: 'users/u1/generations/g1/1.wav',
      mp3: 'users/u1/generations/g1/1.mp3',
      peaks: 'users/u1/generations/g1/1.peaks.json',
    });
    expect(generationEventsKey('dawg', 'g1')).toBe('dawg:gen:g1:events');
  });

  it('estimates longer local renders as longer, and bounds list pages', () => {
    expect(estimateGenerationSeconds('local', 300, 2)).toBeGreaterThan(estimateGenerationSeconds('local', 30, 1));
    expect(estimateGenerationSeconds('test', 30, 1)).toBe(1);
    expect(listGenerationsInputSchema.parse({})).toEqual({ limit: 20 });
    expect(listGenerationsInputSchema.safeParse({ limit: 51 }).success).toBe(false);
  });
});
