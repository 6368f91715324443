/**
 * The real process entry (`src/main.ts` under tsx): PORT=0 is honoured and logged, a bad environment is refused
 * by name, and SIGTERM lets an in-flight request finish, tells WebSocket clients to reconnect, then exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { repoPath, startFaultProxy, startS3Server, testEnv, type FaultProxy, type S3ServerHandle } from '@dawg/testing';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const tsxLoader = pathToFileURL(repoPath('node_modules/tsx/dist/loader.mjs')).href;
const entry = repoPath('packages/api/src/main.ts');

interface Started {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

function start(env: Record<string, string>): Started {
  const proc = spawn(process.execPath, ['--import', tsxLoader, entry], {
    cwd: repoPath(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let output = '';
  proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { proc, output: () => output, exited };
}

async function listeningUrl(started: Started, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of started.output().split('\n')) {
      if (!line.includes('listening')) continue;
      try {
        const parsed = JSON.parse(line) as { msg?: string; url?: string };
        if (parsed.msg === 'api listening' && parsed.url) return parsed.url;
      } catch {
        // not a JSON log line
      }
    }
    if (started.proc.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`api did not log its URL:\n${started.output()}`);
}

let proxy: FaultProxy;
let s3: S3ServerHandle;

beforeAll(async () => {
  [proxy, s3] = await Promise.all([startFaultProxy({ host: '127.0.0.1', port: 6379 }), startS3Server()]);
});

afterEach(() => {
  for (const proc of children) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  proxy.setDelay(0);
});

afterAll(async () => {
  await Promise.all([proxy?.close(), s3?.stop()]);
});

it('refuses to start with a bad environment, naming the variable', async () => {
  const started = start(testEnv({ s3 }, { PORT: 'not-a-port', REDIS_URL: 'http://wrong' }));
  expect(await started.exited).toEqual({ code: 1, signal: null });
  expect(started.output()).toContain('PORT');
  expect(started.output()).toContain('REDIS_URL');
});

it('finishes an in-flight request on SIGTERM, tells WebSocket clients to reconnect, and exits 0', async () => {
  const started = start(
    testEnv({ s3, redisUrl: proxy.url('redis://127.0.0.1:6379') }, { PORT: '0', LOG_LEVEL: 'info' }),
  );
  const url = await listeningUrl(started);
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(url).not.toMatch(/:0$/);
  expect((await fetch(`${url}/health`)).status).toBe(200);

  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/trpc`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const messages: string[] = [];
  ws.on('message', (data) => messages.push(data.toString()));
  const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));

  // Every Redis round trip now takes ~2 x 300 ms: /health becomes a slow (but successful) request.
  proxy.setDelay(300);
  const requestStarted = Date.now();
  const inFlight = fetch(`${url}/health`);
  await sleep(150);
  started.proc.kill('SIGTERM');

  const res = await inFlight;
  expect(res.status).toBe(200);
  expect(((await res.json()) as { status: string }).status).toBe('healthy');
  expect(Date.now() - requestStarted).toBeGreaterThanOrEqual(400);

  expect(await wsClosed).toBe(1001);
  expect(messages.map((m) => JSON.parse(m) as unknown)).toContainEqual({ id: null, method: 'reconnect' });
  expect(await started.exited).toEqual({ code: 0, signal: null });
  expect(started.output()).toContain('shutdown complete');
  // Nothing listens any more.
  await expect(fetch(`${url}/health`)).rejects.toThrow();
});
