/**
 * Synth benchmarks (run by `pnpm bench` through scripts/bench): how many times faster than real time the renderer
 * is on one core, and how long the event loop stalls while songs render on the synth thread.
 * Goals: realtime factor ≥ 100× (a 30 s song in ≤ 0.3 s); event-loop p99 ≤ 50 ms while rendering.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { SynthRequest } from './params';
import { renderSong } from './render';
import { closeSynthThreads, renderSongOffThread } from './thread';

/** A spread of genres, so no single arrangement's cost decides the number. */
export const BENCH_PROMPTS = [
  '90 bpm lofi hip hop with rhodes',
  'dark techno 128',
  'happy pop song',
  'jazz trio piano',
  'epic cinematic trailer',
] as const;

export interface RealtimeFactor {
  durationSec: number;
  /** Render time of each round (ms), all prompts in turn. */
  samplesMs: number[];
  medianMs: number;
  /** Song seconds per render second, at the median. */
  realtimeFactor: number;
  /** The first render of the process: table building and JIT warm-up included. */
  coldMs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

/** Renders `rounds` songs per prompt on this thread and reports the median render time as a realtime factor. */
export function measureRealtimeFactor(
  opts: { durationSec?: number; rounds?: number; prompts?: readonly string[] } = {},
): RealtimeFactor {
  const durationSec = opts.durationSec ?? 30;
  const rounds = opts.rounds ?? 5;
  const prompts = opts.prompts ?? BENCH_PROMPTS;
  const request = (prompt: string, seed: number): SynthRequest => ({ prompt, durationSec, seed });
  let t = performance.now();
  renderSong(request(prompts[0] ?? 'pop', 1));
  const coldMs = performance.now() - t;
  const samplesMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const prompt of prompts) {
      t = performance.now();
      renderSong(request(prompt, 1000 + r));
      samplesMs.push(performance.now() - t);
    }
  }
  const medianMs = median(samplesMs);
  return { durationSec, samplesMs, medianMs, realtimeFactor: (durationSec * 1000) / medianMs, coldMs };
}

export interface EventLoopDuringRender {
  songs: number;
  /** Event-loop delay percentiles while songs rendered on the synth thread (ms). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  totalMs: number;
}

/**
 * Renders `songs` songs one after another on the synth thread (the first one starts the thread) while sampling
 * this thread's event-loop delay, as a BullMQ worker's lock renewals would experience it.
 */
export async function measureEventLoopDuringRender(
  opts: { songs?: number; durationSec?: number } = {},
): Promise<EventLoopDuringRender> {
  const songs = opts.songs ?? 5;
  const durationSec = opts.durationSec ?? 60;
  const h = monitorEventLoopDelay({ resolution: 5 });
  const t = performance.now();
  h.enable();
  try {
    for (let i = 0; i < songs; i++) {
      const prompt = BENCH_PROMPTS[i % BENCH_PROMPTS.length] as string;
      await renderSongOffThread({ prompt, durationSec, seed: 2000 + i }, { encode: 'pcm16' });
    }
  } finally {
    h.disable();
    await closeSynthThreads();
  }
  return {
    songs,
    p50Ms: h.percentile(50) / 1e6,
    p99Ms: h.percentile(99) / 1e6,
    maxMs: h.max / 1e6,
    totalMs: performance.now() - t,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rt = measureRealtimeFactor();
  console.log(
    `synth: ${rt.durationSec} s song in ${rt.medianMs.toFixed(0)} ms median (cold ${rt.coldMs.toFixed(0)} ms) = ` +
      `${rt.realtimeFactor.toFixed(0)}x realtime`,
  );
  const loop = await measureEventLoopDuringRender();
  console.log(
    `event loop while rendering ${loop.songs} songs off-thread: p50 ${loop.p50Ms.toFixed(1)} ms, p99 ${loop.p99Ms.toFixed(1)} ms, max ${loop.maxMs.toFixed(1)} ms`,
  );
}
