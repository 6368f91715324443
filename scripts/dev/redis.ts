/**
 * Local redis-server for `pnpm dev` when REDIS_URL is unset: loopback only, no persistence (`--save ''`,
 * `--appendonly no`), its working directory under the data dir. The binary is Debian's `redis-server`; when it is
 * missing, the error says how to get it.
 */
import { mkdir } from 'node:fs/promises';
import { accessSync, constants } from 'node:fs';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { spawnService, type PrefixWriter, type ServiceProcess } from './processes';

export class RedisMissingError extends Error {
  constructor() {
    super(
      'redis-server was not found on PATH. Install it (Debian/Ubuntu: `sudo apt-get install redis-server`, ' +
        'macOS: `brew install redis`) or point REDIS_URL at a running Redis (e.g. REDIS_URL=redis://127.0.0.1:6379).',
    );
    this.name = 'RedisMissingError';
  }
}

/** Absolute path of an executable on PATH, or undefined. */
export function findExecutable(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface LocalRedisOptions {
  dataDir: string;
  port: number;
  writer: PrefixWriter;
  /** Defaults to the redis-server found on PATH. */
  binary?: string;
  readyTimeoutMs?: number;
}

export interface LocalRedis {
  url: string;
  process: ServiceProcess;
  stop(): Promise<void>;
}

export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  const binary = options.binary ?? findExecutable('redis-server');
  if (binary === undefined) throw new RedisMissingError();
  await mkdir(options.dataDir, { recursive: true });
  const proc = spawnService({
    name: 'redis',
    command: binary,
    args: [
      '--port',
      String(options.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      options.dataDir,
      '--loglevel',
      'warning',
      // Ctrl-C in the terminal goes to the orchestrator only; redis stops on our SIGTERM.
      '--daemonize',
      'no',
    ],
    cwd: options.dataDir,
    env: process.env,
    writer: options.writer,
  });
  try {
    await waitForPong(options.port, options.readyTimeoutMs ?? 15_000, proc);
  } catch (err) {
    await proc.stop(2_000);
    throw err;
  }
  return { url: `redis://127.0.0.1:${options.port}`, process: proc, stop: () => proc.stop(5_000) };
}

/** Polls with a raw RESP PING until the server answers +PONG (no client library needed). */
async function waitForPong(port: number, timeoutMs: number, proc: ServiceProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) throw new Error(`redis-server exited before accepting connections on port ${port}`);
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server did not answer PING on port ${port} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function ping(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let answer = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) finish(answer.startsWith('+PONG'));
    });
  });
}
