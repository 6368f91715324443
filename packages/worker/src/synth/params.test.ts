import { isAppError } from '@dawg/shared';
import { describe, expect, it } from 'vitest';
import {
  allProgressions,
  extendRequest,
  genreFromText,
  interpretPrompt,
  keyFromText,
  resolvePlan,
  streamSeed,
  tempoFromText,
  type SynthRequest,
} from './params';
import { diatonicChord, parseKey, voiceChord } from './theory';

describe('interpretPrompt', () => {
  it('reads genre, tempo and instruments from "90 bpm lofi hip hop with rhodes"', () => {
    const p = interpretPrompt('90 bpm lofi hip hop with rhodes');
    expect(p.genre).toBe('lofi');
    expect(p.bpm).toBe(90);
    expect(p.sources.bpm).toBe('prompt');
    expect(p.instruments.chords).toBe('rhodes');
    expect(p.swing).toBeGreaterThan(0);
    expect(p.drumStyle).toBe('lofi');
  });

  it('reads "dark techno 128": a bare number is a tempo, dark means a minor mode', () => {
    const p = interpretPrompt('dark techno 128');
    expect(p.genre).toBe('techno');
    expect(p.bpm).toBe(128);
    expect(p.mood).toBe('dark');
    expect(['minor', 'phrygian']).toContain(p.scale);
    expect(p.drumStyle).toBe('techno');
    expect(p.sidechain).toBe(true);
  });

  it('reads "happy pop song" as a major-key pop song at a pop tempo', () => {
    const p = interpretPrompt('happy pop song');
    expect(p.genre).toBe('pop');
    expect(p.mood).toBe('happy');
    expect(p.scale).toBe('major');
    expect(p.bpm).toBeGreaterThanOrEqual(95);
    expect(p.bpm).toBeLessThanOrEqual(140);
  });

  it('reads "jazz trio piano": piano, upright walking bass, swing ride, no pad', () => {
    const p = interpretPrompt('jazz trio piano');
    expect(p.genre).toBe('jazz');
    expect(p.instruments).toMatchObject({ chords: 'piano', bass: 'upright', lead: 'piano', pad: null });
    expect(p.bassStyle).toBe('walking');
    expect(p.drumStyle).toBe('jazz');
  });

  it('lets explicit bpm/key/scale win over words, and words win over genre defaults', () => {
    const words = interpretPrompt('house track at 100 bpm in A minor');
    expect(words).toMatchObject({ genre: 'house', bpm: 100, tonic: 9, scale: 'minor', key: 'A' });
    expect(words.sources).toMatchObject({ bpm: 'prompt', key: 'prompt', scale: 'prompt' });
    const params = interpretPrompt('house track at 100 bpm in A minor', undefined, {
      bpm: 140,
      key: 'F#',
      scale: 'dorian',
    });
    expect(params).toMatchObject({ bpm: 140, tonic: 6, key: 'F#', scale: 'dorian' });
    expect(params.sources).toMatchObject({ bpm: 'param', key: 'param', scale: 'param' });
    const keyQuality = resolvePlan({ prompt: 'pop', key: 'Ebm', durationSec: 30, seed: 1 });
    expect(keyQuality).toMatchObject({ tonic: 3, scale: 'minor', key: 'Eb' });
  });

  it('moves genre tempos with tempo words', () => {
    const bpms = (prompt: string): number[] =>
      [1, 2, 3, 4, 5, 6].map((seed) => interpretPrompt(prompt, undefined, { seed }).bpm);
    const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(avg(bpms('slow pop'))).toBeLessThan(avg(bpms('pop')));
    expect(avg(bpms('fast pop'))).toBeGreaterThan(avg(bpms('pop')));
  });

  it('uses the genre field over genre words, and a mood to choose a genre when none is named', () => {
    expect(interpretPrompt('something with a rock feel', 'jazz').genre).toBe('jazz');
    expect(interpretPrompt('something with a rock feel').genre).toBe('rock');
    expect(interpretPrompt('a chill evening').genre).toBe('lofi');
    expect(interpretPrompt('epic and heroic').genre).toBe('cinematic');
    expect(interpretPrompt('nothing to go on').genre).toBe('pop');
  });

  it('honours "no drums" and picks instruments from words', () => {
    const p = interpretPrompt('ambient piano with strings and bells, no drums');
    expect(p.drumStyle).toBe('none');
    expect(p.instruments).toMatchObject({ drums: false, chords: 'piano', pad: 'strings', lead: 'bells' });
    expect(interpretPrompt('trap with 808s').instruments.bass).toBe('808');
  });

  it('is deterministic per seed, and the seed picks among the genre’s tied options', () => {
    expect(interpretPrompt('pop', undefined, { seed: 7 })).toEqual(interpretPrompt('pop', undefined, { seed: 7 }));
    const picks = new Set(
      [...Array(16).keys()].map((seed) => {
        const p = interpretPrompt('pop', undefined, { seed });
        return `${p.bpm}/${p.key}/${p.progression.verse.join('')}`;
      }),
    );
    expect(picks.size).toBeGreaterThan(4);
  });

  it('gives variant 1 another seed stream', () => {
    expect(streamSeed(5, 0)).toBe(5);
    expect(streamSeed(5, 1)).not.toBe(5);
    expect(interpretPrompt('pop', undefined, { seed: 5, variant: 1 }).seed).toBe(streamSeed(5, 1));
  });

  it('sizes the form to the duration, bar-aligned', () => {
    const p = resolvePlan({ prompt: 'house', bpm: 120, durationSec: 60, seed: 1 });
    expect(p.barSec).toBe(2);
    expect(p.form.totalBars).toBe(30);
    const kinds = p.sections.map((s) => s.kind);
    expect(kinds[0]).toBe('intro');
    expect(kinds.at(-1)).toBe('outro');
    expect(kinds).toContain('verse');
    expect(kinds).toContain('chorus');
    expect(p.sections.reduce((n, s) => n + s.bars, 0)).toBe(30);
  });
});

