/**
 * Analysis of an uploaded file: what ffprobe says it holds, its decoded PCM (interleaved f32 at its own rate, at most
 * two channels), integrated loudness (ffmpeg's EBU R128 meter), a tempo estimate and a playback MP3. Decoding and
 * encoding run in ffmpeg child processes; the tempo estimate is a linear pass over an energy envelope.
 */
import { spawn } from 'node:child_process';
import { FfmpegError, runFfmpeg } from './ffmpeg';
import { asFloat32 } from './pcm';

export interface ProbedAudio {
  sampleRate: number;
  channels: number;
  codec: string;
  /** From the container; null when it does not say. */
  durationSec: number | null;
}

/** ffprobe's view of the first audio stream; null when the file has none (or is not media at all). */
export async function probeAudio(path: string, signal?: AbortSignal): Promise<ProbedAudio | null> {
  const out = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(
      'ffprobe',
      [
        '-v',
        'error',
        '-select_streams',
        'a:0',
        '-show_entries',
        'stream=codec_name,sample_rate,channels:format=duration',
        '-of',
        'json',
        path,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout }));
  });
  if (out.code !== 0) return null;
  try {
    const parsed = JSON.parse(out.stdout) as {
      streams?: { codec_name?: string; sample_rate?: string; channels?: number }[];
      format?: { duration?: string };
    };
    const stream = parsed.streams?.[0];
    const sampleRate = Number(stream?.sample_rate);
    const channels = Number(stream?.channels);
    if (!stream || !(sampleRate > 0) || !(channels > 0)) return null;
    const duration = Number(parsed.format?.duration);
    return {
      sampleRate,
      channels,
      codec: stream.codec_name ?? 'unknown',
      durationSec: Number.isFinite(duration) ? duration : null,
    };
  } catch {
    return null;
  }
}

/** Interleaved f32 samples of the whole file at `sampleRate` with `channels` channels. */
export async function decodeInterleaved(
  path: string,
  sampleRate: number,
  channels: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const { stdout } = await runFfmpeg(
    [
      '-loglevel',
      'error',
      '-i',
      path,
      '-vn',
      '-ac',
      String(channels),
      '-ar',
      String(sampleRate),
      '-f',
      'f32le',
      'pipe:1',
    ],
    signal ? { signal } : {},
  );
  return asFloat32(stdout);
}

function rawArgs(sampleRate: number, channels: number): string[] {
  return ['-f', 'f32le', '-ar', String(sampleRate), '-ac', String(channels), '-i', 'pipe:0'];
}

/** Integrated loudness (LUFS) by ffmpeg's ebur128 filter; null for silence or audio shorter than one gate block. */
export async function integratedLoudness(
  interleaved: Float32Array,
  sampleRate: number,
  channels: number,
  signal?: AbortSignal,
): Promise<number | null> {
  const input = Buffer.from(interleaved.buffer, interleaved.byteOffset, interleaved.byteLength);
  const { stderr } = await runFfmpeg(
    ['-loglevel', 'info', ...rawArgs(sampleRate, channels), '-af', 'ebur128=framelog=verbose', '-f', 'null', '-'],
    { input, ...(signal ? { signal } : {}) },
  );
  const at = stderr.lastIndexOf('Summary:');
  if (at < 0) throw new FfmpegError('ebur128 printed no summary', stderr);
  const match = /I:\s+(-?[\d.]+|-inf) LUFS/.exec(stderr.slice(at));
  const value = match ? Number(match[1]) : Number.NaN;
  return Number.isFinite(value) && value > -70 ? value : null;
}

export const PLAYBACK_MP3_BITRATE = '192k';

/** A 192 kbit/s MP3 of interleaved f32 PCM. */
export async function encodeMp3(
  interleaved: Float32Array,
  sampleRate: number,
  channels: number,
  signal?: AbortSignal,
): Promise<Buffer> {
  const input = Buffer.from(interleaved.buffer, interleaved.byteOffset, interleaved.byteLength);
  const { stdout } = await runFfmpeg(
    [
      '-loglevel',
      'error',
      ...rawArgs(sampleRate, channels),
      '-c:a',
      'libmp3lame',
      '-b:a',
      PLAYBACK_MP3_BITRATE,
      '-f',
      'mp3',
      'pipe:1',
    ],
    { input, ...(signal ? { signal } : {}) },
  );
  return stdout;
}

