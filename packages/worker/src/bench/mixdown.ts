/**
 * The mixdown's compute for `pnpm bench` (scripts/bench/mixdown.ts): an 8-lane, 3-minute project of eight distinct
 * 3-minute stereo WAV tracks (the masters generation writes), with pans, faders and fades, rendered exactly as the
 * `mixdown` job does after its downloads: every track decoded once to raw f32 at 48 kHz (two at a time), then the
 * block renderer writing the 16-bit WAV, the 192k MP3 and the peaks. S3 transfers are left out (they measure the
 * network, not the renderer).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeToRaw, MIX_SAMPLE_RATE, renderArrangement, type DecodedSource, type MixClip, type MixLane } from '../audio/mixdown';

const run = promisify(execFile);

export interface MixdownBenchProject {
  dir: string;
  seconds: number;
  lanes: MixLane[];
  clips: MixClip[];
  files: Map<string, string>;
  close(): Promise<void>;
}

/** Eight WAV tracks (tones with a beat-like tremolo, different per lane) and an arrangement using them. */
export async function prepareMixdownBench(seconds = 180, laneCount = 8): Promise<MixdownBenchProject> {
  const dir = await mkdtemp(join(tmpdir(), 'dawg-bench-mixdown-'));
  const lanes: MixLane[] = [];
  const clips: MixClip[] = [];
  const files = new Map<string, string>();
  for (let i = 0; i < laneCount; i++) {
    const trackId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const laneId = `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;
    const file = join(dir, `track-${i}.wav`);
    const f = 110 * (i + 1);
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `aevalsrc=0.3*sin(2*PI*${f}*t)*(0.6+0.4*sin(2*PI*2*t))|0.3*sin(2*PI*${f * 1.01}*t):s=44100:d=${seconds}`,
      '-c:a',
      'pcm_s16le',
      '-y',
      file,
    ]);
    files.set(trackId, file);
    lanes.push({
      id: laneId,
      name: `Lane ${i + 1}`,
      gainDb: -3 - i,
      pan: -0.8 + (1.6 * i) / Math.max(1, laneCount - 1),
      mute: false,
      solo: false,
      position: i,
    });
    clips.push({
      id: `00000000-0000-4000-a000-${String(i).padStart(12, '0')}`,
      laneId,
      trackId,
      startSec: 0,
      offsetSec: 0,
      lengthSec: seconds,
      fadeInSec: 2,
      fadeOutSec: 4,
    });
  }
  return { dir, seconds, lanes, clips, files, close: () => rm(dir, { recursive: true, force: true }) };
}

/** One mixdown render (decode + mix + encode); returns milliseconds. */
export async function runMixdownOnce(project: MixdownBenchProject): Promise<number> {
  const out = await mkdtemp(join(project.dir, 'round-'));
  const started = performance.now();
  try {
    const sources = new Map<string, DecodedSource>();
    const queue = [...project.files.entries()];
    const decodeNext = async () => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        const [trackId, file] = item;
        const raw = join(out, `${trackId}.f32`);
        sources.set(trackId, { path: raw, channels: 2, frames: await decodeToRaw(file, raw, MIX_SAMPLE_RATE, 2) });
      }
    };
    await Promise.all([decodeNext(), decodeNext()]);
    await renderArrangement({
      sampleRate: MIX_SAMPLE_RATE,
      lanes: project.lanes,
      clips: project.clips,
      sources,
      outDir: out,
      stems: false,
    });
    return performance.now() - started;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
