/**
 * Benchmark: what our server stack costs per request. The same small JSON payload served by a bare Fastify route
 * (no plugins) and by an unbatched tRPC GET of `system.version` on our api (every plugin, hook, context and the tRPC
 * layer), under the same autocannon load in the same run, rounds interleaved. Goal: tRPC keeps ≥ 25 % of bare
 * Fastify's req/s. A third variant, the same payload from our api's REST `GET /`, splits the cost between our
 * plugins and hooks (bare → REST) and the tRPC layer (REST → tRPC).
 */
import { startBenchServers } from './servers';
import { browserLikeAgent, getJson, requestsPerSecond } from './http';
import { pairedRatios, runInterleaved, summarize } from './stats';
import { judge, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'tRPC req/s ≥ 25 % of bare Fastify', comparator: '>=', target: 25 };
const CONNECTIONS = 10;

export const trpcOverhead: Benchmark = {
  name: 'trpc-vs-fastify',
  description: 'req/s: unbatched tRPC GET system.version on buildServer vs a bare Fastify hello route',
  async run(ctx) {
    const servers = await startBenchServers(ctx.repoRoot);
    try {
      const bareUrl = `${servers.bareUrl}/hello`;
      const restUrl = `${servers.apiUrl}/`;
      const trpcUrl = `${servers.apiUrl}/trpc/system.version`;
      // Both must answer the same payload, else the comparison is meaningless.
      const agent = browserLikeAgent();
      const bare = await getJson(bareUrl, agent);
      const rest = await getJson(restUrl, agent);
      const trpc = (await getJson(trpcUrl, agent)) as { result?: { data?: unknown } };
      agent.destroy();
      for (const other of [rest, trpc.result?.data]) {
        if (JSON.stringify(other) !== JSON.stringify(bare)) {
          throw new Error(`payloads differ: ${JSON.stringify(bare)} vs ${JSON.stringify(other)}`);
        }
      }

      const durationSeconds = ctx.quick ? 1 : 4;
      // Warm-up (JIT, connection pools) is not measured.
      for (const url of [bareUrl, restUrl, trpcUrl]) {
        await requestsPerSecond({ url, connections: CONNECTIONS, durationSeconds: 1 });
      }
      const load = (url: string) => () => requestsPerSecond({ url, connections: CONNECTIONS, durationSeconds });

      const samples = await runInterleaved(
        [
          { name: 'fastify', measure: load(bareUrl) },
          { name: 'api-rest', measure: load(restUrl) },
          { name: 'trpc', measure: load(trpcUrl) },
        ],
        ctx.rounds,
        (variant, round, value) => ctx.log(`round ${round + 1} ${variant}: ${value.toFixed(0)} req/s`),
      );
      const fastify = samples.fastify ?? [];
      const restSamples = samples['api-rest'] ?? [];
      const trpcSamples = samples.trpc ?? [];
      const percent = summarize(pairedRatios(trpcSamples, fastify).map((r) => r * 100));
      return {
        name: this.name,
        description: this.description,
        unit: '% of bare Fastify req/s',
        rounds: ctx.rounds,
        median: percent.median,
        p25: percent.p25,
        p75: percent.p75,
        iqr: percent.iqr,
        goal: GOAL,
        met: judge(GOAL, percent.median),
        variants: {
          fastify: { unit: 'req/s', samples: fastify, ...summarize(fastify) },
          'api-rest': { unit: 'req/s', samples: restSamples, ...summarize(restSamples) },
          trpc: { unit: 'req/s', samples: trpcSamples, ...summarize(trpcSamples) },
        },
        settings: {
          connections: CONNECTIONS,
          durationSeconds,
          pipelining: 1,
          routes: 'bare GET /hello, api GET /, api GET /trpc/system.version',
        },
      };
    } finally {
      await servers.stop();
    }
  },
};
