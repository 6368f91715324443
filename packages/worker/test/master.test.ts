/**
 * Mastering against real ffmpeg: whichever way loudnorm normalises (one gain, or its dynamic mode when one gain would
 * push the true peak over the ceiling), the master measures −14 ± 1 LUFS and its true peak stays at or under
 * −1 dBTP. Loudness and true peak are read back with loudnorm's own meter (true peak at 192 kHz).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { masterClip, masterClipToFile } from '../src/audio/master';
import { interleave, type Pcm } from '../src/audio/pcm';

const SR = 44_100;
/** Resampling back to 44.1 kHz and rounding to 16 bits may add a hair over the limiter's ceiling. */
const TRUE_PEAK_TOLERANCE_DB = 0.1;

/** xorshift32, so every run masters the same clip. */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000 - 0.5;
  };
}

function clip(seconds: number, sample: (t: number, channel: number) => number): Pcm {
  const frames = Math.round(seconds * SR);
  const channels = [new Float32Array(frames), new Float32Array(frames)];
  for (let c = 0; c < 2; c++) for (let i = 0; i < frames; i++) channels[c]![i] = sample(i / SR, c);
  return { sampleRate: SR, channels };
}

/** loudnorm's analysis of a WAV: integrated loudness (LUFS) and true peak (dBTP). */
function measure(wav: Buffer): Promise<{ i: number; tp: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn('ffmpeg', [
      '-hide_banner',
      '-nostats',
      '-i',
      'pipe:0',
      '-af',
      'loudnorm=print_format=json',
      '-f',
      'null',
      '-',
    ]);
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.stdin.on('error', () => undefined);
    proc.on('error', reject);
    proc.on('close', (code) => {
      try {
        const json = JSON.parse(stderr.slice(stderr.lastIndexOf('{'), stderr.lastIndexOf('}') + 1)) as Record<
          string,
          string
        >;
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve({ i: Number(json.input_i), tp: Number(json.input_tp) });
      } catch (err) {
        reject(new Error(`ffmpeg loudnorm analysis failed: ${String(err)}: ${stderr.slice(-300)}`));
      }
    });
    proc.stdin.end(wav);
  });
}

async function expectMastered(pcm: Pcm) {
  const master = await masterClip(pcm);
  const { i, tp } = await measure(master.wav);
  expect(i).toBeGreaterThan(-15);
  expect(i).toBeLessThan(-13);
  expect(tp).toBeLessThanOrEqual(-1 + TRUE_PEAK_TOLERANCE_DB);
  expect(Math.abs(i - master.loudnessLufs!)).toBeLessThan(0.5);
  expect(master.durationSec).toBeCloseTo(pcm.channels[0]!.length / SR, 2);
  return master;
}

describe('masterClip', () => {
  it('normalises with one gain when that keeps the true peak under −1 dBTP', async () => {
    // A quiet, slowly swelling chord: low crest factor, some loudness range.
    const master = await expectMastered(
      clip(12, (t, c) => {
        const swell = 0.6 + 0.4 * Math.sin(2 * Math.PI * 0.25 * t);
        return 0.05 * swell * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * (330 + c) * t));
      }),
    );
    expect(master.normalization).toBe('linear');
  });

  it('normalises dynamically, true peak limited, when one gain would clip', async () => {
    // The same quiet chord with a little noise and a loud click every half second: the gain the chord needs would
    // push the clicks over the ceiling.
    const rand = random(7);
    const master = await expectMastered(
      clip(12, (t, c) => {
        const click = t % 0.5 < 0.001 ? 0.9 : 0;
        return click + 0.05 * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * (330 + c) * t)) + 0.01 * rand();
      }),
    );
    expect(master.normalization).toBe('dynamic');
  });

  it('passes silence through untouched', async () => {
    const master = await masterClip(clip(4, () => 0));
    expect(master).toMatchObject({ normalization: 'none', loudnessLufs: null });
    expect(master.wav.byteLength).toBe(44 + 4 * SR * 2 * 2);
    expect(master.mp3.byteLength).toBeGreaterThan(0);
  });
});

describe('masterClipToFile', () => {
  it('writes the same WAV, MP3 and peaks as masterClip, from a raw file or from PCM', async () => {
    const rand = random(11);
    for (const pcm of [
      clip(4, (t, c) => 0.05 * Math.sin(2 * Math.PI * (220 + 110 * c) * t) + 0.002 * rand()),
      // Clicks over a quiet bed: loudnorm's dynamic mode (192 kHz inside), whose output length is ffmpeg's to say.
      clip(3, (t, c) => (t % 0.5 < 0.001 ? 0.9 : 0) + 0.05 * Math.sin(2 * Math.PI * (330 + c) * t)),
    ]) {
      const dir = await mkdtemp(join(tmpdir(), 'dawg-master-test-'));
      try {
        const expected = await masterClip(pcm);
        const rawPath = join(dir, 'in.f32');
        await writeFile(rawPath, interleave(pcm));
        const raw = { path: rawPath, sampleRate: SR, channels: 2, frames: pcm.channels[0]!.length };
        for (const input of [raw, pcm]) {
          const wavPath = join(dir, 'master.wav');
          const { wav, ...rest } = await masterClipToFile(input, wavPath);
          const { wav: expectedWav, ...expectedRest } = expected;
          expect(rest).toEqual(expectedRest);
          expect(wav).toEqual({ path: wavPath, byteLength: expectedWav.byteLength });
          expect((await readFile(wavPath)).equals(expectedWav)).toBe(true);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }, 90_000);

  it('rejects an empty clip', async () => {
    await expect(
      masterClipToFile({ path: '/nonexistent.f32', sampleRate: SR, channels: 2, frames: 0 }, '/tmp/never.wav'),
    ).rejects.toThrow(/empty clip/);
  });
});
