/**
 * Starts real api and worker processes for multi-process tests (k api + m worker instances on one Redis and one
 * database), waits until each answers /health, keeps their output, and stops them with proof that none is left.
 *
 * Each process listens on port 0 and announces its URL in its `… listening` log line, which the launcher reads: picking
 * a free port first and passing it on races with every other server that tests start in parallel.
 *
 * Processes run as `node --import tsx <entry>` rather than through the tsx CLI: the CLI is a shell shim plus a parent
 * node process that spawns the real one, so a SIGKILL to the pid we hold would orphan the actual server. A built entry
 * (`.mjs`/`.js`, e.g. `packages/api/dist/main.mjs` from `scripts/build-server.mjs`) runs with plain `node`, as in
 * production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoPath } from './repo';

export interface LaunchOptions {
  apis?: number;
  workers?: number;
  /** The environment of every process (testEnv()); PORT / WORKER_PORT are set to 0 per process. */
  env: Record<string, string>;
  /** Entry files, relative to the repo root or absolute; `.ts` ones load through tsx, built `.mjs`/`.js` ones do not. */
  apiEntry?: string;
  workerEntry?: string;
  /** Extra node options before the entry, per kind (e.g. the V8 flags of the production start commands). */
  nodeArgs?: { api?: readonly string[]; worker?: readonly string[] };
  /** How long each process may take to answer /health with 200. */
  healthTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
}

export interface LaunchedProcess {
  name: string;
  kind: 'api' | 'worker';
  /** Base URL, e.g. http://127.0.0.1:40123 (known once the process announced it). */
  url: string;
  port: number;
  pid: number;
}

/** Levels at which the `listening` announcement (info) is printed. */
const VERBOSE_LEVELS = new Set(['info', 'debug', 'trace']);

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Launched {
  apis: LaunchedProcess[];
  workers: LaunchedProcess[];
  /** stdout and stderr of one process (`api-0`, `worker-1`, ...), interleaved as received. */
  logs(name: string): string;
  kill(name: string, signal?: NodeJS.Signals): void;
  /** Resolves when the process has exited (at once if it already has). */
  exited(name: string): Promise<ExitInfo>;
  /** SIGTERM to all, SIGKILL after the deadline, then throws if any pid is still alive. */
  stop(): Promise<void>;
}

const LOG_LIMIT = 4 * 1024 * 1024;

interface Child {
  info: LaunchedProcess;
  proc: ChildProcess;
  output: string;
  exit: ExitInfo | undefined;
  exitPromise: Promise<ExitInfo>;
}

