/**
 * Masters one clip: loudness-normalise (two ffmpeg passes: ebur128 measures, then one gain or loudnorm's dynamic
 * mode, see loudnorm.ts), then from the normalised PCM a 16-bit WAV master, a
 * 192 kbit/s MP3 and the waveform peaks. The second pass writes 16-bit PCM (ffmpeg converts) and streams it straight
 * into a concurrent MP3 encoder (another ffmpeg), so normalising and encoding overlap on two cores; the WAV is that
 * PCM behind a 44-byte header. Everything heavy runs in child processes; what stays in JS is linear and short.
 *
 * `masterClipToFile` is the same master for long clips without holding them: the input may be a raw file (the synth
 * streams its render to disk), the WAV goes to a file as ffmpeg writes it and the peaks are read back from it, so
 * the worker's memory does not grow with the clip's length.
 */
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { WaveformPeaks } from '@dawg/shared';
import { startFfmpeg } from './ffmpeg';
import {
  measureEbur128,
  measureLoudness,
  normalizeFilter,
  parseLoudnormJson,
  planNormalization,
  rawInputArgs,
  type RawSource,
} from './loudnorm';
import { asInt16, frameCount, interleave, wav16Header, type Pcm, type RawPcmFile } from './pcm';
import { computePeaks, PeaksBuilder } from './peaks';

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

/** A master whose WAV is a file (masterClipToFile); the caller uploads and deletes it. */
export type MasteredFileClip = Omit<MasteredClip, 'wav'> & { wav: { path: string; byteLength: number } };

/** What a master is made from: PCM in memory, or interleaved f32le samples in a file. */
export type MasterInput = Pcm | RawPcmFile;

const isRawFile = (input: MasterInput): input is RawPcmFile => 'path' in input;

interface Normalized {
  log: string;
  mp3: Buffer;
  plan: ReturnType<typeof planNormalization>;
}

/**
 * Measures, then normalises to 16-bit PCM (handed to `out` as ffmpeg writes it) while a second ffmpeg encodes the
 * MP3 from the same stream.
 */
async function normalizeAndEncode(
  source: RawSource,
  sampleRate: number,
  channels: number,
  out: (stdout: NodeJS.ReadableStream) => Promise<unknown>,
  signal: AbortSignal | undefined,
): Promise<Normalized> {
  const plan = planNormalization(await measureEbur128(source, sampleRate, channels, signal));
  const filter =
    plan.kind === 'dynamic'
      ? normalizeFilter(await measureLoudness(source, sampleRate, channels, signal))
      : plan.filter;
  const file = Buffer.isBuffer(source) ? undefined : source.path;
  const normalize = startFfmpeg(
    [
      '-loglevel',
      'info',
      ...rawInputArgs(sampleRate, channels, 'f32le', file),
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
  const mp3: Buffer[] = [];
  const written = out(normalize.child.stdout);
  normalize.child.stdout.pipe(encode.child.stdin);
  encode.child.stdout.on('data', (chunk: Buffer) => mp3.push(chunk));
  if (Buffer.isBuffer(source)) normalize.child.stdin.end(source);
  else normalize.child.stdin.end();
  // If the normaliser fails, the encoder would wait forever on its stdin: stop it too.
  normalize.finished.catch(() => encode.child.kill('SIGKILL'));
  written.catch(() => undefined);
  const [log] = await Promise.all([normalize.finished, encode.finished, written]);
  return { log, mp3: Buffer.concat(mp3), plan };
}

function loudnessOf({ plan, log }: Normalized): Pick<MasteredClip, 'loudnessLufs' | 'normalization'> {
  const dynamic = plan.kind === 'dynamic' ? parseLoudnormJson(log) : null;
  return {
    loudnessLufs:
      plan.kind === 'linear' ? plan.outputLufs : dynamic && Number.isFinite(dynamic.output_i) ? dynamic.output_i : null,
    normalization: plan.kind === 'dynamic' ? (dynamic?.normalization_type ?? 'dynamic') : plan.kind,
  };
}

export async function masterClip(pcm: Pcm, { signal }: { signal?: AbortSignal } = {}): Promise<MasteredClip> {
  const channels = pcm.channels.length;
  const { sampleRate } = pcm;
  if (channels < 1 || frameCount(pcm) === 0) throw new Error('cannot master an empty clip');
  const normalized: Buffer[] = [];
  const result = await normalizeAndEncode(
    interleave(pcm),
    sampleRate,
    channels,
    async (stdout) => {
      stdout.on('data', (chunk: Buffer) => normalized.push(chunk));
      await finished(stdout);
    },
    signal,
  );
  const pcm16 = Buffer.concat(normalized);
  const samples = asInt16(pcm16);
  const frames = Math.floor(samples.length / channels);
  return {
    wav: Buffer.concat([wav16Header(pcm16.byteLength, sampleRate, channels), pcm16]),
    mp3: result.mp3,
    peaks: computePeaks(samples, sampleRate, channels),
    durationSec: frames / sampleRate,
    sampleRate,
    channels,
    ...loudnessOf(result),
  };
}

/** Bytes read per step when the peaks are computed from the written WAV (whole frames of up to 8 channels). */
const PEAKS_READ_BYTES = 1 << 20;

/** masterClip for long clips: the WAV is written to `wavPath` (created or replaced), nothing song-sized is held. */
export async function masterClipToFile(
  input: MasterInput,
  wavPath: string,
  { signal }: { signal?: AbortSignal } = {},
): Promise<MasteredFileClip> {
  const channels = isRawFile(input) ? input.channels : input.channels.length;
  const { sampleRate } = input;
  const frames = isRawFile(input) ? input.frames : frameCount(input);
  if (channels < 1 || frames === 0) throw new Error('cannot master an empty clip');
  const source: RawSource = isRawFile(input) ? { path: input.path } : interleave(input);
  const header = wav16Header(0, sampleRate, channels);
  const result = await normalizeAndEncode(
    source,
    sampleRate,
    channels,
    async (stdout) => {
      // The data goes after the header's place; the header, which holds the data size, is written once it is known.
      const file = createWriteStream(wavPath, { start: header.byteLength });
      stdout.pipe(file);
      await finished(file);
    },
    signal,
  );
  const handle = await open(wavPath, 'r+');
  let dataBytes: number;
  let peaks: WaveformPeaks;
  try {
    dataBytes = (await handle.stat()).size - header.byteLength;
    dataBytes -= dataBytes % (channels * 2);
    await handle.write(wav16Header(dataBytes, sampleRate, channels), 0, header.byteLength, 0);
    const outFrames = dataBytes / (channels * 2);
    const builder = new PeaksBuilder(outFrames, sampleRate, channels);
    const block = Buffer.alloc(PEAKS_READ_BYTES - (PEAKS_READ_BYTES % (channels * 2)));
    for (let at = 0; at < dataBytes;) {
      const { bytesRead } = await handle.read(
        block,
        0,
        Math.min(block.byteLength, dataBytes - at),
        header.byteLength + at,
      );
      if (bytesRead === 0) break;
      builder.push(asInt16(block.subarray(0, bytesRead)));
      at += bytesRead;
    }
    peaks = builder.finish();
  } finally {
    await handle.close();
  }
  return {
    wav: { path: wavPath, byteLength: header.byteLength + dataBytes },
    mp3: result.mp3,
    peaks,
    durationSec: peaks.durationSec,
    sampleRate,
    channels,
    ...loudnessOf(result),
  };
}
