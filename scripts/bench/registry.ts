/** Every benchmark `pnpm bench` knows, in run order. */
import { trpcBatch } from './trpc-batch';
import { trpcOverhead } from './trpc-overhead';
import type { Benchmark } from './types';

export const BENCHMARKS: readonly Benchmark[] = [trpcOverhead, trpcBatch];
