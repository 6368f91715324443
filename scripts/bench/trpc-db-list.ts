/**
 * Benchmark: an authenticated, database-backed list through our whole stack vs the same work by hand. tRPC GET
 * `project.list` (Bearer session token; the perimeter's session lookup, every hook, the tRPC layer, output
 * validation) on our api against a hand-written Fastify + pg route (db-list-servers.ts: the same session lookup by
 * hashed token, the same projects query, the same JSON), both on the same Postgres database with pools of the same
 * size, for one user with 50 projects, under the same autocannon load, rounds interleaved. Goal: tRPC keeps ≥ 70 %
 * of the hand-written route's req/s.
 */
import { browserLikeAgent, getJson, requestsPerSecond } from './http';
import { DB_POOL, startDbStack } from './db-stack';
import { LIST_ROWS } from './bench-db';
import { pairedRatios, runInterleaved, summarize } from './stats';
import { judge, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'tRPC req/s ≥ 70 % of a hand-written Fastify + pg route', comparator: '>=', target: 70 };
const CONNECTIONS = 10;

export const trpcDbList: Benchmark = {
  name: 'trpc-db-list',
  description: `req/s: authenticated tRPC project.list (${LIST_ROWS} rows) on buildServer vs a hand-written Fastify + pg route`,
  async run(ctx) {
    const stack = await startDbStack(ctx.repoRoot, 'bench-db-list');
    try {
      const headers = { authorization: `Bearer ${stack.library.token}` };
      const bareUrl = `${stack.servers.bareUrl}/projects`;
      const trpcUrl = `${stack.servers.apiUrl}/trpc/project.list`;
      // Both must answer the same payload, else the comparison is meaningless.
      const agent = browserLikeAgent();
      const bare = await getJson(bareUrl, agent, headers);
      const trpc = await getJson(trpcUrl, agent, headers);
      agent.destroy();
      if (JSON.stringify(bare) !== JSON.stringify(trpc)) {
        throw new Error(`payloads differ: ${JSON.stringify(bare).slice(0, 300)} vs ${JSON.stringify(trpc).slice(0, 300)}`);
      }
      const rows = (trpc as { result: { data: unknown[] } }).result.data.length;
      if (rows !== LIST_ROWS) throw new Error(`project.list answered ${rows} rows, expected ${LIST_ROWS}`);

      const durationSeconds = ctx.quick ? 1 : 4;
      for (const url of [bareUrl, trpcUrl]) {
        await requestsPerSecond({ url, connections: CONNECTIONS, durationSeconds: 1, headers });
      }
      const load = (url: string) => () => requestsPerSecond({ url, connections: CONNECTIONS, durationSeconds, headers });
      const samples = await runInterleaved(
        [
          { name: 'fastify-pg', measure: load(bareUrl) },
          { name: 'trpc', measure: load(trpcUrl) },
        ],
        ctx.rounds,
        (variant, round, value) => ctx.log(`round ${round + 1} ${variant}: ${value.toFixed(0)} req/s`),
      );
      const bareSamples = samples['fastify-pg'] ?? [];
      const trpcSamples = samples.trpc ?? [];
      const percent = summarize(pairedRatios(trpcSamples, bareSamples).map((r) => r * 100));
      return {
        name: this.name,
        description: this.description,
        unit: '% of hand-written req/s',
        rounds: ctx.rounds,
        median: percent.median,
        p25: percent.p25,
        p75: percent.p75,
        iqr: percent.iqr,
        goal: GOAL,
        met: judge(GOAL, percent.median),
        variants: {
          'fastify-pg': { unit: 'req/s', samples: bareSamples, ...summarize(bareSamples) },
          trpc: { unit: 'req/s', samples: trpcSamples, ...summarize(trpcSamples) },
        },
        settings: {
          connections: CONNECTIONS,
          durationSeconds,
          pipelining: 1,
          'rows per answer': LIST_ROWS,
          'pg pool per server': DB_POOL,
          auth: 'Authorization: Bearer <session token>, looked up by SHA-256 on every request',
          routes: 'api GET /trpc/project.list, hand-written GET /projects',
        },
      };
    } finally {
      await stack.stop();
    }
  },
};
