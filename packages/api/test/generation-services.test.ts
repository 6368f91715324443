import { createGenerationInputSchema } from '@dawg/shared';
import { describe, expect, it } from 'vitest';
import { chooseMusicProvider, paramsOf, promptOf, assertMusicProviderConfig } from '../src/services/generation';
import { compareStreamIds, isStreamId } from '../src/services/progress-hub';

const user = { id: 'u', role: 'user' as const };
const admin = { id: 'a', role: 'admin' as const };

describe('chooseMusicProvider', () => {
  it('defaults to the local synth, to Suno when configured, and to MUSIC_PROVIDER when set', () => {
    expect(chooseMusicProvider({ NODE_ENV: 'development' }, user, undefined)).toBe('local');
    expect(chooseMusicProvider({ NODE_ENV: 'production', SUNO_API_KEY: 'k' }, user, undefined)).toBe('suno');
    expect(chooseMusicProvider({ NODE_ENV: 'test', MUSIC_PROVIDER: 'test', SUNO_API_KEY: 'k' }, user, undefined)).toBe(
      'test',
    );
  });

  it('never gives normal users the test provider in production', () => {
    expect(() => chooseMusicProvider({ NODE_ENV: 'production' }, user, 'test')).toThrow(/not available/);
    expect(chooseMusicProvider({ NODE_ENV: 'production' }, admin, 'test')).toBe('test');
    expect(chooseMusicProvider({ NODE_ENV: 'development' }, user, 'test')).toBe('test');
    expect(chooseMusicProvider({ NODE_ENV: 'production', MUSIC_PROVIDER: 'test' }, user, undefined)).toBe('local');
    expect(() => assertMusicProviderConfig({ NODE_ENV: 'production', MUSIC_PROVIDER: 'test' })).toThrow();
  });

  it('refuses Suno when it is not configured', () => {
    expect(() => chooseMusicProvider({ NODE_ENV: 'development' }, user, 'suno')).toThrow(/not configured/);
  });
});

describe('params and prompt of a request', () => {
  it('fixes the seed and keeps what the worker needs', () => {
    const simple = createGenerationInputSchema.parse({
      prompt: 'lofi',
      duration: 20,
      bpm: 80,
      key: 'A',
      scale: 'minor',
    });
    expect(paramsOf(simple, 9)).toEqual({
      mode: 'simple',
      prompt: 'lofi',
      instrumental: false,
      durationSec: 20,
      seed: 9,
      variants: 1,
      bpm: 80,
      key: 'A',
      scale: 'minor',
    });
    const custom = createGenerationInputSchema.parse({
      mode: 'custom',
      title: 'Rain',
      style: 'jazz ballad',
      lyrics: 'drops',
      duration: 60,
    });
    expect(promptOf(custom)).toBe('Rain — jazz ballad');
    expect(paramsOf(custom, 1)).toMatchObject({ mode: 'custom', title: 'Rain', style: 'jazz ballad', lyrics: 'drops' });
  });
});

describe('stream ids', () => {
  it('orders numerically and recognises the format', () => {
    expect(compareStreamIds('10-0', '9-5')).toBe(1);
    expect(compareStreamIds('9-5', '9-10')).toBe(-1);
    expect(compareStreamIds('1700000000000-3', '1700000000000-3')).toBe(0);
    expect(isStreamId('1700000000000-0')).toBe(true);
    expect(isStreamId('$')).toBe(false);
    expect(isStreamId('1-2-3')).toBe(false);
  });
});
