/** Starts bench-servers.ts (or another server script of the benchmarks) as a child process and hands back its URLs; stop() ends it. */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

export interface BenchServers {
  /** Bare Fastify, `GET /hello`. */
  bareUrl: string;
  /** Our api, tRPC at `/trpc`. */
  apiUrl: string;
  stop(): Promise<void>;
}

/** `script`: the child to run (bench-servers.ts; db-list-servers.ts for the database-backed list). */
export async function startBenchServers(
  repoRoot: string,
  env: NodeJS.ProcessEnv = process.env,
  script = 'scripts/bench/bench-servers.ts',
): Promise<BenchServers> {
  const tsx = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, join(repoRoot, script)], {
    cwd: repoRoot,
    env: { ...env, NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error(`bench servers did not start in 60 s: ${stderr}`)), 60_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`bench servers exited during start-up: ${stderr.trim()}`));
    });
  });
  const urls = JSON.parse(first) as { bareUrl: string; apiUrl: string };
  return {
    ...urls,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
