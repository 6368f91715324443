import { describe, expect, it } from 'vitest';
import {
  GENERATION_STAGES,
  GENERATION_STATUSES,
  GENRES,
  STAGE_PROGRESS,
  canTransition,
  fromRestStatus,
  generateMusicInputSchema,
  isTerminalStatus,
  toRestStatus,
} from './generation';

describe('generation vocabulary', () => {
  it('translates succeeded to the seed REST word and back', () => {
    expect(toRestStatus('succeeded')).toBe('completed');
    expect(toRestStatus('queued')).toBe('queued');
    for (const s of GENERATION_STATUSES) expect(fromRestStatus(toRestStatus(s))).toBe(s);
  });

  it('never moves a terminal status', () => {
    for (const from of GENERATION_STATUSES.filter(isTerminalStatus)) {
      for (const to of GENERATION_STATUSES) expect(canTransition(from, to)).toBe(false);
    }
    expect(canTransition('queued', 'running')).toBe(true);
    expect(canTransition('running', 'succeeded')).toBe(true);
    expect(canTransition('queued', 'succeeded')).toBe(false);
  });

  it('has stage progress increasing from 0 to 100', () => {
    const values = GENERATION_STAGES.map((s) => STAGE_PROGRESS[s]);
    expect(values[0]).toBe(0);
    expect(values.at(-1)).toBe(100);
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
  });

  it('starts the genre list with the seed four', () => {
    expect(GENRES.slice(0, 4)).toEqual(['electronic', 'rock', 'jazz', 'classical']);
    expect(new Set(GENRES).size).toBe(GENRES.length);
  });

  it('validates the seed generate request', () => {
    const ok = generateMusicInputSchema.safeParse({
      prompt: 'upbeat electronic dance music',
      duration: 30,
      genre: 'electronic',
    });
    expect(ok.success).toBe(true);
    expect(generateMusicInputSchema.safeParse({ prompt: '', duration: 30 }).success).toBe(false);
    expect(generateMusicInputSchema.safeParse({ prompt: 'x'.repeat(501), duration: 30 }).success).toBe(false);
    expect(generateMusicInputSchema.safeParse({ prompt: 'x', duration: 4 }).success).toBe(false);
    expect(generateMusicInputSchema.safeParse({ prompt: 'x', duration: 301 }).success).toBe(false);
    expect(generateMusicInputSchema.safeParse({ prompt: 'x', duration: 30, genre: 'polka' }).success).toBe(false);
  });
});
