/**
 * Benchmarks of the generation pipeline (the worker's own harness, packages/worker/src/bench/generation.ts): a 30 s
 * song from prompt to mastered WAV + MP3 + peaks in S3 through the local synth (goal ≤ 1.5 s), and the worker's
 * event-loop p99 over the same renders (goal ≤ 50 ms: the synth renders on its thread, ffmpeg in child processes).
 * One run measures both; its rounds are sequential (one song at a time, as the worker renders them).
 */
import { judge, singleVariantResult, type Benchmark, type Goal } from './types';

const PIPELINE_GOAL: Goal = { description: '30 s song prompt → S3 median ≤ 1.5 s', comparator: '<=', target: 1500 };
const EVENT_LOOP_GOAL: Goal = { description: 'event-loop p99 while rendering ≤ 50 ms', comparator: '<=', target: 50 };

export const generationPipeline: Benchmark = {
  name: 'generation-pipeline',
  description: 'ms: prompt → local synth → mastered WAV + MP3 + peaks uploaded to S3, 30 s song',
  async run(ctx) {
    // Loaded on demand: the synth, ffmpeg and S3 client are only needed when this benchmark runs.
    const { run } = await import('@dawg/worker/bench/generation');
    const [pipeline, loop] = await run({ rounds: ctx.rounds });
    if (!pipeline?.samples || !loop) throw new Error('the generation benchmark returned no measurement');
    pipeline.samples.forEach((ms, i) => ctx.log(`round ${i + 1}: ${ms.toFixed(0)} ms`));
    const phases = Object.fromEntries(
      Object.entries(pipeline.details ?? {}).map(([k, v]) => [`median ${k}`, Math.round(v * 10) / 10]),
    );
    const loopSettings = Object.fromEntries(
      Object.entries(loop.details ?? {}).map(([k, v]) => [k, Math.round(v * 10) / 10]),
    );
    ctx.log(`event-loop p99 ${loop.value.toFixed(1)} ms (max ${loopSettings.maxMs ?? '?'} ms)`);
    return [
      singleVariantResult({
        name: this.name,
        description: this.description,
        unit: 'ms',
        rounds: ctx.rounds,
        goal: PIPELINE_GOAL,
        samples: pipeline.samples,
        settings: { song: '30 s, local synth, 1 variant', s3: 'S3-protocol server in a child process', ...phases },
      }),
      {
        name: 'generation-event-loop-p99',
        description: 'ms: event-loop delay p99 of the worker process over the same renders',
        unit: 'ms',
        rounds: ctx.rounds,
        // One histogram over every round: a p99 needs the whole distribution, not a median of per-round p99s.
        median: loop.value,
        p25: loop.value,
        p75: loop.value,
        iqr: 0,
        goal: EVENT_LOOP_GOAL,
        met: judge(EVENT_LOOP_GOAL, loop.value),
        variants: {},
        settings: { histogram: `perf_hooks.monitorEventLoopDelay over ${ctx.rounds} rounds`, ...loopSettings },
      },
    ];
  },
};
