/**
 * Generation II request rules: custom mode may ask for its lyrics (and title) to be written, but not together with
 * lyrics or for an instrumental; extend and cancel inputs; snapping a time to a bar line.
 */
import { describe, expect, it } from 'vitest';
import {
  cancelGenerationInputSchema,
  createGenerationInputSchema,
  extendGenerationInputSchema,
  snapToBar,
} from './generation-api';
import { generationProgressEventSchema as eventSchema } from './generation';

const custom = { mode: 'custom' as const, style: 'synth pop', duration: 30 };

function issues(input: unknown): string[] {
  const parsed = createGenerationInputSchema.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
}

describe('custom mode with written lyrics', () => {
  it('accepts writeLyrics without lyrics or title, and still requires both otherwise', () => {
    expect(issues({ ...custom, writeLyrics: true })).toEqual([]);
    expect(issues({ ...custom, title: 'T', instrumental: true })).toEqual([]);
    expect(issues({ ...custom })).toEqual(['title', 'lyrics']);
    expect(issues({ ...custom, title: 'T' })).toEqual(['lyrics']);
  });

  it('refuses writeLyrics with lyrics or for an instrumental, naming the field', () => {
    expect(issues({ ...custom, writeLyrics: true, lyrics: 'la la' })).toEqual(['lyrics']);
    expect(issues({ ...custom, writeLyrics: true, instrumental: true })).toEqual(['writeLyrics']);
  });
});

describe('extend, cancel and the progress event', () => {
  it('parses extend and cancel inputs', () => {
    const trackId = '7f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b';
    expect(extendGenerationInputSchema.parse({ trackId, continueAt: 12.5 })).toEqual({ trackId, continueAt: 12.5 });
    expect(extendGenerationInputSchema.safeParse({ trackId, continueAt: -1 }).success).toBe(false);
    expect(extendGenerationInputSchema.safeParse({ trackId: 'x', continueAt: 1 }).success).toBe(false);
    expect(cancelGenerationInputSchema.safeParse({ id: trackId }).success).toBe(true);
  });

  it('snaps to the nearest 4/4 bar line of the tempo', () => {
    expect(snapToBar(2.9, 120)).toEqual({ bar: 1, seconds: 2, barSec: 2 });
    expect(snapToBar(3.1, 120)).toEqual({ bar: 2, seconds: 4, barSec: 2 });
    expect(snapToBar(8, 90).bar).toBe(3);
    expect(snapToBar(8, 90).seconds).toBeCloseTo(8, 9);
    expect(snapToBar(0.4, 120).bar).toBe(0);
  });

  it('carries an optional playable stream URL', () => {
    const event = {
      generationId: '7f1c2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b',
      status: 'running',
      stage: 'first_audio',
      progress: 50,
      at: 1,
    };
    expect(eventSchema.parse({ ...event, streamUrl: 'https://cdn.example.com/s/1' }).streamUrl).toBe(
      'https://cdn.example.com/s/1',
    );
    expect(eventSchema.safeParse({ ...event, streamUrl: 'not a url' }).success).toBe(false);
  });
});
