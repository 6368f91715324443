/**
 * `pnpm soak` (not in CI): starts one api and one worker process with the launcher from @dawg/testing (as
 * production runs them, on a database cloned from the migrated test template, a Redis prefix, the S3-protocol
 * server, the fake Anthropic and the local synth), runs a warm-up round of every kind of operation, takes the quiet
 * counts, runs the mixed load of load.ts for --minutes while sampling both processes' VmRSS, takes the quiet counts
 * again and judges growth and leaks as report.ts defines them. Writes bench/soak.json and regenerates
 * docs/benchmarks.md from bench/results.json with the Soak section.
 *
 *   --minutes <n>         load duration (default 10; e.g. 1 for a quick run)
 *   --sample-seconds <n>  RSS sampling interval (default 5)
 *   --quiet-seconds <n>   pause before each quiet count (default 35: past the Postgres pool's 30 s idle timeout;
 *                         the baseline also waits until the processes are 95 s old)
 *   --out <file>          results (default bench/soak.json)
 *   --report <file>       markdown report (default docs/benchmarks.md; needs bench/results.json)
 *
 * Exit code 0 when the soak passed, 1 when it failed or could not run, 2 on bad usage.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  createUser,
  defaultRedisUrl,
  flushPrefix,
  launch,
  startFakeAnthropic,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  type FakeAnthropic,
  type Launched,
  type LaunchedProcess,
  type S3ServerHandle,
} from '@dawg/testing';
import { createBenchDatabase, type BenchDatabase } from '../bench/bench-db';
import { formatReport, type BenchReport } from '../bench/index';
import { ACTORS, GENERATIONS_PER_USER, runLoad, SoakClient, type LoadState } from './load';
import { quietCounts, rssMb, scrape } from './probe';
import {
  leaksOf,
  rssGrowth,
  soakPassed,
  type OperationStats,
  type ProcessSoak,
  type QuietCounts,
  type RssSample,
  type SoakResult,
} from './report';

/** Rounds of each actor before the baseline (covers every variant an actor alternates between). */
const WARMUP_ROUNDS = 2;
/** Uptime of the processes before the baseline counts: three runs of the api's self-check at its default 30 s. */
const MIN_UPTIME_MS = 95_000;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface SoakArgs {
  minutes: number;
  sampleSeconds: number;
  quietSeconds: number;
  out: string;
  report: string;
}

export function parseSoakArgs(argv: readonly string[], root = repoRoot): SoakArgs {
  const args: SoakArgs = {
    minutes: 10,
    sampleSeconds: 5,
    quietSeconds: 35,
    out: join(root, 'bench/soak.json'),
    report: join(root, 'docs/benchmarks.md'),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    const positive = (name: string, v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${v}"`);
      return n;
    };
    if (arg === '--') continue;
    else if (arg === '--minutes') args.minutes = positive('--minutes', value());
    else if (arg === '--sample-seconds') args.sampleSeconds = positive('--sample-seconds', value());
    else if (arg === '--quiet-seconds') args.quietSeconds = positive('--quiet-seconds', value());
    else if (arg === '--out') args.out = resolve(value());
    else if (arg === '--report') args.report = resolve(value());
    else throw new Error(`unknown argument ${arg}`);
  }
  // The plateau and end windows (10 % of the run each) need at least two samples.
  if (args.minutes * 60 * 0.1 < args.sampleSeconds * 2) {
    throw new Error(`--minutes ${args.minutes} is too short for --sample-seconds ${args.sampleSeconds}`);
  }
  return args;
}

/** docs/benchmarks.md from the last `pnpm bench` results plus this soak. */
export function writeReportWithSoak(resultsPath: string, reportPath: string, soak: SoakResult): boolean {
  if (!existsSync(resultsPath)) return false;
  const results = JSON.parse(readFileSync(resultsPath, 'utf8')) as BenchReport;
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, formatReport(results, soak));
  return true;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function counts(stack: Launched, procs: LaunchedProcess[]): Promise<QuietCounts[]> {
  return Promise.all(procs.map((p) => quietCounts(p, stack.logs(p.name), defaultRedisUrl())));
}

