/**
 * Benchmark of the generate job's own cost (packages/worker/src/bench/pipeline-throughput.ts): jobs/s through the
 * real `generate` job (attempt claim, stages on the row and the progress stream, S3 uploads, the success transaction
 * with tracks, ledger and hold) with a zero-time provider and mastering, against bare BullMQ on the same Redis, same
 * concurrency, rounds interleaved in one run. Two baselines: a processor doing the same storage (three uploads and
 * one result transaction: the headline, so the ratio is what the job's machinery costs) and a no-op processor
 * (BullMQ's own ceiling, reported alongside). Goal: ≥ 70 %. Needs Postgres and Redis.
 */
import { summarize } from './stats';
import { judge, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'generate job throughput ≥ 70 % of bare BullMQ', comparator: '>=', target: 70 };

export const pipelineThroughput: Benchmark = {
  name: 'pipeline-throughput',
  description:
    '% of bare BullMQ jobs/s: the generate job (zero-time provider) vs a BullMQ processor doing the same uploads and result commit',
  async run(ctx) {
    const { run } = await import('@dawg/worker/bench/pipeline-throughput');
    const jobs = ctx.quick ? 60 : 200;
    const result = await run({ rounds: ctx.rounds, jobs, concurrency: 16 });
    const ratios = result.pipeline.map((p, i) => (100 * p) / result.bareStorage[i]!);
    const vsNoop = result.pipeline.map((p, i) => (100 * p) / result.bare[i]!);
    ratios.forEach((r, i) =>
      ctx.log(
        `round ${i + 1}: generate ${result.pipeline[i]!.toFixed(0)} jobs/s, same storage on bare BullMQ ` +
          `${result.bareStorage[i]!.toFixed(0)} jobs/s → ${r.toFixed(1)} %; no-op BullMQ ${result.bare[i]!.toFixed(0)} ` +
          `jobs/s → ${vsNoop[i]!.toFixed(1)} %`,
      ),
    );
    const headline = summarize(ratios);
    return {
      name: this.name,
      description: this.description,
      unit: '%',
      rounds: ctx.rounds,
      median: headline.median,
      p25: headline.p25,
      p75: headline.p75,
      iqr: headline.iqr,
      goal: GOAL,
      met: judge(GOAL, headline.median),
      variants: {
        'generate job': { unit: 'jobs/s', samples: result.pipeline, ...summarize(result.pipeline) },
        'bare BullMQ, same storage': { unit: 'jobs/s', samples: result.bareStorage, ...summarize(result.bareStorage) },
        'bare BullMQ, no-op': { unit: 'jobs/s', samples: result.bare, ...summarize(result.bare) },
        'generate job vs no-op': { unit: '%', samples: vsNoop, ...summarize(vsNoop) },
      },
      settings: result.settings,
    };
  },
};
