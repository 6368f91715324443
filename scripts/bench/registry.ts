/** Every benchmark `pnpm bench` knows, in run order. */
import { generationPipeline } from './generation';
import { progressLatency } from './progress-latency';
import { synthRealtime } from './synth-realtime';
import { timelineLongTasks } from './timeline';
import { trpcBatch } from './trpc-batch';
import { trpcOverhead } from './trpc-overhead';
import type { Benchmark } from './types';

export const BENCHMARKS: readonly Benchmark[] = [
  trpcOverhead,
  trpcBatch,
  progressLatency,
  synthRealtime,
  generationPipeline,
  timelineLongTasks,
];