/**
 * Tempo from the autocorrelation of an onset envelope (positive energy differences over ~11.6 ms hops), searched
 * between 60 and 180 BPM. Null when nothing repeats clearly enough (a held tone, speech, silence).
 */
export function estimateBpm(interleaved: Float32Array, sampleRate: number, channels: number): number | null {
  const hop = Math.max(1, Math.round(sampleRate * 0.0116));
  const frames = Math.floor(interleaved.length / channels);
  const count = Math.floor(frames / hop);
  if (count < 64) return null;
  const energy = new Float64Array(count);
  for (let h = 0; h < count; h++) {
    let sum = 0;
    const end = (h + 1) * hop * channels;
    for (let i = h * hop * channels; i < end; i++) sum += interleaved[i]! * interleaved[i]!;
    energy[h] = Math.sqrt(sum / (hop * channels));
  }
  const onset = new Float64Array(count);
  let mean = 0;
  for (let h = 1; h < count; h++) {
    onset[h] = Math.max(0, energy[h]! - energy[h - 1]!);
    mean += onset[h]!;
  }
  let level = 0;
  let strongest = 0;
  for (let h = 0; h < count; h++) {
    level += energy[h]!;
    strongest = Math.max(strongest, onset[h]!);
  }
  // A steady sound (a held tone, a drone) has no onsets worth the name: its small ripples would fake a tempo.
  if (level <= 0 || strongest < 0.25 * (level / count)) return null;
  // Smoothed twice with [¼ ½ ¼], so a period that falls between two hops still lines up with itself.
  for (let pass = 0; pass < 2; pass++) {
    let prev = onset[0]!;
    for (let h = 1; h < count - 1; h++) {
      const here = onset[h]!;
      onset[h] = 0.25 * prev + 0.5 * here + 0.25 * onset[h + 1]!;
      prev = here;
    }
  }
  mean = 0;
  for (let h = 0; h < count; h++) mean += onset[h]!;
  mean /= count;
  for (let h = 0; h < count; h++) onset[h] = onset[h]! - mean;
  const hopSec = hop / sampleRate;
  const minLag = Math.floor(60 / 180 / hopSec);
  const maxLag = Math.min(count - 1, Math.ceil(60 / 60 / hopSec));
  let zero = 0;
  for (let h = 0; h < count; h++) zero += onset[h]! * onset[h]!;
  if (zero <= 1e-12) return null;
  let bestLag = 0;
  let best = 0;
  for (let lag = minLag; lag <= maxLag; lag++) {
    let sum = 0;
    for (let h = lag; h < count; h++) sum += onset[h]! * onset[h - lag]!;
    const normalised = sum / zero;
    if (normalised > best) {
      best = normalised;
      bestLag = lag;
    }
  }
  if (bestLag === 0 || best < 0.2) return null;
  const corr = (lag: number) => {
    let sum = 0;
    for (let h = lag; h < count; h++) sum += onset[h]! * onset[h - lag]!;
    return sum;
  };
  // A beat correlates as well at two beats as at one: prefer the shorter period when it is nearly as strong.
  for (;;) {
    const half = Math.round(bestLag / 2);
    if (half < minLag) break;
    let peak = half;
    for (const lag of [half - 1, half + 1]) if (lag >= minLag && corr(lag) > corr(peak)) peak = lag;
    if (corr(peak) / zero < 0.8 * best) break;
    bestLag = peak;
  }
  // Parabolic interpolation around the peak for a sub-hop lag.
  const [a, b, c] = [corr(bestLag - 1), corr(bestLag), corr(bestLag + 1)];
  const denom = a - 2 * b + c;
  const shift = denom === 0 ? 0 : Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / denom));
  const bpm = 60 / ((bestLag + shift) * hopSec);
  return Math.round(bpm * 10) / 10;
}
