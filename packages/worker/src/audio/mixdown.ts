/**
 * Renders an arrangement the way the studio plays it (see @dawg/shared mix.ts and the web engine): per clip the
 * track's audio from `offsetSec` for `lengthSec` at `startSec`, times its linear fade envelope; per lane the fader
 * gain (zero when mute/solo silence it) and the StereoPannerNode's equal-power pan; lanes summed into the master.
 *
 * Memory stays bounded whatever the length: every track is decoded once by ffmpeg into a raw f32 file at the mix
 * rate, and the timeline is rendered block by block, each block reading just the frames it needs. The master is
 * written as 16-bit WAV (we know the length up front, so the header is exact) and streamed into an MP3 encoder at the
 * same time; waveform peaks are accumulated on the way; stems (one WAV per lane with clips, fader and pan applied,
 * mute/solo ignored) come from the same pass.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  clipFadeGain,
  equalPowerPan,
  laneIsAudible,
  mixDbToGain,
  type PanGains,
  type WaveformPeaks,
} from '@dawg/shared';
import { startFfmpeg, type FfmpegProcess } from './ffmpeg';
import { wav16Header } from './pcm';
import { peakCountFor } from './peaks';

export interface MixLane {
  id: string;
  name: string;
  gainDb: number;
  pan: number;
  mute: boolean;
  solo: boolean;
  position: number;
}

export interface MixClip {
  id: string;
  laneId: string;
  trackId: string;
  startSec: number;
  offsetSec: number;
  lengthSec: number;
  fadeInSec: number;
  fadeOutSec: number;
}

/** A track decoded to interleaved f32le at the mix rate. */
export interface DecodedSource {
  path: string;
  channels: 1 | 2;
  frames: number;
}

export interface RenderInput {
  sampleRate: number;
  lanes: readonly MixLane[];
  clips: readonly MixClip[];
  sources: ReadonlyMap<string, DecodedSource>;
  outDir: string;
  stems: boolean;
  signal?: AbortSignal;
  /** 0…1 as blocks are rendered. */
  onProgress?: (fraction: number) => void;
}

export interface RenderedStem {
  laneId: string;
  name: string;
  path: string;
}

export interface RenderResult {
  wavPath: string;
  mp3Path: string;
  frames: number;
  durationSec: number;
  peaks: WaveformPeaks;
  stems: RenderedStem[];
}

export const MIX_SAMPLE_RATE = 48_000;
const BLOCK_FRAMES = 1 << 16;
export const MIX_MP3_BITRATE = '192k';

/** Decodes a file into a raw f32le file at `sampleRate` (one or two channels); returns its frame count. */
export async function decodeToRaw(
  input: string,
  output: string,
  sampleRate: number,
  channels: 1 | 2,
  signal?: AbortSignal,
): Promise<number> {
  const proc = startFfmpeg(
    [
      '-loglevel',
      'error',
      '-i',
      input,
      '-vn',
      '-ac',
      String(channels),
      '-ar',
      String(sampleRate),
      '-f',
      'f32le',
      '-y',
      output,
    ],
    signal,
  );
  proc.child.stdin.end();
  await proc.finished;
  const handle = await open(output, 'r');
  try {
    const { size } = await handle.stat();
    return Math.floor(size / (4 * channels));
  } finally {
    await handle.close();
  }
}

/** Streaming min/max pairs with the same spans as `computePeaks` (the total length is known up front). */
class PeakAccumulator {
  readonly length: number;
  private readonly data: number[][];
  constructor(
    private readonly frames: number,
    private readonly sampleRate: number,
  ) {
    this.length = Math.max(1, Math.min(frames, peakCountFor(frames / sampleRate)));
    this.data = [new Array<number>(this.length * 2).fill(0), new Array<number>(this.length * 2).fill(0)];
  }

  add(start: number, left: Float32Array, right: Float32Array, count: number): void {
    for (let i = 0; i < count; i++) {
      const frame = start + i;
      const p = Math.min(this.length - 1, Math.floor((frame * this.length) / this.frames));
      for (let c = 0; c < 2; c++) {
        const s = (c === 0 ? left : right)[i]!;
        const pairs = this.data[c]!;
        if (s < pairs[p * 2]!) pairs[p * 2] = s;
        if (s > pairs[p * 2 + 1]!) pairs[p * 2 + 1] = s;
      }
    }
  }