async function main(): Promise<number> {
  let args: SoakArgs;
  try {
    args = parseSoakArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n`);
    return 2;
  }
  const prefix = uniqueRedisPrefix('soak');
  let database: BenchDatabase | undefined;
  let s3: S3ServerHandle | undefined;
  let fake: FakeAnthropic | undefined;
  let stack: Launched | undefined;
  try {
    [database, s3, fake] = await Promise.all([createBenchDatabase(), startS3Server(), startFakeAnthropic()]);
    const env = testEnv(
      { databaseUrl: database.url, redisPrefix: prefix, s3 },
      {
        MUSIC_PROVIDER: 'local',
        WHITELISTED_IPS: '127.0.0.1',
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LOG_LEVEL: 'warn',
      },
    );
    stack = await launch({ apis: 1, workers: 1, env });
    const launchedAt = Date.now();
    const procs = [stack.apis[0]!, stack.workers[0]!];
    log(`soak: api pid ${procs[0]!.pid}, worker pid ${procs[1]!.pid}; ${args.minutes} min of load`);

    const db = database.db;
    const apiUrl = procs[0]!.url;
    const clients: SoakClient[] = [];
    const newUserClient = async () => {
      const { token } = await createUser(db, { plan: 'studio' });
      const c = new SoakClient(apiUrl, token);
      clients.push(c);
      return c;
    };
    /** Ends the keep-alive connections of every soak client, so the quiet counts see none of ours. */
    const closeClients = () => {
      for (const c of clients) c.close();
    };
    const client = await newUserClient();
    const project = await client.mutate('project.create', { name: 'Soak live project' });
    const state: LoadState = { projectId: project.project.id as string, pendingDeletes: [], newUserClient };

    // Warm-up: every kind of operation, each of its variants (chat alternates tRPC + WebSocket and REST), so lazily
    // created clients, connections and pools exist before the baseline.
    for (const actor of ACTORS) {
      for (let round = 0; round < WARMUP_ROUNDS; round++) {
        try {
          await actor.once(client, state, round);
        } catch (err) {
          throw new Error(`warm-up ${actor.name} failed: ${(err as Error).message}`, { cause: err });
        }
      }
    }
    closeClients();
    // The first /metrics scrape opens the connections its collectors use (queue depths): scraped once here, so
    // the baseline's counts include them.
    for (const p of procs) await scrape(p.url);
    // Periodic work (the api's 30 s self-check, ...) opens some connections on its first run only: the baseline
    // waits until the processes have been up for MIN_UPTIME_MS, so those are in it.
    const quietMs = Math.max(args.quietSeconds * 1000, MIN_UPTIME_MS - (Date.now() - launchedAt));
    log(`soak: warm-up done; quiet for ${Math.round(quietMs / 1000)} s`);
    await sleep(quietMs);
    const baseline = await counts(stack, procs);
    log(`soak: baseline ${JSON.stringify(baseline)}`);

    const durationMs = args.minutes * 60_000;
    const operations: Record<string, OperationStats> = {};
    const samples: RssSample[][] = procs.map(() => []);
    const started = Date.now();
    let loadDone = false;
    const sampler = (async () => {
      while (!loadDone) {
        const atMs = Date.now() - started;
        const mbs = await Promise.all(procs.map((p) => rssMb(p.pid)));
        mbs.forEach((mb, i) => samples[i]!.push({ atMs, mb: Math.round(mb * 10) / 10 }));
        if (samples[0]!.length % 12 === 1) {
          const done = Object.entries(operations)
            .map(([n, s]) => `${n} ${s.ok}/${s.failed}`)
            .join(', ');
          log(
            `  ${(atMs / 60_000).toFixed(1)} min: api ${mbs[0]!.toFixed(1)} MB, worker ${mbs[1]!.toFixed(1)} MB; ${done}`,
          );
        }
        await sleep(args.sampleSeconds * 1000);
      }
    })();
    await runLoad(client, state, started + durationMs, operations);
    loadDone = true;
    await sampler;
    closeClients();
    log(`soak: load done after ${((Date.now() - started) / 60_000).toFixed(2)} min; quiet for ${args.quietSeconds} s`);
    await sleep(args.quietSeconds * 1000);
    const end = await counts(stack, procs);
    log(`soak: end ${JSON.stringify(end)}`);

    const processes: ProcessSoak[] = procs.map((p, i) => ({
      name: p.kind,
      pid: p.pid,
      rss: rssGrowth(samples[i]!, durationMs),
      rssSamples: samples[i]!,
      baseline: baseline[i]!,
      end: end[i]!,
      leaks: leaksOf(baseline[i]!, end[i]!),
    }));
    const result: SoakResult = {
      date: new Date().toISOString(),
      minutes: args.minutes,
      durationMs,
      processes,
      operations,
      passed: soakPassed(processes, operations),
      settings: {
        'sample interval (s)': args.sampleSeconds,
        'quiet pause before counts (s)': args.quietSeconds,
        'generations per user': `${GENERATIONS_PER_USER} (the product allows 20 an hour), then a new user`,
        actors: ACTORS.map((a) => `${a.name} ×${a.concurrency} (pause ${a.thinkMs} ms)`).join(', '),
        processes:
          'launch() from @dawg/testing: node --import tsx packages/{api,worker}/src/main.ts, MUSIC_PROVIDER=local, ' +
          'fake Anthropic, S3-protocol server',
      },
    };
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${args.out}`);
    if (writeReportWithSoak(join(repoRoot, 'bench/results.json'), args.report, result)) log(`wrote ${args.report}`);
    else log('no bench/results.json: run `pnpm bench` for the report (it includes bench/soak.json)');
    for (const p of processes) {
      log(
        `${p.name}: RSS ${p.rss.plateauMb.toFixed(1)} → ${p.rss.endMb.toFixed(1)} MB (${p.rss.growthPercent.toFixed(1)} %), ` +
          `leaks ${JSON.stringify(p.leaks)}`,
      );
    }
    log(`soak: ${result.passed ? 'passed' : 'FAILED'}`);
    return result.passed ? 0 : 1;
  } finally {
    await stack?.stop().catch((err: unknown) => log(`stopping the stack: ${(err as Error).message}`));
    await fake?.close();
    await s3?.stop();
    await flushPrefix(defaultRedisUrl(), prefix);
    await database?.drop();
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`soak failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
