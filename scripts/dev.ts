/**
 * `pnpm dev` (and `pnpm dev:unified` = `--no-web`): the whole stack on one machine with nothing but Node and
 * redis-server installed. Installs dependencies on a fresh clone, then hands over to scripts/dev/stack.ts.
 * SIGINT/SIGTERM stop everything it started and exit 0; a second one kills at once.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDependencies } from './dev/install';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string) => process.stdout.write(`[dev] ${line}\n`);

async function main(): Promise<number> {
  if (!ensureDependencies(repoRoot, log)) return 1;
  // Imported only now: these modules load dependencies that the install above may just have put in place.
  const { DEV_USAGE, DevUsageError, parseDevArgs } = await import('./dev/config');
  const { describeDevEnv, startDevStack } = await import('./dev/stack');

  let args;
  try {
    args = parseDevArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof DevUsageError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${DEV_USAGE}\n`);
    return 0;
  }
  if (args.printEnv) {
    process.stdout.write(await describeDevEnv(args, process.env, repoRoot));
    return 0;
  }

  const startup = new AbortController();
  let stack: Awaited<ReturnType<typeof startDevStack>> | undefined;
  const spawned: number[] = [];
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    const now = Date.now();
    // Wrappers (pnpm, tsx) may pass on the same Ctrl-C the terminal already sent to the whole group: a repeat
    // within a second is that echo; a later one is the user insisting.
    if (firstSignalAt !== 0 && now - firstSignalAt < 1_000) return;
    if (firstSignalAt !== 0) {
      log(`${signal} again: killing everything now`);
      for (const pid of spawned) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      process.exit(130);
    }
    firstSignalAt = now;
    if (stack) void stack.stop(`${signal} received`, 0);
    else startup.abort(new Error(`${signal} received`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    stack = await startDevStack({
      args,
      env: process.env,
      repoRoot,
      out: process.stdout,
      signal: startup.signal,
      onSpawn: (pid) => spawned.push(pid),
    });
  } catch (err) {
    if (startup.signal.aborted) return 0;
    throw err;
  }
  return stack.done;
}

/** Errors that explain themselves: their message is the whole story, a stack trace would only hide it. */
const EXPECTED = new Set(['DevUsageError', 'DevStartError', 'RedisMissingError', 'PortInUseError', 'EnvError']);

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const expected = err instanceof Error && EXPECTED.has(err.name);
    const text = err instanceof Error ? (expected ? err.message : (err.stack ?? err.message)) : String(err);
    process.stderr.write(`[dev] ${text}\n`);
    process.exit(err instanceof Error && err.name === 'DevUsageError' ? 2 : 1);
  },
);
