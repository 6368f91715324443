/**
 * A throwaway redis-server on a free loopback port, for tests that must change server settings (CONFIG SET), stop
 * Redis under a running service, or otherwise must not disturb the shared instance.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './ports';

export interface RedisServerHandle {
  url: string;
  port: number;
  pid: number;
  /** Server output so far (for failure messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

export async function startRedisServer({
  args = [],
  binary = process.env.REDIS_SERVER_BIN || 'redis-server',
  port: fixedPort,
}: {
  args?: string[];
  binary?: string;
  /** A port to listen on (to restart a server where its clients expect it); a free one when omitted. */
  port?: number;
} = {}): Promise<RedisServerHandle> {
  const port = fixedPort ?? (await freePort());
  // No persistence by default: nothing is written to disk and shutdown is immediate (`args` may turn AOF on).
  const proc = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  proc.stdout.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (output += c.toString()));
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    proc.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const spawnError = new Promise<never>((_, reject) => {
    proc.once('error', (err) => reject(new Error(`could not start ${binary}: ${err.message}`)));
  });
  spawnError.catch(() => undefined);
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);

  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    process.off('exit', killOnExit);
    if (exited) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exitPromise;
    clearTimeout(timer);
  };
  try {
    const exitedEarly = exitPromise.then(() => {
      throw new Error(`redis-server exited before answering on port ${port}`);
    });
    exitedEarly.catch(() => undefined);
    await Promise.race([
      spawnError,
      exitedEarly,
      waitFor(
        async () => {
          const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
          client.on('error', () => undefined);
          try {
            await client.connect();
            return (await client.ping()) === 'PONG';
          } finally {
            client.disconnect();
          }
        },
        { timeoutMs: 10_000, intervalMs: 50, description: `redis-server on port ${port}` },
      ),
    ]);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- redis-server output ---\n${output}`, { cause: err });
  }
  if (proc.pid === undefined) throw new Error('redis-server has no pid');
  return { url, port, pid: proc.pid, output: () => output, stop };
}
