/**
 * The dev stack driven as a module: a child that dies takes everything down with a message naming it, and the
 * stack's exit code says it failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDevArgs } from './config';
import { isAlive } from './processes';
import { startDevStack, type DevStack } from './stack';

const repoRoot = join(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'dawg-dev-stack-'));
let stack: DevStack | undefined;

afterAll(async () => {
  await stack?.stop('test cleanup');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('dev stack', () => {
  it('goes down as a whole, exit 1, when a child dies', { timeout: 180_000 }, async () => {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const key of Object.keys(env)) {
      if (/^(DATABASE_URL|REDIS_URL|S3_ENDPOINT|NODE_ENV|VITEST.*|AWS_.*)$/.test(key)) delete env[key];
    }
    Object.assign(env, { DAWG_DATA_DIR: dataDir, PORT: '0', WORKER_PORT: '0', LOG_LEVEL: 'warn' });
    let text = '';
    const out = new PassThrough();
    out.on('data', (d: Buffer) => (text += d.toString()));

    stack = await startDevStack({ args: parseDevArgs(['--no-web']), env, repoRoot, out });
    const health = (await (await fetch(`${stack.urls.api}/health`)).json()) as { connections: Record<string, boolean> };
    expect(health.connections).toEqual({ database: true, redis: true, s3: true });
    expect(stack.env.DATABASE_URL).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);

    const processes = stack.processes();
    const worker = processes.find((p) => p.name === 'worker');
    if (!worker) throw new Error(`no worker in ${JSON.stringify(processes)}`);
    process.kill(worker.pid, 'SIGKILL');

    expect(await stack.done).toBe(1);
    expect(text).toMatch(/worker was killed by SIGKILL; stopping the whole stack/);
    expect(text).toMatch(/stopped after a failure, exit 1/);
    expect(processes.filter((p) => isAlive(p.pid)).map((p) => p.name)).toEqual([]);
    // The embedded Postgres is closed too: nothing answers on its port.
    const port = Number(new URL(stack.env.DATABASE_URL ?? '').port);
    const { connect } = await import('node:net');
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