/** Every child of this test process; killed when the process exits however the tests ended. */
const living = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const proc of living) {
      try {
        proc.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tail(text: string, max = 4_000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}

const tsxLoader = pathToFileURL(repoPath('node_modules/tsx/dist/loader.mjs')).href;
const orphanGuard = pathToFileURL(repoPath('packages/testing/src/orphan-guard.mjs')).href;

function resolveEntry(entry: string): string {
  return path.isAbsolute(entry) ? entry : repoPath(entry);
}

function spawnChild(
  kind: 'api' | 'worker',
  index: number,
  entry: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
) {
  const name = `${kind}-${index}`;
  const portVar = kind === 'api' ? 'PORT' : 'WORKER_PORT';
  const logLevel = VERBOSE_LEVELS.has(env.LOG_LEVEL ?? '') ? env.LOG_LEVEL! : 'info';
  const loader = /\.m?js$/.test(entry) ? [] : ['--import', tsxLoader];
  const proc = spawn(process.execPath, [...nodeArgs, ...loader, '--import', orphanGuard, resolveEntry(entry)], {
    cwd: repoPath(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, [portVar]: '0', LOG_LEVEL: logLevel },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  if (proc.pid === undefined) throw new Error(`could not spawn ${name} (${entry})`);
  living.add(proc);
  const child: Child = {
    info: { name, kind, url: '', port: 0, pid: proc.pid },
    proc,
    output: '',
    exit: undefined,
    exitPromise: Promise.resolve({ code: null, signal: null }),
  };
  let pending = '';
  const announce = (line: string) => {
    if (child.info.url || !line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
      if (typeof entry.msg === 'string' && entry.msg.endsWith('listening') && typeof entry.url === 'string') {
        const url = new URL(entry.url);
        if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = '127.0.0.1';
        child.info.url = url.origin;
        child.info.port = Number(url.port);
      }
    } catch {
      // not a log line
    }
  };
  proc.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) announce(line);
  });
  const append = (chunk: Buffer) => {
    child.output += chunk.toString('utf8');
    if (child.output.length > LOG_LIMIT) child.output = child.output.slice(-LOG_LIMIT / 2);
  };
  proc.stdout?.on('data', append);
  proc.stderr?.on('data', append);
  child.exitPromise = new Promise<ExitInfo>((resolve) => {
    proc.once('exit', (code, signal) => {
      living.delete(proc);
      child.exit = { code, signal };
      resolve(child.exit);
    });
  });
  return child;
}

async function waitHealthy(child: Child, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no "listening" announcement yet';
  for (;;) {
    const url = `${child.info.url}/health`;
    if (child.exit) {
      throw new Error(
        `${child.info.name} exited before it was healthy (code ${child.exit.code}, signal ${child.exit.signal})\n` +
          `--- ${child.info.name} output ---\n${tail(child.output)}`,
      );
    }
    if (child.info.url) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
        const body = await res.text();
        if (res.status === 200) return;
        last = `${res.status} ${body.slice(0, 300)}`;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${child.info.name} did not answer 200 on ${child.info.url ? url : '(no URL announced)'} within ${timeoutMs} ms (last: ${last})\n` +
          `--- ${child.info.name} output ---\n${tail(child.output)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

async function stopAll(children: Child[], stopTimeoutMs: number): Promise<void> {
  for (const child of children) if (!child.exit) child.proc.kill('SIGTERM');
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, stopTimeoutMs).unref());
  await Promise.race([Promise.all(children.map((c) => c.exitPromise)), deadline]);
  const stubborn = children.filter((c) => !c.exit);
  for (const child of stubborn) child.proc.kill('SIGKILL');
  await Promise.race([
    Promise.all(stubborn.map((c) => c.exitPromise)),
    new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref()),
  ]);
  const alive = children.filter((c) => isAlive(c.info.pid));
  if (alive.length > 0) {
    throw new Error(
      `processes still alive after stop(): ${alive.map((c) => `${c.info.name} (pid ${c.info.pid})`).join(', ')}`,
    );
  }
  if (stubborn.length > 0) {
    const names = stubborn.map((c) => c.info.name).join(', ');
    throw new Error(
      `${names} ignored SIGTERM for ${stopTimeoutMs} ms and had to be killed\n` +
        stubborn.map((c) => `--- ${c.info.name} output ---\n${tail(c.output)}`).join('\n'),
    );
  }
}

export async function launch(opts: LaunchOptions): Promise<Launched> {
  installExitHook();
  const {
    apis = 1,
    workers = 0,
    env,
    apiEntry = 'packages/api/src/main.ts',
    workerEntry = 'packages/worker/src/main.ts',
    nodeArgs = {},
    healthTimeoutMs = 90_000,
    stopTimeoutMs = 20_000,
  } = opts;

  const children: Child[] = [];
  try {
    for (let i = 0; i < apis; i++) children.push(spawnChild('api', i, apiEntry, env, nodeArgs.api));
    for (let i = 0; i < workers; i++) children.push(spawnChild('worker', i, workerEntry, env, nodeArgs.worker));
    await Promise.all(children.map((c) => waitHealthy(c, healthTimeoutMs)));
  } catch (err) {
    await stopAll(children, 5_000).catch(() => undefined);
    throw err;
  }

  const byName = new Map(children.map((c) => [c.info.name, c]));
  const get = (name: string): Child => {
    const child = byName.get(name);
    if (!child) throw new Error(`no launched process named ${name} (have ${[...byName.keys()].join(', ')})`);
    return child;
  };
  let stopping: Promise<void> | undefined;

  return {
    apis: children.filter((c) => c.info.kind === 'api').map((c) => c.info),
    workers: children.filter((c) => c.info.kind === 'worker').map((c) => c.info),
    logs: (name) => get(name).output,
    kill(name, signal = 'SIGTERM') {
      const child = get(name);
      if (!child.exit) child.proc.kill(signal);
    },
    exited: (name) => get(name).exitPromise,
    stop() {
      stopping ??= stopAll(children, stopTimeoutMs);
      return stopping;
    },
  };
}
