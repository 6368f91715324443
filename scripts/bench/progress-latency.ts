/**
 * Benchmark of generation progress delivery (packages/api/src/bench/progress-latency.ts): the time from the worker
 * publishing a progress event to Redis to the api's progress hub handing it to a subscriber, 20 generations
 * subscribed at once. Each round is one run of that harness; its headline is the median latency of the round.
 * Goal: median ≤ 20 ms. Needs Redis (REDIS_URL or 127.0.0.1:6379).
 */
import { singleVariantResult, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'worker → subscriber progress latency median ≤ 20 ms', comparator: '<=', target: 20 };

export const progressLatency: Benchmark = {
  name: 'progress-latency',
  description: 'ms: worker XADD → api progress hub → subscriber, 20 streams',
  async run(ctx) {
    const { run } = await import('@dawg/api/bench/progress-latency');
    const events = ctx.quick ? 100 : 400;
    const samples: number[] = [];
    for (let round = 0; round < ctx.rounds; round++) {
      const [latency] = await run({ events, streams: 20 });
      if (!latency) throw new Error('the progress benchmark returned no measurement');
      samples.push(latency.value);
      ctx.log(`round ${round + 1}: median ${latency.value.toFixed(2)} ms, p95 ${latency.details?.p95Ms?.toFixed(2)} ms`);
    }
    return singleVariantResult({
      name: this.name,
      description: this.description,
      unit: 'ms',
      rounds: ctx.rounds,
      goal: GOAL,
      samples,
      settings: { eventsPerRound: events, streams: 20, eventSpacingMs: 3 },
    });
  },
};
