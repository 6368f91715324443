/**
 * Resident memory of the real processes (`launch` from @dawg/testing: `packages/api/src/main.ts` and
 * `packages/worker/src/main.ts` against a test database, a Redis prefix and the S3-protocol server):
 * - api idle: VmRSS after start-up, 2 s idle and a few /health requests (goal ≤ 150 MB), one sample per round from
 *   the same process;
 * - worker while rendering: peak VmRSS, sampled every 50 ms, during a 300 s song through the local synth, created
 *   with the api's `POST /api/generate` (goal ≤ 250 MB); one render per round, in the same worker process.
 * Both run as production does: the production build (`scripts/build-server.mjs`, made first) started with the
 * package's `start` script, `node [V8 flags] dist/main.mjs`, read from its package.json (so the benchmark measures
 * what the Dockerfiles and Railway run, flags included).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createUser,
  defaultRedisUrl,
  flushPrefix,
  launch,
  repoPath,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  type Launched,
  type S3ServerHandle,
} from '@dawg/testing';
import { createBenchDatabase, type BenchDatabase } from './bench-db';
import { singleVariantResult, type Benchmark, type Goal } from './types';

const API_GOAL: Goal = { description: 'api idle RSS ≤ 150 MB', comparator: '<=', target: 150 };
const WORKER_GOAL: Goal = { description: 'worker peak RSS rendering a 5-min song ≤ 250 MB', comparator: '<=', target: 250 };

const SONG_SECONDS = 300;
const SAMPLE_MS = 50;
const RENDER_TIMEOUT_MS = 150_000;

/** VmRSS of a process in MB (from /proc/<pid>/status, which reports kB). */
export function parseVmRssMb(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m?.[1]) throw new Error('no VmRSS line in /proc status');
  return Number(m[1]) / 1024;
}

async function rssMb(pid: number): Promise<number> {
  return parseVmRssMb(await readFile(`/proc/${pid}/status`, 'utf8'));
}



const round1 = (n: number) => Math.round(n * 10) / 10;

/** A production start command: `node [flags] <entry>` from the package's `start` script. */
export interface StartCommand {
  nodeArgs: string[];
  entry: string;
}

export function parseStartScript(script: string, pkgDir: string): StartCommand {
  const words = script.trim().split(/\s+/);
  const entry = words.at(-1);
  if (words[0] !== 'node' || !entry || !/\.m?js$/.test(entry) || words.slice(1, -1).some((w) => !w.startsWith('--'))) {
    throw new Error(`start script is not \`node [--flags] <built entry>\`: ${script}`);
  }
  return { nodeArgs: words.slice(1, -1), entry: join(pkgDir, entry) };
}

/** Builds the package (scripts/build-server.mjs) and returns how its `start` script runs it. */
function productionStart(name: 'api' | 'worker'): StartCommand {
  execFileSync(process.execPath, [repoPath('scripts/build-server.mjs'), name], { stdio: 'pipe' });
  const pkgDir = repoPath(`packages/${name}`);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  return parseStartScript(pkg.scripts?.start ?? '', pkgDir);
}

async function apiIdle(stack: Launched, rounds: number, log: (line: string) => void): Promise<number[]> {
  const api = stack.apis[0]!;
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await sleep(2_000);
    for (let h = 0; h < 3; h++) {
      const res = await fetch(`${api.url}/health`);
      await res.arrayBuffer();
    }
    const mb = await rssMb(api.pid);
    log(`api round ${i + 1}: ${mb.toFixed(1)} MB`);
    samples.push(round1(mb));
  }
  return samples;
}

