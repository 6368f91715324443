/**
 * Scale-out check: starts N api and M worker processes (default 2 + 2) with the test harness's launcher on the
 * Postgres, Redis and S3 of the current environment (DATABASE_URL, REDIS_URL, S3_ENDPOINT, ... as `pnpm dev` or a
 * deployment sets them), runs the smoke test through every api, then stops them all and proves none is left. A
 * generation accepted by one api is run by whichever worker takes it, and signing in on one api works on the others:
 * nothing lives in one process's memory. `--keep` leaves the processes up until Ctrl-C.
 *
 *   DATABASE_URL=... REDIS_URL=... pnpm ops:scale-out
 *   pnpm ops:scale-out --apis 3 --workers 2 --keep
 */
import { launch } from '@dawg/testing';
import { type CommandSpec, isMain, numberOption, parseArgs, run, UsageError } from './cli';
import { runSmoke, SMOKE_STEPS, type SmokeStep } from './smoke';

export const scaleOutCommand: CommandSpec = {
  usage: 'pnpm ops:scale-out [--apis 2] [--workers 2] [--keep]',
  description:
    "Starts api and worker processes on the environment's Postgres, Redis and S3 (ports chosen freely), runs the\n" +
    'smoke test through each api, then stops every process. The environment must already be migrated.',
  options: [
    { name: 'apis', default: '2', help: 'api processes' },
    { name: 'workers', default: '2', help: 'worker processes' },
    { name: 'generation-timeout', default: '180', help: 'seconds each smoke generation may take' },
    { name: 'skip', help: 'comma-separated smoke steps to skip' },
    { name: 'keep', flag: true, help: 'keep the processes running after the smoke tests (Ctrl-C stops them)' },
  ],
  epilogue:
    'Exit codes: 0 every api passed the smoke test, 1 one failed or a process did not start or stop, 2 bad usage.',
};

/** The environment the launched processes get: this process's, as strings. */
function childEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (typeof v === 'string') env[k] = v;
  return env;
}

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(scaleOutCommand);
    const apis = numberOption(values, 'apis');
    const workers = numberOption(values, 'workers');
    if (apis < 1 || workers < 1) throw new UsageError('--apis and --workers must be at least 1');
    const skip = new Set<SmokeStep>();
    for (const name of (values.skip ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!(SMOKE_STEPS as readonly string[]).includes(name)) throw new UsageError(`--skip: unknown step "${name}"`);
      skip.add(name as SmokeStep);
    }
    process.stdout.write(`scale-out: starting ${apis} api and ${workers} worker processes\n`);
    const stack = await launch({ apis, workers, env: childEnv() });
    let ok = true;
    try {
      for (const p of [...stack.apis, ...stack.workers]) {
        process.stdout.write(`  ${p.name.padEnd(9)} pid ${p.pid} ${p.url}\n`);
      }
      for (const api of stack.apis) {
        const result = await runSmoke({
          baseUrl: api.url,
          generationTimeoutMs: numberOption(values, 'generation-timeout') * 1000,
          requestTimeoutMs: 60_000,
          skip,
          strict: false,
          log: (line) => process.stdout.write(`[${api.name}] ${line}\n`),
        });
        if (!result.ok) ok = false;
      }
      if (values.keep === 'true') {
        process.stdout.write('scale-out: running; Ctrl-C stops every process\n');
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      }
    } finally {
      await stack.stop();
      process.stdout.write('scale-out: every process stopped\n');
    }
    process.stdout.write(ok ? `scale-out: passed through ${apis} apis\n` : 'scale-out: FAILED\n');
    return ok ? 0 : 1;
  });
}
