/**
 * EBU R128 loudness normalisation with ffmpeg's loudnorm, in two passes: the first measures the clip
 * (`print_format=json`), the second applies the measured values with `linear=true`, which is a single gain for the
 * whole clip (no dynamic compression) whenever that gain keeps the true peak under the ceiling; loudnorm itself falls
 * back to its dynamic mode when it cannot.
 */
import { FfmpegError, runFfmpeg } from './ffmpeg';

/** Streaming loudness target: −14 LUFS integrated, −1 dBTP ceiling, loudness range 11 LU. */
export const LOUDNESS_TARGET = { I: -14, TP: -1, LRA: 11 } as const;

export const LOUDNORM_TARGET_FILTER = `loudnorm=I=${LOUDNESS_TARGET.I}:TP=${LOUDNESS_TARGET.TP}:LRA=${LOUDNESS_TARGET.LRA}`;

export interface LoudnormMeasurement {
  input_i: number;
  input_tp: number;
  input_lra: number;
  input_thresh: number;
  output_i: number;
  output_tp: number;
  target_offset: number;
  normalization_type: string;
}

/** The JSON block loudnorm prints last on stderr; numbers arrive as strings ("-inf" for silence). */
export function parseLoudnormJson(stderr: string): LoudnormMeasurement {
  const end = stderr.lastIndexOf('}');
  const start = stderr.lastIndexOf('{', end);
  if (start < 0 || end < 0) throw new FfmpegError('loudnorm printed no measurement', stderr);
  const raw = JSON.parse(stderr.slice(start, end + 1)) as Record<string, string>;
  const num = (key: string) => {
    const v = raw[key];
    if (v === undefined) throw new FfmpegError(`loudnorm measurement lacks ${key}`, stderr);
    return Number(v.replace('inf', 'Infinity'));
  };
  return {
    input_i: num('input_i'),
    input_tp: num('input_tp'),
    input_lra: num('input_lra'),
    input_thresh: num('input_thresh'),
    output_i: num('output_i'),
    output_tp: num('output_tp'),
    target_offset: num('target_offset'),
    normalization_type: raw.normalization_type ?? 'unknown',
  };
}

/** ffmpeg input arguments for interleaved raw PCM on stdin (f32le unless told otherwise). */
export function rawInputArgs(sampleRate: number, channels: number, format: 'f32le' | 's16le' = 'f32le'): string[] {
  return ['-f', format, '-ar', String(sampleRate), '-ac', String(channels), '-i', 'pipe:0'];
}

/** Pass 1: measure the clip. */
export async function measureLoudness(
  interleaved: Buffer,
  sampleRate: number,
  channels: number,
  signal?: AbortSignal,
): Promise<LoudnormMeasurement> {
  const { stderr } = await runFfmpeg(
    [
      '-loglevel',
      'info',
      ...rawInputArgs(sampleRate, channels),
      '-af',
      `${LOUDNORM_TARGET_FILTER}:print_format=json`,
      '-f',
      'null',
      '-',
    ],
    { input: interleaved, signal },
  );
  return parseLoudnormJson(stderr);
}

/**
 * Pass 2 filter. Silence (integrated loudness −inf) has nothing to normalise and loudnorm rejects its measured
 * values, so it passes through untouched.
 */
export function normalizeFilter(m: LoudnormMeasurement): string {
  if (!Number.isFinite(m.input_i) || !Number.isFinite(m.input_tp)) return 'anull';
  const fixed = (x: number) => x.toFixed(2);
  return [
    LOUDNORM_TARGET_FILTER,
    `measured_I=${fixed(m.input_i)}`,
    `measured_TP=${fixed(m.input_tp)}`,
    `measured_LRA=${fixed(m.input_lra)}`,
    `measured_thresh=${fixed(m.input_thresh)}`,
    `offset=${fixed(m.target_offset)}`,
    'linear=true',
    'print_format=json',
  ].join(':');
}
