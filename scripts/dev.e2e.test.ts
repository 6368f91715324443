/**
 * `pnpm dev` on a machine with nothing configured: DATABASE_URL, REDIS_URL and S3_ENDPOINT unset, so it must embed
 * PGlite, start redis-server and s3rver itself. The test starts it as a terminal would (own process group), waits
 * for /health with every connection up, opens the app in Chromium, presses Ctrl-C (SIGINT to the group) and checks
 * that every process the stack started is gone and the command exited 0. On the way it takes one generation through the
 * embedded stack (PGlite, redis-server, s3rver, the local synth) to `completed`, with the seed's curl calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launchBrowser, waitFor } from '@dawg/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { pidFilePath, type PidFile } from './dev/pid-file';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** pid → parent pid of every process on the machine (from /proc). */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parens, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      table.set(Number(entry), ppid);
    } catch {
      // exited while we looked
    }
  }
  return table;
}

function descendants(root: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift() as number;
    for (const [pid, ppid] of table) {
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** Running (zombies count as gone: they are only waiting for their parent to read the exit status). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

const dataDir = mkdtempSync(join(tmpdir(), 'dawg-dev-e2e-'));
let child: ChildProcess | undefined;
let output = '';

afterAll(() => {
  // Only if the test failed half-way: nothing of ours may outlive the run.
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    for (const pid of descendants(child.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('pnpm dev', () => {
  it('starts the embedded stack, serves the app, and stops everything on Ctrl-C', { timeout: 300_000 }, async () => {
    const apiPort = await freePort();
    const webPort = await freePort();
    const workerPort = await freePort();
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value === undefined || /^(DATABASE_URL|REDIS_URL|S3_ENDPOINT|NODE_ENV|VITEST.*|AWS_.*)$/.test(key)) continue;
      env[key] = value;
    }
    Object.assign(env, {
      DAWG_DATA_DIR: dataDir,
      PORT: String(apiPort),
      WEB_PORT: String(webPort),
      WORKER_PORT: String(workerPort),
      LOG_LEVEL: 'warn',
    });

    const started = spawn('pnpm', ['dev'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    started.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      started.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const pnpmPid = started.pid as number;

    // Start-up must not outlast the command: if pnpm dev exits early, fail at once with its output.
    const died = exited.then((r) => {
      throw new Error(`pnpm dev exited (${r.code ?? r.signal}) during start-up:\n${output.slice(-4000)}`);
    });
    died.catch(() => undefined);
    const whileRunning = <T>(promise: Promise<T>) => Promise.race([promise, died]);

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const health = await whileRunning(
      waitFor(
        async () => {
          const res = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(3_000) });
          if (res.status !== 200) return false;
          return (await res.json()) as { status: string; connections: Record<string, boolean> };
        },
        { timeoutMs: 200_000, intervalMs: 500, description: "pnpm dev's api /health" },
      ),
    ).catch((err: unknown) => {
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}\n--- pnpm dev output ---\n${output.slice(-4000)}`,
      );
    });
    expect(health.connections).toEqual({ database: true, redis: true, s3: true });

    // The orchestrator prints the banner once api, worker and web answered.
    await whileRunning(
      waitFor(() => output.includes('DAWG AI is running'), { timeoutMs: 120_000, description: 'the banner' }),
    );
    expect(output).toContain('embedded PGlite');
    expect(output).toMatch(/\[seed\]\s+demo demo@dawg-ai\.com: (created|exists)/);
    expect(output).toContain('demo@dawg-ai.com / demo-password');

    // The processes to account for: what the pid file lists and everything below `pnpm dev` right now.
    const pidFile = JSON.parse(readFileSync(pidFilePath(dataDir), 'utf8')) as PidFile;
    expect(pidFile.processes.map((p) => p.name).sort()).toEqual(['api', 'redis', 'seed', 'web', 'worker']);
    const tree = descendants(pnpmPid);
    const pids = [...new Set([pnpmPid, pidFile.pid, ...pidFile.processes.map((p) => p.pid), ...tree])];
    for (const p of pidFile.processes.filter((p) => p.name !== 'seed')) expect(isRunning(p.pid), p.name).toBe(true);
    // The embedded Postgres is not on 5432: its URL names a free port.
    expect(output).toMatch(/postgres:\/\/postgres@127\.0\.0\.1:(?!5432\b)\d+\/postgres/);

    // The web dev server proxies the api (VITE_API_PROXY_TARGET) and renders the app.
    const proxied = await fetch(`http://127.0.0.1:${webPort}/health`);
    expect(proxied.status).toBe(200);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`http://127.0.0.1:${webPort}/`, { waitUntil: 'load' });
      await page.waitForSelector('#root > *', { timeout: 60_000 });
      expect(await page.title()).toMatch(/DAWG AI$/);
      expect((await page.locator('#root').innerText()).trim().length).toBeGreaterThan(0);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }

    // The seed's post-deploy 1.2 flow on the embedded stack: register, generate, poll the status until completed,
    // then fetch the presigned audio URL it answers.
    const email = `dev-e2e-${Date.now()}@example.com`;
    const registered = await fetch(`${apiUrl}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'a fine long passphrase 42', name: 'Dev E2E' }),
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const { token } = (await registered.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await fetch(`${apiUrl}/api/generate`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ prompt: 'upbeat electronic dance music', duration: 8, genre: 'electronic' }),
    });
    expect(created.status, await created.clone().text()).toBe(202);
    const job = (await created.json()) as { jobId: string; status: string; estimatedTime: number };
    expect(job.status).toBe('queued');
    const done = await whileRunning(
      waitFor(
        async () => {
          const res = await fetch(`${apiUrl}/api/generate/${job.jobId}/status`, { headers: auth });
          const body = (await res.json()) as { status: string; audioUrl?: string | null; error?: string };
          if (body.status === 'failed') throw new Error(`generation failed: ${body.error ?? 'no reason'}`);
          return body.status === 'completed' ? body : false;
        },
        { timeoutMs: 120_000, intervalMs: 500, description: 'the generation to complete' },
      ),
    );
    expect(done.audioUrl).toMatch(/^http/);
    const audio = await fetch(done.audioUrl as string);
    expect(audio.status).toBe(200);
    expect((await audio.arrayBuffer()).byteLength).toBeGreaterThan(10_000);

    // Ctrl-C in a terminal signals the whole foreground process group.
    process.kill(-pnpmPid, 'SIGINT');
    const result = await Promise.race([
      exited,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000)),
    ]);
    // The orchestrator exits 0. pnpm, which got the terminal's SIGINT too, follows the shell convention of dying by
    // that signal once its script has exited; either way it must not report a failure code.
    expect(
      result === 'timeout' ? 'timeout' : result.code === 0 || result.signal === 'SIGINT',
      output.slice(-3000),
    ).toBe(true);
    // Output may still be in flight from the orchestrator (it can outlive pnpm by a moment).
    await waitFor(() => /\[dev\]\s+stopped, exit 0/.test(output), {
      timeoutMs: 30_000,
      description: `the orchestrator's "stopped, exit 0" (output:\n${output.slice(-2000)})`,
    });

    await waitFor(() => pids.every((pid) => !isRunning(pid)), {
      timeoutMs: 15_000,
      description: 'every process of the stack to exit',
    }).catch(() => {
      const alive = pids
        .filter(isRunning)
        .map((pid) => `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`);
      throw new Error(`still running after Ctrl-C:\n${alive.join('\n')}`);
    });
    expect(existsSync(pidFilePath(dataDir))).toBe(false);
    // Nothing listens on the stack's ports any more.
    for (const port of [apiPort, webPort, workerPort]) {
      await expect(fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    }
  });
});