async function workerRender(
  stack: Launched,
  token: string,
  log: (line: string) => void,
): Promise<{ peak: number; before: number; renderMs: number; samples: number }> {
  const api = stack.apis[0]!;
  const worker = stack.workers[0]!;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const before = await rssMb(worker.pid);
  const res = await fetch(`${api.url}/api/generate`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ prompt: 'a steady synthwave groove for memory measurement', duration: SONG_SECONDS }),
  });
  if (res.status !== 202) throw new Error(`POST /api/generate answered ${res.status}: ${await res.text()}`);
  const { jobId } = (await res.json()) as { jobId: string };

  let peak = before;
  let count = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, await rssMb(worker.pid));
      count++;
      await sleep(SAMPLE_MS);
    }
  })();
  const started = performance.now();
  try {
    for (;;) {
      if (performance.now() - started > RENDER_TIMEOUT_MS) throw new Error(`render not done in ${RENDER_TIMEOUT_MS} ms`);
      await sleep(500);
      const status = await fetch(`${api.url}/api/generate/${jobId}/status`, { headers });
      const body = (await status.json()) as { status?: string };
      if (body.status === 'completed') break;
      if (body.status === 'failed' || body.status === 'canceled') {
        throw new Error(`generation ${body.status}: ${JSON.stringify(body)}\n${stack.logs(worker.name).slice(-4000)}`);
      }
    }
  } finally {
    done = true;
    await sampler;
  }
  const renderMs = performance.now() - started;
  log(`worker: ${before.toFixed(1)} MB before, peak ${peak.toFixed(1)} MB over ${(renderMs / 1000).toFixed(1)} s`);
  return { peak: round1(peak), before: round1(before), renderMs, samples: count };
}

export const processRss: Benchmark = {
  name: 'process-rss',
  description: 'MB: resident memory of the api at idle and of the worker rendering a 5-min song',
  async run(ctx) {
    const prefix = uniqueRedisPrefix('bench-rss');
    let database: BenchDatabase | undefined;
    let s3server: S3ServerHandle | undefined;
    let stack: Launched | undefined;
    try {
      [database, s3server] = await Promise.all([createBenchDatabase(), startS3Server()]);
      const env = testEnv(
        { databaseUrl: database.url, redisPrefix: prefix, s3: s3server },
        { MUSIC_PROVIDER: 'local', WHITELISTED_IPS: '127.0.0.1', LOG_LEVEL: 'warn' },
      );
      const api = productionStart('api');
      const worker = productionStart('worker');
      stack = await launch({
        apis: 1,
        workers: 1,
        env,
        apiEntry: api.entry,
        workerEntry: worker.entry,
        nodeArgs: { api: api.nodeArgs, worker: worker.nodeArgs },
      });
      const apiSamples = await apiIdle(stack, ctx.rounds, ctx.log);
      const { token } = await createUser(database.db, { plan: 'studio' });
      const renders = [];
      for (let i = 0; i < ctx.rounds; i++) renders.push(await workerRender(stack, token, ctx.log));
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
      const processes =
        'launch() from @dawg/testing: the production build run by each package\'s `start` script ' +
        `(api: node ${[...api.nodeArgs, 'dist/main.mjs'].join(' ')}; worker: node ${[...worker.nodeArgs, 'dist/main.mjs'].join(' ')}), ` +
        'test database, Redis prefix, S3-protocol server';
      return [
        singleVariantResult({
          name: 'api-idle-rss',
          description: 'MB: api VmRSS after start-up, 2 s idle and 3 /health requests',
          unit: 'MB',
          rounds: ctx.rounds,
          goal: API_GOAL,
          samples: apiSamples,
          settings: {
            processes,
            round: 'same api process each round: 2 s idle, 3 × GET /health, then /proc/<pid>/status VmRSS',
          },
        }),
        singleVariantResult({
          name: 'worker-render-rss',
          description: 'MB: worker peak VmRSS while rendering a 300 s song with the local synth',
          unit: 'MB',
          rounds: ctx.rounds,
          goal: WORKER_GOAL,
          samples: renders.map((r) => r.peak),
          settings: {
            processes,
            render: `one ${SONG_SECONDS} s local-synth generation per round via POST /api/generate, same worker process`,
            sampling: `VmRSS every ${SAMPLE_MS} ms from the request until the status is completed`,
            'median samples taken per render': median(renders.map((r) => r.samples)),
            'RSS before the first render (MB)': renders[0]?.before ?? 0,
            'median render seconds': Math.round(median(renders.map((r) => r.renderMs)) / 100) / 10,
          },
        }),
      ];
    } finally {
      await stack?.stop();
      await s3server?.stop();
      await flushPrefix(defaultRedisUrl(), prefix);
      await database?.drop();
    }
  },
};
