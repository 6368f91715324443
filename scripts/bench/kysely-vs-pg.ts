/**
 * Benchmark: what our query layer costs over the driver. The product's hot queries, run through our Kysely instance
 * (`createDb`, the @dawg/db functions the api calls: `checkSessionToken` for every authenticated request,
 * `listProjectsOf` for project.list, `listLibraryTracks` for track.list, `findGenerationOfOwner` for the generation
 * status), against the very SQL text and parameters those functions send (captured once through Kysely's query
 * log), replayed through a raw `pg` pool — same database, same pool size, same concurrency, rounds interleaved. The
 * Kysely side includes what the functions do around the query (building and compiling it, mapping the rows); that is
 * the cost being measured. Headline: per round, the geometric mean over the four queries of Kysely's throughput as a
 * percentage of raw pg's. Goal ≥ 85 %.
 */
import { checkSessionToken, createDb, createPool, findGenerationOfOwner, listLibraryTracks, listProjectsOf } from '@dawg/db';
import type { Database } from '@dawg/db';
import { STUDIO_LIMITS } from '@dawg/shared';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import { createBenchDatabase, LIST_ROWS, seedBenchLibrary, type BenchDatabase } from './bench-db';
import { runInterleaved, summarize } from './stats';
import { judge, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'Kysely ≥ 85 % of raw pg throughput on the hot queries', comparator: '>=', target: 85 };
/** Concurrent callers, and connections in each pool. */
const CONCURRENCY = 8;

interface HotQuery {
  name: string;
  /** The product's call through Kysely. */
  kysely(db: Kysely<Database>): Promise<unknown>;
}

/** Calls per second of `call` from CONCURRENCY concurrent loops over `durationMs`. */
async function throughput(call: () => Promise<unknown>, durationMs: number): Promise<number> {
  let calls = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        await call();
        calls++;
      }
    }),
  );
  return calls / ((performance.now() - started) / 1000);
}

const geometricMean = (xs: readonly number[]) => Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);

export const kyselyVsPg: Benchmark = {
  name: 'kysely-vs-pg',
  description: 'queries/s: hot queries (session lookup, project list, track list, generation status) via Kysely vs raw pg',
  async run(ctx) {
    let database: BenchDatabase | undefined;
    let db: Kysely<Database> | undefined;
    let capture: Kysely<Database> | undefined;
    const pool = () => createPool({ connectionString: database!.url, max: CONCURRENCY });
    const raw = { pool: undefined as ReturnType<typeof createPool> | undefined };
    try {
      database = await createBenchDatabase();
      const lib = await seedBenchLibrary(database.db);
      const queries: HotQuery[] = [
        {
          name: 'session',
          kysely: async (k) => {
            const check = await checkSessionToken(k, lib.token);
            if (check.status !== 'valid') throw new Error(`session lookup answered ${check.status}`);
          },
        },
        { name: 'project-list', kysely: (k) => listProjectsOf(k, lib.userId) },
        {
          name: 'track-list',
          kysely: (k) => listLibraryTracks(k, { userId: lib.userId, limit: STUDIO_LIMITS.TRACK_LIST_DEFAULT }),
        },
        {
          name: 'generation-status',
          kysely: async (k) => {
            if (!(await findGenerationOfOwner(k, lib.userId, lib.generationId))) throw new Error('generation not found');
          },
        },
      ];

      // The SQL each function sends, exactly: its last statement is the read (the session lookup may also refresh
      // last_seen_at on its first call; that write is not replayed).
      const sent: CompiledQuery[] = [];
      capture = new Kysely<Database>({
        dialect: new PostgresDialect({ pool: pool() }),
        log: (event) => {
          if (event.level === 'query') sent.push(event.query);
        },
      });
      const replay = new Map<string, { sql: string; parameters: unknown[]; rows: number }>();
      for (const q of queries) {
        await q.kysely(capture); // a refresh of last_seen_at happens here, if at all
        sent.length = 0;
        const answer = await q.kysely(capture);
        const read = sent.filter((c) => /^\s*select/i.test(c.sql));
        if (read.length !== 1) throw new Error(`${q.name}: expected one select, captured ${sent.length} statements`);
        const rows = Array.isArray(answer)
          ? answer.length
          : ((answer as { rows?: unknown[] } | undefined)?.rows?.length ?? 1);
        replay.set(q.name, { sql: read[0]!.sql, parameters: [...read[0]!.parameters], rows });
      }
      await capture.destroy();
      capture = undefined;

      db = createDb({ connectionString: database.url, max: CONCURRENCY });
      raw.pool = pool();
      const rawPool = raw.pool;
      const kysely = db;
      for (const q of queries) {
        const r = replay.get(q.name)!;
        const { rows } = await rawPool.query(r.sql, r.parameters);
        if (rows.length !== r.rows) throw new Error(`${q.name}: raw pg answered ${rows.length} rows, Kysely ${r.rows}`);
      }

      const durationMs = ctx.quick ? 500 : 2_000;
      const variants = queries.flatMap((q) => {
        const r = replay.get(q.name)!;
        return [
          { name: `kysely:${q.name}`, measure: () => throughput(() => q.kysely(kysely), durationMs) },
          { name: `pg:${q.name}`, measure: () => throughput(() => rawPool.query(r.sql, r.parameters), durationMs) },
        ];
      });
      // Warm-up (JIT, connections, Postgres' plan cache) is not measured.
      for (const q of queries) {
        const r = replay.get(q.name)!;
        await throughput(() => q.kysely(kysely), 300);
        await throughput(() => rawPool.query(r.sql, r.parameters), 300);
      }
      const samples = await runInterleaved(variants, ctx.rounds, (variant, round, value) =>
        ctx.log(`round ${round + 1} ${variant}: ${value.toFixed(0)} queries/s`),
      );
      const perRound = Array.from({ length: ctx.rounds }, (_, i) =>
        geometricMean(queries.map((q) => samples[`kysely:${q.name}`]![i]! / samples[`pg:${q.name}`]![i]!)) * 100,
      );
      const percent = summarize(perRound);
      const settings: Record<string, string | number> = {
        concurrency: CONCURRENCY,
        'pool connections per side': CONCURRENCY,
        durationMs,
        'rows per list': LIST_ROWS,
        headline: 'per round, geometric mean over the queries of Kysely queries/s ÷ raw pg queries/s',
      };
      for (const q of queries) {
        const k = summarize(samples[`kysely:${q.name}`]!);
        const p = summarize(samples[`pg:${q.name}`]!);
        settings[`${q.name} Kysely/pg (median %)`] = Math.round((k.median / p.median) * 1000) / 10;
      }
      return {
        name: this.name,
        description: this.description,
        unit: '% of raw pg queries/s',
        rounds: ctx.rounds,
        median: percent.median,
        p25: percent.p25,
        p75: percent.p75,
        iqr: percent.iqr,
        goal: GOAL,
        met: judge(GOAL, percent.median),
        variants: Object.fromEntries(
          Object.entries(samples).map(([name, s]) => [name, { unit: 'queries/s', samples: s, ...summarize(s) }]),
        ),
        settings,
      };
    } finally {
      await capture?.destroy();
      await db?.destroy();
      await raw.pool?.end();
      await database?.drop();
    }
  },
};
