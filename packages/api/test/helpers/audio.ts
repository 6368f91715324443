/**
 * Audio files made by the tests with ffmpeg: a sine of known frequency, amplitude and length, as WAV, MP3 or FLAC.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ToneOptions {
  seconds: number;
  frequency?: number;
  /** Peak amplitude, 0…1. */
  amplitude?: number;
  sampleRate?: number;
  channels?: 1 | 2;
  format?: 'wav' | 'mp3' | 'flac';
}

export async function makeTone(opts: ToneOptions): Promise<Buffer> {
  const { seconds, frequency = 440, amplitude = 0.5, sampleRate = 48_000, channels = 2, format = 'wav' } = opts;
  const dir = await mkdtemp(join(tmpdir(), 'dawg-tone-'));
  try {
    const file = join(dir, `tone.${format}`);
    const codec =
      format === 'mp3' ? ['-c:a', 'libmp3lame', '-b:a', '192k'] : format === 'wav' ? ['-c:a', 'pcm_s16le'] : [];
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `aevalsrc=${amplitude}*sin(2*PI*${frequency}*t):s=${sampleRate}:d=${seconds}`,
      '-ac',
      String(channels),
      ...codec,
      file,
    ]);
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
