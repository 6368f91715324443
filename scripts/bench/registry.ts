/** Every benchmark `pnpm bench` knows, in run order. */
import { chatLatency } from './chat-latency';
import { generationPipeline } from './generation';
import { kyselyVsPg } from './kysely-vs-pg';
import { loadP95 } from './load-p95';
import { mixdownRealtime } from './mixdown';
import { pipelineThroughput } from './pipeline-throughput';
import { processRss } from './process-rss';
import { progressLatency } from './progress-latency';
import { synthRealtime } from './synth-realtime';
import { timelineLongTasks } from './timeline';
import { trpcBatch } from './trpc-batch';
import { trpcDbList } from './trpc-db-list';
import { trpcOverhead } from './trpc-overhead';
import type { Benchmark } from './types';
import { voiceRelay } from './voice-relay';
import { webInitialJs } from './web-initial-js';

export const BENCHMARKS: readonly Benchmark[] = [
  trpcOverhead,
  trpcBatch,
  trpcDbList,
  kyselyVsPg,
  loadP95,
  progressLatency,
  chatLatency,
  synthRealtime,
  generationPipeline,
  pipelineThroughput,
  timelineLongTasks,
  mixdownRealtime,
  voiceRelay,
  webInitialJs,
  processRss,
];
