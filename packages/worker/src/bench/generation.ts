/**
 * Benchmarks of the generation pipeline (wired into `pnpm bench` by scripts/bench):
 * - `generation.pipeline_30s`: prompt → local synth → mastered WAV + MP3 + peaks in S3, for a 30 s song
 *   (goal ≤ 1.5 s), with the time of each phase;
 * - `worker.event_loop_p99_while_rendering`: the event loop's p99 delay (perf_hooks.monitorEventLoopDelay) over the
 *   same runs (goal ≤ 50 ms): the synth renders on its thread and ffmpeg in child processes, so the loop stays free.
 * Needs ffmpeg; S3 is an S3-protocol server in a child process (@dawg/testing), so upload time is loopback time.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Client } from '@dawg/testing';
import { masterClipToFile } from '../audio/master';
import { createLocalProvider } from '../providers/local';
import type { MusicRequest, ProviderClip } from '../providers/types';
import { closeSynthThreads } from '../synth/thread';
import { produceClips } from '../jobs/generate-pipeline';
import { startS3Child } from './s3-child';

export interface Measurement {
  name: string;
  unit: string;
  value: number;
  goal?: { comparator: '<=' | '>='; target: number };
  samples?: number[];
  details?: Record<string, number>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export async function run({ rounds = 5 }: { rounds?: number } = {}): Promise<Measurement[]> {
  const server = await startS3Child();
  const s3 = createS3Client(server);
  const provider = createLocalProvider();
  const totals: number[] = [];
  const phases: Record<'render' | 'processing' | 'upload', number[]> = { render: [], processing: [], upload: [] };
  const loop = monitorEventLoopDelay({ resolution: 5 });
  try {
    // Warm-up (synth thread start, JIT, ffmpeg page cache): not measured.
    await renderOnce(0);
    loop.enable();
    for (let round = 1; round <= rounds; round++) await renderOnce(round);
    loop.disable();
  } finally {
    s3.destroy();
    await server.stop();
    await closeSynthThreads();
  }

  async function renderOnce(round: number): Promise<void> {
    const request: MusicRequest = {
      generationId: randomUUID(),
      prompt: 'upbeat electronic dance music with a driving bassline',
      instrumental: true,
      durationSec: 30,
      genre: 'electronic',
      seed: 1000 + round,
      variants: 1,
    };
    const marks: Record<string, number> = {};
    const started = performance.now();
    await produceClips({
      provider,
      request,
      userId: 'bench',
      s3,
      bucket: server.bucket,
      signal: new AbortController().signal,
      uploaded: [],
      onStage: async ({ stage }) => {
        marks[stage] = performance.now();
      },
    });
    const ended = performance.now();
    if (round === 0) return;
    totals.push(ended - started);
    phases.render.push((marks.processing ?? ended) - started);
    phases.processing.push((marks.uploading ?? ended) - (marks.processing ?? started));
    phases.upload.push(ended - (marks.uploading ?? ended));
  }

  return [
    {
      name: 'generation.pipeline_30s',
      unit: 'ms',
      value: median(totals),
      goal: { comparator: '<=', target: 1500 },
      samples: totals,
      details: {
        renderMs: median(phases.render),
        masterMs: median(phases.processing),
        uploadMs: median(phases.upload),
      },
    },
    {
      name: 'worker.event_loop_p99_while_rendering',
      unit: 'ms',
      value: loop.percentile(99) / 1e6,
      goal: { comparator: '<=', target: 50 },
      details: { maxMs: loop.max / 1e6, meanMs: loop.mean / 1e6 },
    },
  ];
}

/** Mastering alone on a clip the synth already rendered (isolates ffmpeg's share of the pipeline). */
export async function runMasterOnly({ rounds = 5 }: { rounds?: number } = {}): Promise<Measurement[]> {
  const provider = createLocalProvider();
  try {
    const [clip] = (await provider.generate(
      {
        generationId: randomUUID(),
        prompt: 'lofi hip hop',
        instrumental: true,
        durationSec: 30,
        seed: 7,
        variants: 1,
      },
      { signal: new AbortController().signal, onStage: async () => undefined },
    )) as [ProviderClip];
    if (clip.audio.kind !== 'raw') throw new Error('expected a raw file from the local synth');
    const { raw } = clip.audio;
    const wavPath = join(tmpdir(), `dawg-bench-master-${randomUUID()}.wav`);
    try {
      const samples: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        await masterClipToFile(raw, wavPath);
        samples.push(performance.now() - t0);
      }
      return [{ name: 'generation.master_30s', unit: 'ms', value: median(samples), samples }];
    } finally {
      await Promise.all([rm(raw.path, { force: true }), rm(wavPath, { force: true })]);
    }
  } finally {
    await closeSynthThreads();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = [...(await run()), ...(await runMasterOnly())];
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