  result(): WaveformPeaks {
    const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
    return {
      version: 1,
      sampleRate: this.sampleRate,
      channels: 2,
      samplesPerPeak: this.frames / this.length,
      length: this.length,
      durationSec: this.frames / this.sampleRate,
      data: this.data.map((pairs) => pairs.map((v, i) => round4(i % 2 === 0 ? Math.max(-1, v) : Math.min(1, v)))),
    };
  }
}

function toInt16Interleaved(left: Float32Array, right: Float32Array, count: number): Buffer {
  const out = Buffer.allocUnsafe(count * 4);
  for (let i = 0; i < count; i++) {
    const l = Math.max(-1, Math.min(1, left[i]!));
    const r = Math.max(-1, Math.min(1, right[i]!));
    out.writeInt16LE(Math.round(l < 0 ? l * 32768 : l * 32767), i * 4);
    out.writeInt16LE(Math.round(r < 0 ? r * 32768 : r * 32767), i * 4 + 2);
  }
  return out;
}

function writeTo(stream: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stream.write(chunk, (err) => (err ? reject(err) : undefined));
    if (ok) resolve();
    else stream.once('drain', resolve);
  });
}

function endStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

interface LaneState {
  lane: MixLane;
  clips: MixClip[];
  mixGain: number;
  stemGain: number;
  pan: PanGains;
  stem?: { path: string; out: WriteStream };
}

