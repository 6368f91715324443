/**
 * Benchmark of the AI producer's streaming (packages/api/src/bench/chat-latency.ts): the latency the pipeline adds
 * between the provider's first token and a `chat.onEvent` subscriber (turn runner → XADD → the api's one stream
 * reader → tRPC WebSocket), against a baseline measured in the same run: the SDK alone reading the same local
 * Anthropic server in the same process. Headline per round: median pipeline latency − median baseline latency.
 * Goal: median ≤ 20 ms. Needs Postgres and Redis (DATABASE_URL / REDIS_URL or the local defaults).
 */
import { summarize } from './stats';
import { judge, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'added first-token latency, provider → subscriber, median ≤ 20 ms', comparator: '<=', target: 20 };

export const chatLatency: Benchmark = {
  name: 'chat-latency',
  description: 'ms added: provider first token → chat.onEvent subscriber, minus the SDK alone (baseline)',
  async run(ctx) {
    const { run } = await import('@dawg/api/bench/chat-latency');
    const turns = ctx.quick ? 8 : 20;
    const result = await run({ rounds: ctx.rounds, turns });
    const added = result.pipeline.map((p, i) => p - result.baseline[i]!);
    added.forEach((a, i) =>
      ctx.log(
        `round ${i + 1}: subscriber ${result.pipeline[i]!.toFixed(2)} ms, SDK alone ${result.baseline[i]!.toFixed(2)} ms → added ${a.toFixed(2)} ms`,
      ),
    );
    const headline = summarize(added);
    return {
      name: this.name,
      description: this.description,
      unit: 'ms',
      rounds: ctx.rounds,
      median: headline.median,
      p25: headline.p25,
      p75: headline.p75,
      iqr: headline.iqr,
      goal: GOAL,
      met: judge(GOAL, headline.median),
      variants: {
        'provider → subscriber': { unit: 'ms', samples: result.pipeline, ...summarize(result.pipeline) },
        'provider → SDK (baseline)': { unit: 'ms', samples: result.baseline, ...summarize(result.baseline) },
      },
      settings: { turnsPerRound: turns, provider: 'local Anthropic Messages SSE server', transport: 'tRPC WebSocket' },
    };
  },
};
