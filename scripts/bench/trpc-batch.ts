/**
 * Benchmark: what HTTP batching saves. One batched GET carrying 10 `system.version` calls vs 10 separate GETs sent
 * at once (as an unbatched client would, over a browser's 6 keep-alive sockets per origin). Each round times many
 * such exchanges and keeps their median; rounds alternate the two. Goal: the batch takes ≤ 50 % of the time of the
 * 10 single calls.
 */
import { performance } from 'node:perf_hooks';
import { startBenchServers } from './servers';
import { browserLikeAgent, getJson } from './http';
import { median, pairedRatios, runInterleaved, summarize } from './stats';
import { judge, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: '10-call batch latency ≤ 50 % of 10 single calls', comparator: '<=', target: 50 };
const CALLS = 10;

export const trpcBatch: Benchmark = {
  name: 'trpc-batch',
  description: `latency: one HTTP batch of ${CALLS} system.version calls vs ${CALLS} concurrent single calls`,
  async run(ctx) {
    const servers = await startBenchServers(ctx.repoRoot);
    const agent = browserLikeAgent();
    try {
      const single = `${servers.apiUrl}/trpc/system.version`;
      const paths = Array.from({ length: CALLS }, () => 'system.version').join(',');
      const batch = `${servers.apiUrl}/trpc/${paths}?batch=1&input=${encodeURIComponent('{}')}`;

      const answer = await getJson(batch, agent);
      if (!Array.isArray(answer) || answer.length !== CALLS) {
        throw new Error(`batch answered ${JSON.stringify(answer).slice(0, 200)}`);
      }

      const exchanges = ctx.quick ? 30 : 200;
      const timeBatch = async () => {
        const t0 = performance.now();
        await getJson(batch, agent);
        return performance.now() - t0;
      };
      const timeSingles = async () => {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: CALLS }, () => getJson(single, agent)));
        return performance.now() - t0;
      };
      const round = (fn: () => Promise<number>) => async () => {
        const times: number[] = [];
        for (let i = 0; i < exchanges; i++) times.push(await fn());
        return median(times);
      };
      // Warm-up: JIT and the agent's sockets.
      await round(timeSingles)();
      await round(timeBatch)();

      const samples = await runInterleaved(
        [
          { name: 'singles', measure: round(timeSingles) },
          { name: 'batch', measure: round(timeBatch) },
        ],
        ctx.rounds,
        (variant, r, value) => ctx.log(`round ${r + 1} ${variant}: ${value.toFixed(3)} ms`),
      );
      const singles = samples.singles ?? [];
      const batched = samples.batch ?? [];
      const percent = summarize(pairedRatios(batched, singles).map((r) => r * 100));
      return {
        name: this.name,
        description: this.description,
        unit: '% of 10 single calls latency',
        rounds: ctx.rounds,
        median: percent.median,
        p25: percent.p25,
        p75: percent.p75,
        iqr: percent.iqr,
        goal: GOAL,
        met: judge(GOAL, percent.median),
        variants: {
          singles: { unit: 'ms per 10 calls', samples: singles, ...summarize(singles) },
          batch: { unit: 'ms per batch of 10', samples: batched, ...summarize(batched) },
        },
        settings: { calls: CALLS, exchangesPerRound: exchanges, maxSockets: 6 },
      };
    } finally {
      agent.destroy();
      await servers.stop();
    }
  },
};