/** Applies the lane's pan to its summed block: mono and stereo parts per the StereoPannerNode algorithm. */
function panInto(
  pan: PanGains,
  gain: number,
  mono: Float32Array,
  sl: Float32Array,
  sr: Float32Array,
  stereo: boolean,
  outL: Float32Array,
  outR: Float32Array,
  count: number,
): void {
  if (!stereo) {
    const l = pan.monoLeft * gain;
    const r = pan.monoRight * gain;
    for (let i = 0; i < count; i++) {
      outL[i] = outL[i]! + mono[i]! * l;
      outR[i] = outR[i]! + mono[i]! * r;
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    // A mono source next to a stereo one is up-mixed (both channels) before the panner, as Web Audio does.
    const inL = (sl[i]! + mono[i]!) * gain;
    const inR = (sr[i]! + mono[i]!) * gain;
    if (pan.leftward) {
      outL[i] = outL[i]! + inL + inR * pan.a;
      outR[i] = outR[i]! + inR * pan.b;
    } else {
      outL[i] = outL[i]! + inL * pan.a;
      outR[i] = outR[i]! + inR + inL * pan.b;
    }
  }
}

export async function renderArrangement(input: RenderInput): Promise<RenderResult> {
  const { sampleRate, sources, signal } = input;
  const anySolo = input.lanes.some((l) => l.solo);
  const lanes: LaneState[] = [...input.lanes]
    .sort((a, b) => a.position - b.position)
    .map((lane) => ({
      lane,
      clips: input.clips.filter((c) => c.laneId === lane.id && sources.has(c.trackId)),
      mixGain: laneIsAudible(lane, anySolo) ? mixDbToGain(lane.gainDb) : 0,
      stemGain: mixDbToGain(lane.gainDb),
      pan: equalPowerPan(lane.pan),
    }));
  const counted = lanes.filter((l) => l.clips.length > 0 && (input.stems || l.mixGain > 0));
  let frames = 0;
  for (const l of counted) {
    for (const c of l.clips) frames = Math.max(frames, Math.round((c.startSec + c.lengthSec) * sampleRate));
  }
  if (frames === 0) throw new Error('nothing to mix: no audible clips');

  const handles = new Map<string, FileHandle>();
  for (const [trackId, source] of sources) handles.set(trackId, await open(source.path, 'r'));

  const wavPath = join(input.outDir, 'mix.wav');
  const mp3Path = join(input.outDir, 'mix.mp3');
  const wav = createWriteStream(wavPath);
  const dataBytes = frames * 4;
  wav.write(wav16Header(dataBytes, sampleRate, 2));
  const mp3: FfmpegProcess = startFfmpeg(
    [
      '-loglevel',
      'error',
      '-f',
      'f32le',
      '-ar',
      String(sampleRate),
      '-ac',
      '2',
      '-i',
      'pipe:0',
      '-c:a',
      'libmp3lame',
      '-b:a',
      MIX_MP3_BITRATE,
      '-f',
      'mp3',
      '-y',
      mp3Path,
    ],
    signal,
  );
  const stems: RenderedStem[] = [];
  if (input.stems) {
    for (const [index, l] of lanes.entries()) {
      if (l.clips.length === 0) continue;
      const path = join(input.outDir, `stem-${index + 1}.wav`);
      const out = createWriteStream(path);
      out.write(wav16Header(dataBytes, sampleRate, 2));
      l.stem = { path, out };
      stems.push({ laneId: l.lane.id, name: l.lane.name, path });
    }
  }

  const peaks = new PeakAccumulator(frames, sampleRate);
  const outL = new Float32Array(BLOCK_FRAMES);
  const outR = new Float32Array(BLOCK_FRAMES);
  const mono = new Float32Array(BLOCK_FRAMES);
  const sl = new Float32Array(BLOCK_FRAMES);
  const sr = new Float32Array(BLOCK_FRAMES);
  const stemL = new Float32Array(BLOCK_FRAMES);
  const stemR = new Float32Array(BLOCK_FRAMES);
  const readBuffer = Buffer.allocUnsafe(BLOCK_FRAMES * 8);
  try {
    for (let blockStart = 0; blockStart < frames; blockStart += BLOCK_FRAMES) {
      signal?.throwIfAborted();
      const count = Math.min(BLOCK_FRAMES, frames - blockStart);
      const blockEnd = blockStart + count;
      outL.fill(0, 0, count);
      outR.fill(0, 0, count);
      for (const l of lanes) {
        if (l.clips.length === 0 || (l.mixGain === 0 && !l.stem)) continue;
        mono.fill(0, 0, count);
        sl.fill(0, 0, count);
        sr.fill(0, 0, count);
        let stereo = false;
        let sounding = false;
        for (const clip of l.clips) {
          const startFrame = Math.round(clip.startSec * sampleRate);
          const lengthFrames = Math.round(clip.lengthSec * sampleRate);
          const from = Math.max(blockStart, startFrame);
          const to = Math.min(blockEnd, startFrame + lengthFrames);
          if (to <= from) continue;
          const source = sources.get(clip.trackId)!;
          const into = from - startFrame;
          const srcFrame = Math.round(clip.offsetSec * sampleRate) + into;
          const available = Math.max(0, Math.min(to - from, source.frames - srcFrame));
          if (available === 0) continue;
          const bytes = available * 4 * source.channels;
          const { bytesRead } = await handles
            .get(clip.trackId)!
            .read(readBuffer, 0, bytes, srcFrame * 4 * source.channels);
          const samples = new Float32Array(readBuffer.buffer, readBuffer.byteOffset, Math.floor(bytesRead / 4));
          const n = Math.floor(samples.length / source.channels);
          sounding = true;
          const offset = from - blockStart;
          const hasFades = clip.fadeInSec > 0 || clip.fadeOutSec > 0;
          if (source.channels === 1) {
            for (let i = 0; i < n; i++) {
              const g = hasFades ? clipFadeGain(clip, (into + i) / sampleRate) : 1;
              mono[offset + i] = mono[offset + i]! + samples[i]! * g;
            }
          } else {
            stereo = true;
            for (let i = 0; i < n; i++) {
              const g = hasFades ? clipFadeGain(clip, (into + i) / sampleRate) : 1;
              sl[offset + i] = sl[offset + i]! + samples[2 * i]! * g;
              sr[offset + i] = sr[offset + i]! + samples[2 * i + 1]! * g;
            }
          }
        }
        if (l.mixGain > 0 && sounding) panInto(l.pan, l.mixGain, mono, sl, sr, stereo, outL, outR, count);
        if (l.stem) {
          stemL.fill(0, 0, count);
          stemR.fill(0, 0, count);
          if (sounding) panInto(l.pan, l.stemGain, mono, sl, sr, stereo, stemL, stemR, count);
          await writeTo(l.stem.out, toInt16Interleaved(stemL, stemR, count));
        }
      }
      peaks.add(blockStart, outL, outR, count);
      await writeTo(wav, toInt16Interleaved(outL, outR, count));
      const interleaved = new Float32Array(count * 2);
      for (let i = 0; i < count; i++) {
        interleaved[2 * i] = outL[i]!;
        interleaved[2 * i + 1] = outR[i]!;
      }
      await writeTo(mp3.child.stdin, Buffer.from(interleaved.buffer));
      input.onProgress?.(blockEnd / frames);
    }
    mp3.child.stdin.end();
    await Promise.all([mp3.finished, endStream(wav), ...lanes.flatMap((l) => (l.stem ? [endStream(l.stem.out)] : []))]);
  } catch (err) {
    mp3.child.kill('SIGKILL');
    wav.destroy();
    for (const l of lanes) l.stem?.out.destroy();
    throw err;
  } finally {
    for (const handle of handles.values()) await handle.close();
  }
  return { wavPath, mp3Path, frames, durationSec: frames / sampleRate, peaks: peaks.result(), stems };
}
