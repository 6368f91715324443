/**
 * EBU R128 loudness normalisation with ffmpeg, in two passes. Pass 1 measures the clip with the `ebur128` filter
 * (integrated loudness, gating threshold, loudness range, true peak at 4× oversampling) — four times faster than a
 * loudnorm analysis pass, which resamples everything to 192 kHz. Pass 2 applies ONE gain (`volume`) whenever that gain
 * keeps the true peak under the ceiling (the common case: the synth's master bus has a peak limiter); only when it
 * would not does loudnorm analyse the clip and pass 2 run its dynamic mode (rare: a clip with loud transients over a
 * quiet bed).
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

/**
 * ffmpeg input arguments for interleaved raw PCM (f32le unless told otherwise), on stdin unless a file is named
 * (a long clip the synth streamed to disk is read by ffmpeg itself, never loaded into the worker).
 */
export function rawInputArgs(
  sampleRate: number,
  channels: number,
  format: 'f32le' | 's16le' = 'f32le',
  file?: string,
): string[] {
  return ['-f', format, '-ar', String(sampleRate), '-ac', String(channels), '-i', file ?? 'pipe:0'];
}

/** Interleaved f32le samples for a pass: in memory (fed on stdin) or a file ffmpeg reads. */
export type RawSource = Buffer | { path: string };

function sourceArgs(source: RawSource, sampleRate: number, channels: number): string[] {
  return rawInputArgs(sampleRate, channels, 'f32le', Buffer.isBuffer(source) ? undefined : source.path);
}

function sourceInput(source: RawSource): Buffer | undefined {
  return Buffer.isBuffer(source) ? source : undefined;
}

/** What pass 1 reports: integrated loudness and its gating threshold (LUFS), loudness range (LU), true peak (dBTP). */
export interface Ebur128Summary {
  i: number;
  thresh: number;
  lra: number;
  tp: number;
}

/** The summary the ebur128 filter prints on stderr when the stream ends ("-inf" for silence). */
export function parseEbur128Summary(stderr: string): Ebur128Summary {
  const at = stderr.lastIndexOf('Summary:');
  if (at < 0) throw new FfmpegError('ebur128 printed no summary', stderr);
  const summary = stderr.slice(at);
  const value = (section: string, label: string, unit: string) => {
    const from = summary.indexOf(section);
    const match =
      from < 0 ? null : new RegExp(`${label}:\\s+(-?inf|-?\\d+(?:\\.\\d+)?) ${unit}`).exec(summary.slice(from));
    if (!match) throw new FfmpegError(`ebur128 summary lacks ${section} ${label}`, stderr);
    return Number(match[1]!.replace('inf', 'Infinity'));
  };
  return {
    i: value('Integrated loudness', 'I', 'LUFS'),
    thresh: value('Integrated loudness', 'Threshold', 'LUFS'),
    lra: value('Loudness range', 'LRA', 'LU'),
    tp: value('True peak', 'Peak', 'dBFS'),
  };
}

/** Pass 1: measure the clip (frame lines go to the verbose log level, so stderr holds only the summary). */
export async function measureEbur128(
  interleaved: RawSource,
  sampleRate: number,
  channels: number,
  signal?: AbortSignal,
): Promise<Ebur128Summary> {
  const { stderr } = await runFfmpeg(
    [
      '-loglevel',
      'info',
      ...sourceArgs(interleaved, sampleRate, channels),
      '-af',
      'ebur128=peak=true:framelog=verbose',
      '-f',
      'null',
      '-',
    ],
    { input: sourceInput(interleaved), signal },
  );
  return parseEbur128Summary(stderr);
}

/** ebur128 reports silence as −70 LUFS (its absolute gate) and a true peak of −inf. */
const SILENCE_LUFS = -70;
/** ebur128 prints one decimal: keep this much margin under the true-peak ceiling when choosing one gain. */
const TRUE_PEAK_MARGIN_DB = 0.1;

export type NormalizationPlan =
  | { kind: 'none'; filter: 'anull' }
  | { kind: 'linear'; filter: string; gainDb: number; outputLufs: number }
  /** One gain would clip: pass 2 is loudnorm's dynamic mode, which needs loudnorm's own analysis first. */
  | { kind: 'dynamic' };

/**
 * Pass 2, decided from pass 1: nothing for silence; one gain to the target when the true peak stays under the
 * ceiling (whatever the loudness range: a master keeps its dynamics); else loudnorm's dynamic mode.
 */
export function planNormalization(m: Ebur128Summary): NormalizationPlan {
  if (!Number.isFinite(m.i) || m.i <= SILENCE_LUFS || !Number.isFinite(m.tp)) return { kind: 'none', filter: 'anull' };
  const gainDb = LOUDNESS_TARGET.I - m.i;
  // Compared in hundredths of a dB: ebur128's values have one decimal, and float sums must not decide the mode.
  if (Math.round((m.tp + gainDb) * 100) <= Math.round((LOUDNESS_TARGET.TP - TRUE_PEAK_MARGIN_DB) * 100)) {
    return { kind: 'linear', filter: `volume=${gainDb.toFixed(2)}dB`, gainDb, outputLufs: m.i + gainDb };
  }
  return { kind: 'dynamic' };
}

/** A loudnorm analysis pass: the measurements its dynamic mode needs (only run when one gain cannot do). */
export async function measureLoudness(
  interleaved: RawSource,
  sampleRate: number,
  channels: number,
  signal?: AbortSignal,
): Promise<LoudnormMeasurement> {
  const { stderr } = await runFfmpeg(
    [
      '-loglevel',
      'info',
      ...sourceArgs(interleaved, sampleRate, channels),
      '-af',
      `${LOUDNORM_TARGET_FILTER}:print_format=json`,
      '-f',
      'null',
      '-',
    ],
    { input: sourceInput(interleaved), signal },
  );
  return parseLoudnormJson(stderr);
}

/**
 * The loudnorm pass-2 filter from its own analysis (`linear=true`: loudnorm still picks its dynamic mode when one gain
 * would clip). Silence (−inf) has nothing to normalise and loudnorm rejects its measured values: it passes through.
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