describe('prompt words', () => {
  it('finds tempos but not other numbers', () => {
    expect(tempoFromText('a 90 bpm groove')).toBe(90);
    expect(tempoFromText('bpm=140 please')).toBe(140);
    expect(tempoFromText('dark techno 128')).toBe(128);
    expect(tempoFromText('90s hip hop, 30 seconds, 808 bass')).toBeNull();
    expect(tempoFromText('300 bpm')).toBeNull();
  });

  it('finds keys only where a key is meant', () => {
    expect(keyFromText('ballad in F# minor')).toEqual({ tonic: 6, scale: 'minor', spelling: 'sharp' });
    expect(keyFromText('key of Bb')).toEqual({ tonic: 10, spelling: 'flat' });
    expect(keyFromText('something in D dorian')).toEqual({ tonic: 2, scale: 'dorian' });
    expect(keyFromText('a minor change of plans')).toBeNull();
  });

  it('maps genre spellings', () => {
    expect(genreFromText('Lo-Fi Hip Hop')).toBe('lofi');
    expect(genreFromText('DnB')).toBe('drum-and-bass');
    expect(genreFromText('drum & bass')).toBe('drum-and-bass');
    expect(genreFromText('EDM')).toBe('electronic');
    expect(genreFromText('polka')).toBeNull();
  });
});

describe('theory', () => {
  it('parses keys', () => {
    expect(parseKey('C')).toEqual({ tonic: 0 });
    expect(parseKey('F#')).toEqual({ tonic: 6, spelling: 'sharp' });
    expect(parseKey('Bb')).toEqual({ tonic: 10, spelling: 'flat' });
    expect(parseKey('F#m')).toEqual({ tonic: 6, scale: 'minor', spelling: 'sharp' });
    expect(parseKey('Eb minor')).toEqual({ tonic: 3, scale: 'minor', spelling: 'flat' });
    expect(parseKey('H')).toBeNull();
    expect(parseKey('C blues')).toBeNull();
  });

  it('builds and names diatonic chords', () => {
    expect(diatonicChord(0, 'major', 0, 3, 'sharp').name).toBe('C');
    expect(diatonicChord(0, 'major', 4, 4, 'sharp').name).toBe('G7');
    expect(diatonicChord(0, 'major', 1, 4, 'sharp').name).toBe('Dm7');
    expect(diatonicChord(9, 'minor', 4, 3, 'sharp', true).name).toBe('E');
    expect(diatonicChord(9, 'minor', 4, 3, 'sharp').name).toBe('Em');
    expect(diatonicChord(0, 'major', 6, 4, 'sharp').name).toBe('Bm7b5');
    expect(diatonicChord(0, 'major', 0, 5, 'sharp').tones).toEqual([0, 4, 7, 11, 2]);
  });

  it('voices chords close around a centre', () => {
    const v = voiceChord([0, 4, 7], 62);
    expect(v.map((n) => n % 12).sort()).toEqual([0, 4, 7]);
    expect(Math.max(...v) - Math.min(...v)).toBeLessThanOrEqual(12);
    expect(Math.abs(v.reduce((a, b) => a + b, 0) / 3 - 62)).toBeLessThanOrEqual(4);
  });

  it('keeps every library progression free of repeated consecutive chords (wrapping around)', () => {
    for (const p of allProgressions()) {
      for (const prog of [p.verse, p.chorus, p.bridge]) {
        prog.forEach((d, i) => expect(d).not.toBe(prog[(i + 1) % prog.length]));
      }
    }
  });
});

describe('validation', () => {
  const base: SynthRequest = { prompt: 'pop', durationSec: 30, seed: 1 };
  it.each<[Partial<SynthRequest>, string]>([
    [{ bpm: 39 }, 'bpm'],
    [{ bpm: 241 }, 'bpm'],
    [{ durationSec: 4 }, 'durationSec'],
    [{ durationSec: 301 }, 'durationSec'],
    [{ seed: -1 }, 'seed'],
    [{ seed: 2 ** 32 }, 'seed'],
    [{ key: 'X#' }, 'key'],
    [{ startBar: 1.5 }, 'startBar'],
  ])('rejects %o naming %s', (patch, field) => {
    try {
      resolvePlan({ ...base, ...patch });
      expect.unreachable('should have thrown');
    } catch (err) {
      expect(isAppError(err) && err.code).toBe('BAD_REQUEST');
      expect(isAppError(err) && err.details?.[0]?.path).toEqual([field]);
    }
  });
});

describe('extendRequest', () => {
  it('continues from the original outro with the original form', () => {
    const original: SynthRequest = { prompt: 'dark techno 128', durationSec: 30, seed: 3 };
    const plan = resolvePlan(original);
    const ext = extendRequest(original, { durationSec: 60 });
    expect(ext.startBar).toBe(plan.form.totalBars - plan.form.outroBars - 1);
    expect(ext.formBars).toBe(plan.form.totalBars);
    const extPlan = resolvePlan(ext);
    expect(extPlan).toMatchObject({
      bpm: plan.bpm,
      key: plan.key,
      scale: plan.scale,
      genre: plan.genre,
      progression: plan.progression,
    });
    expect(extendRequest(original, { durationSec: 60, continueAtSec: 10 }).startBar).toBe(Math.floor(10 / plan.barSec));
  });
});
