/**
 * Acceptance of the local synth, judged from the decoded audio of the WAV it produces (through ffmpeg, as a player
 * would decode it): tempo, beat grid, pitch content, harmonic rhythm, determinism, continuation.
 */
import {
  chroma,
  decimate,
  decodeWithFfmpeg,
  detectOnsets,
  estimateTempo,
  harmonyChangePoints,
  maxCrossCorrelation,
  onsetGridAlignment,
  peak,
  pitchClassesPresent,
  rms,
} from '@dawg/testing/audio/index';
import { describe, expect, it } from 'vitest';
import { extendRequest, resolvePlan, type SynthRequest } from './params';
import { renderSong, SAMPLE_RATE, type RenderResult } from './render';
import { SCALES } from './theory';
import { encodeWav } from './wav';

const CASES: { name: string; req: SynthRequest; bpm?: number }[] = [
  { name: 'lofi', req: { prompt: '90 bpm lofi hip hop with rhodes', durationSec: 30, seed: 11 }, bpm: 90 },
  { name: 'techno', req: { prompt: 'dark techno 128', durationSec: 30, seed: 12 }, bpm: 128 },
  { name: 'pop', req: { prompt: 'happy pop song', durationSec: 30, seed: 13 } },
  { name: 'jazz', req: { prompt: 'jazz trio piano', durationSec: 30, seed: 14 } },
  {
    name: 'custom',
    req: { prompt: 'energetic synth track', bpm: 140, key: 'F#', scale: 'minor', durationSec: 30, seed: 15 },
    bpm: 140,
  },
];

