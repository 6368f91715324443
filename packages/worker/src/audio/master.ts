/**
 * Masters one clip: loudness-normalise (two ffmpeg passes: ebur128 measures, then one gain or loudnorm's dynamic
 * mode, see loudnorm.ts), then from the normalised PCM a 16-bit WAV master, a
 * 192 kbit/s MP3 and the waveform peaks. The second pass writes 16-bit PCM (ffmpeg converts) and streams it straight
 * into a concurrent MP3 encoder (another ffmpeg), so normalising and encoding overlap on two cores; the WAV is that
 * PCM behind a 44-byte header. Everything heavy runs in child processes; what stays in JS is linear and short.
 */
import type { WaveformPeaks } from '@dawg/shared';
import { startFfmpeg } from './ffmpeg';
import {
  measureEbur128,
  measureLoudness,
  normalizeFilter,
  parseLoudnormJson,
  planNormalization,
  rawInputArgs,
} from './loudnorm';
import { asInt16, frameCount, interleave, wav16Header, type Pcm } from './pcm';
import { computePeaks } from './peaks';

export const MP3_BITRATE = '192k';

export interface MasteredClip {
  wav: Buffer;
  mp3: Buffer;
  peaks: WaveformPeaks;
  durationSec: number;
  sampleRate: number;
  channels: number;
  /** Integrated loudness of the normalised output (loudnorm's second-pass measurement); null for silence. */
  loudnessLufs: number | null;
  /** How loudnorm applied the target: `linear` (one gain) or `dynamic` (when a single gain would clip). */
  normalization: string;
}

export async function masterClip(pcm: Pcm, { signal }: { signal?: AbortSignal } = {}): Promise<MasteredClip> {
  const channels = pcm.channels.length;
  const { sampleRate } = pcm;
  if (channels < 1 || frameCount(pcm) === 0) throw new Error('cannot master an empty clip');
  const input = interleave(pcm);

  const plan = planNormalization(await measureEbur128(input, sampleRate, channels, signal));
  const filter =
    plan.kind === 'dynamic' ? normalizeFilter(await measureLoudness(input, sampleRate, channels, signal)) : plan.filter;

  const normalize = startFfmpeg(
    [
      '-loglevel',
      'info',
      ...rawInputArgs(sampleRate, channels),
      '-af',
      filter,
      // Dynamic loudnorm works at 192 kHz; come back to the clip's own rate.
      '-ar',
      String(sampleRate),
      '-f',
      's16le',
      '-c:a',
      'pcm_s16le',
      'pipe:1',
    ],
    signal,
  );
  const encode = startFfmpeg(
    [
      '-loglevel',
      'error',
      ...rawInputArgs(sampleRate, channels, 's16le'),
      '-c:a',
      'libmp3lame',
      '-b:a',
      MP3_BITRATE,
      '-f',
      'mp3',
      'pipe:1',
    ],
    signal,
  );
  const normalized: Buffer[] = [];
  const mp3: Buffer[] = [];
  normalize.child.stdout.on('data', (chunk: Buffer) => normalized.push(chunk));
  normalize.child.stdout.pipe(encode.child.stdin);
  encode.child.stdout.on('data', (chunk: Buffer) => mp3.push(chunk));
  normalize.child.stdin.end(input);
  // If the normaliser fails, the encoder would wait forever on its stdin: stop it too.
  normalize.finished.catch(() => encode.child.kill('SIGKILL'));
  const [normalizeLog] = await Promise.all([normalize.finished, encode.finished]);

  const pcm16 = Buffer.concat(normalized);
  const samples = asInt16(pcm16);
  const dynamic = plan.kind === 'dynamic' ? parseLoudnormJson(normalizeLog) : null;
  const loudnessLufs =
    plan.kind === 'linear' ? plan.outputLufs : dynamic && Number.isFinite(dynamic.output_i) ? dynamic.output_i : null;
  const frames = Math.floor(samples.length / channels);
  return {
    wav: Buffer.concat([wav16Header(pcm16.byteLength, sampleRate, channels), pcm16]),
    mp3: Buffer.concat(mp3),
    peaks: computePeaks(samples, sampleRate, channels),
    durationSec: frames / sampleRate,
    sampleRate,
    channels,
    loudnessLufs,
    normalization: plan.kind === 'dynamic' ? (dynamic?.normalization_type ?? 'dynamic') : plan.kind,
  };
}
