/**
 * Child processes of the dev stack: spawned in their own process group (so stopping one also stops whatever it
 * spawned, e.g. esbuild under Vite), output prefixed line by line with the child's name, stopped with SIGTERM and,
 * after a grace period, SIGKILL of the whole group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';

const COLORS = [36, 35, 33, 32, 34, 91, 96, 95];

export interface PrefixWriter {
  /** Writes `text` (one or more lines) prefixed with `[name]`. */
  line(name: string, text: string): void;
}

export function createPrefixWriter(out: Writable & { isTTY?: boolean }, names: readonly string[]): PrefixWriter {
  const width = Math.max(...names.map((n) => n.length));
  const color = new Map(names.map((n, i) => [n, COLORS[i % COLORS.length] ?? 36]));
  const tty = out.isTTY === true && process.env.NO_COLOR === undefined;
  return {
    line(name, text) {
      const label = `[${name}]`.padEnd(width + 2);
      const prefix = tty ? `\x1b[${color.get(name) ?? 37}m${label}\x1b[0m ` : `${label} `;
      for (const l of text.split('\n')) out.write(`${prefix}${l}\n`);
    },
  };
}

export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves once the process has exited: code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** SIGTERM to the group, SIGKILL to the group after `graceMs`; resolves once the leader has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnServiceOptions {
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  writer: PrefixWriter;
}

export function spawnService(options: SpawnServiceOptions): ServiceProcess {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Own process group: a terminal's Ctrl-C reaches only the orchestrator, which stops children in order.
    detached: true,
  });
  const { pid } = child;
  if (pid === undefined) {
    // spawn failed synchronously (ENOENT surfaces as an 'error' event right after); make it loud.
    throw new Error(`could not start ${options.name} (${options.command})`);
  }
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (l) => options.writer.line(options.name, l));
  }
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      options.writer.line(options.name, `failed to start: ${err.message}`);
      done = true;
      resolve({ code: 127, signal: null });
    });
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    pid,
    child,
    exited,
    hasExited: () => done,
    stop: (graceMs = 10_000) =>
      (stopping ??= (async () => {
        if (!done) signalGroup(pid, 'SIGTERM');
        const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
        // The leader is gone; anything it left in its group goes too.
        signalGroup(pid, 'SIGKILL');
      })()),
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

/** True while a process with this pid exists (and is not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces and parens, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