const bytes = (x: Float32Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
const mono = (r: RenderResult): Float32Array => r.left.map((v, i) => (v + (r.right[i] as number)) / 2);

describe.each(CASES)('renderSong: $name', ({ req, bpm }) => {
  it('sounds like music in the decoded file: tempo, grid, key, harmonic rhythm, level', async () => {
    const result = renderSong(req);
    const plan = resolvePlan(req);
    const expectedBpm = bpm ?? plan.bpm;
    expect(result.meta.bpm).toBe(expectedBpm);
    expect(result.left.length).toBe(Math.round(req.durationSec * SAMPLE_RATE));

    const decoded = await decodeWithFfmpeg(encodeWav(result), { channels: 1 });
    expect(decoded.durationSec).toBeCloseTo(req.durationSec, 2);
    const pcm = decoded.channels[0] as Float32Array;
    const sr = decoded.sampleRate;

    const tempo = estimateTempo(pcm, sr);
    expect(Math.abs(tempo.bpm - expectedBpm)).toBeLessThanOrEqual(2);

    const onsets = detectOnsets(pcm, sr);
    expect(onsets.length).toBeGreaterThan(req.durationSec);
    expect(
      onsetGridAlignment(onsets, expectedBpm, 0, { subdivision: 4, toleranceMs: 25 }).fraction,
    ).toBeGreaterThanOrEqual(0.7);

    const profile = chroma(pcm, sr);
    expect(pitchClassesPresent(profile).length).toBeGreaterThanOrEqual(4);
    // Most of the pitched energy is in the planned key.
    const loud = chroma(pcm, sr, 0, undefined, { weighting: 'power' });
    const scale = SCALES[plan.scale].map((s) => (s + plan.tonic) % 12);
    expect(scale.reduce((sum, pc) => sum + (loud[pc] as number), 0)).toBeGreaterThanOrEqual(0.7);

    const harmony = harmonyChangePoints(pcm, sr, { bpm: expectedBpm });
    expect(harmony.barBoundaryMean).toBeGreaterThanOrEqual(1.5 * harmony.midBarMean);

    expect(peak(result.left)).toBeLessThanOrEqual(0.99);
    expect(peak(result.right)).toBeLessThanOrEqual(0.99);
    expect(rms(pcm)).toBeGreaterThan(0.03);
  });
});

describe('determinism and variety', () => {
  const req: SynthRequest = { prompt: 'happy pop song', bpm: 116, key: 'D', durationSec: 20, seed: 42 };

  it('renders byte-identical PCM and WAV for the same request', () => {
    const a = renderSong(req);
    const b = renderSong(req);
    expect(bytes(a.left).equals(bytes(b.left))).toBe(true);
    expect(bytes(a.right).equals(bytes(b.right))).toBe(true);
    expect(encodeWav(a).equals(encodeWav(b))).toBe(true);
    expect(a.meta).toEqual(b.meta);
  });

  it('renders different music (not a shifted copy) for another seed or variant', () => {
    const base = decimate(mono(renderSong(req)), 8);
    const maxLag = Math.round(2 * (SAMPLE_RATE / 8));
    for (const other of [
      { ...req, seed: 43 },
      { ...req, variant: 1 as const },
    ]) {
      const r = renderSong(other);
      expect(r.meta.bpm).toBe(116);
      const x = maxCrossCorrelation(base, decimate(mono(r), 8), maxLag);
      expect(x.max).toBeLessThan(0.95);
    }
    const self = maxCrossCorrelation(base, base, maxLag);
    expect(self.max).toBeCloseTo(1, 6);
  });
});

describe('partial renders and continuations', () => {
  it.each([
    { prompt: '90 bpm lofi hip hop with rhodes', durationSec: 30, seed: 1 },
    { prompt: 'dark techno 128', durationSec: 40, seed: 2 },
    { prompt: 'slow cinematic strings', bpm: 60, durationSec: 45, seed: 3 },
  ])('rendering from startBar equals the same bars of the full render: $prompt', (req: SynthRequest) => {
    const full = renderSong(req);
    for (const startBar of [1, Math.floor(full.meta.bars / 2), full.meta.bars - 1]) {
      const part = renderSong({ ...req, startBar });
      const offset = Math.round(startBar * full.meta.barDurationSec * SAMPLE_RATE);
      expect(part.meta.startBar).toBe(startBar);
      expect(part.meta.startSec * SAMPLE_RATE).toBeCloseTo(offset, 6);
      expect(part.left.length).toBe(full.left.length - offset);
      expect(bytes(part.left).equals(bytes(full.left.subarray(offset)))).toBe(true);
      expect(bytes(part.right).equals(bytes(full.right.subarray(offset)))).toBe(true);
    }
  });

  it('continues a song past its end with the same groove, key and progression, seamlessly', () => {
    const original: SynthRequest = { prompt: '90 bpm lofi hip hop with rhodes', durationSec: 30, seed: 5 };
    const first = renderSong(original);
    const ext = extendRequest(original, { durationSec: 60 });
    const continuation = renderSong(ext);
    expect(continuation.meta).toMatchObject({
      bpm: first.meta.bpm,
      key: first.meta.key,
      scale: first.meta.scale,
      genre: first.meta.genre,
    });
    const cut = Math.round(continuation.meta.startSec * SAMPLE_RATE);
    // The original up to the cut plus the continuation is exactly the longer song.
    const whole = renderSong({ ...ext, startBar: 0 });
    expect(bytes(first.left.subarray(0, cut)).equals(bytes(whole.left.subarray(0, cut)))).toBe(true);
    expect(bytes(continuation.left).equals(bytes(whole.left.subarray(cut)))).toBe(true);
    // Same progression: the bars both songs share before the cut carry the same chords.
    const startBar = ext.startBar ?? 0;
    expect(whole.meta.chordsPerBar.slice(0, startBar)).toEqual(first.meta.chordsPerBar.slice(0, startBar));
    // And the continuation keeps the groove: its own audio still measures at the song's tempo.
    const tempo = estimateTempo(mono(continuation), SAMPLE_RATE);
    expect(Math.abs(tempo.bpm - first.meta.bpm)).toBeLessThanOrEqual(2);
  });

  it('rejects a startBar past the end', () => {
    expect(() => renderSong({ prompt: 'pop', durationSec: 10, seed: 1, startBar: 99 })).toThrow(/startBar/);
  });
});

describe('genre coverage', () => {
  it.each([
    'house',
    'rock anthem',
    'trap with 808s',
    'drum and bass',
    'ambient dreamy pads',
    'funk',
    'cinematic epic',
    'classical piano',
    'reggae',
    'sad piano ballad',
    'aggressive metal',
    'vocal pop',
  ])('renders "%s" as audible, clean, in-key audio', (prompt) => {
    const req: SynthRequest = { prompt, durationSec: 15, seed: 3, instrumental: !prompt.includes('vocal') };
    const r = renderSong(req);
    const plan = resolvePlan(req);
    const pcm = mono(r);
    expect(peak(r.left)).toBeLessThanOrEqual(0.99);
    expect(rms(pcm)).toBeGreaterThan(0.02);
    for (let i = 0; i < pcm.length; i += 997) expect(Number.isFinite(pcm[i])).toBe(true);
    const loud = chroma(pcm, SAMPLE_RATE, 0, undefined, { weighting: 'power' });
    const scale = SCALES[plan.scale].map((s) => (s + plan.tonic) % 12);
    expect(scale.reduce((sum, pc) => sum + (loud[pc] as number), 0)).toBeGreaterThanOrEqual(0.6);
  });
});
