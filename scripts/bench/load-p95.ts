/**
 * Benchmark: latency under load, the seed's load test (7.2) at 100 concurrent connections. Each round sends a fixed
 * number of requests with `loadTarget` from scripts/ops/load-http.ts (autocannon, 100 connections, pipelining 1) to
 * our api started with buildServer on a seeded database: the authenticated tRPC `project.list` (Bearer session
 * token, 50 projects) and `/health` (which checks Postgres and Redis), alternating. Headline: p95 of project.list;
 * /health's, both averages and the failed count are variants. Goal: p95 ≤ 50 ms with 0 failed.
 */
import { loadTarget, type LoadTarget, type TargetReport } from '../ops/load-http';
import { DB_POOL, startDbStack } from './db-stack';
import { LIST_ROWS } from './bench-db';
import { runInterleaved, summarize } from './stats';
import { judge, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'p95 ≤ 50 ms at 100 connections (authenticated list), 0 failed', comparator: '<=', target: 50 };
const CONNECTIONS = 100;

export const loadP95: Benchmark = {
  name: 'load-p95',
  description: `ms: p95 latency of authenticated tRPC project.list (${LIST_ROWS} rows) at ${CONNECTIONS} connections`,
  async run(ctx) {
    const stack = await startDbStack(ctx.repoRoot, 'bench-load');
    try {
      const amount = ctx.quick ? 1_000 : 5_000;
      const reports: Record<LoadTarget, TargetReport[]> = { list: [], health: [] };
      const measure = (target: LoadTarget) => async () => {
        const report = await loadTarget({
          base: stack.servers.apiUrl,
          target,
          amount,
          connections: CONNECTIONS,
          token: stack.library.token,
        });
        reports[target].push(report);
        ctx.log(
          `${target}: avg ${report.avgMs} ms, p95 ${report.p95Ms} ms, failed ${report.failed}, ${report.requestsPerSecond} req/s`,
        );
        return report.p95Ms;
      };
      // Warm-up (JIT, connection pools) is not measured.
      for (const target of ['list', 'health'] as const) {
        await loadTarget({
          base: stack.servers.apiUrl,
          target,
          amount: 500,
          connections: CONNECTIONS,
          token: stack.library.token,
        });
      }
      const samples = await runInterleaved(
        [
          { name: 'list', measure: measure('list') },
          { name: 'health', measure: measure('health') },
        ],
        ctx.rounds,
      );
      const listP95 = samples.list ?? [];
      const healthP95 = samples.health ?? [];
      const p95 = summarize(listP95);
      const failed = [...reports.list, ...reports.health].reduce((n, r) => n + r.failed, 0);
      const series = (target: LoadTarget, pick: (r: TargetReport) => number, unit: string) => {
        const s = reports[target].map(pick);
        return { unit, samples: s, ...summarize(s) };
      };
      return {
        name: this.name,
        description: this.description,
        unit: 'ms',
        rounds: ctx.rounds,
        median: p95.median,
        p25: p95.p25,
        p75: p95.p75,
        iqr: p95.iqr,
        goal: GOAL,
        met: judge(GOAL, p95.median) && failed === 0,
        variants: {
          'list p95': { unit: 'ms', samples: listP95, ...summarize(listP95) },
          'list avg': series('list', (r) => r.avgMs, 'ms'),
          'list failed': series('list', (r) => r.failed, 'requests'),
          'health p95': { unit: 'ms', samples: healthP95, ...summarize(healthP95) },
          'health avg': series('health', (r) => r.avgMs, 'ms'),
          'health failed': series('health', (r) => r.failed, 'requests'),
        },
        settings: {
          connections: CONNECTIONS,
          'requests per round and target': amount,
          pipelining: 1,
          'failed in all rounds': failed,
          'pg pool': DB_POOL,
          client: 'loadTarget from scripts/ops/load-http.ts (autocannon)',
          routes: 'GET /trpc/project.list (Bearer session token), GET /health',
        },
      };
    } finally {
      await stack.stop();
    }
  },
};
