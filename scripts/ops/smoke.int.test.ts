/**
 * The smoke script as an operator runs it (its own process, `--base-url`) against a real stack this test starts:
 * one api and one worker process on this file's database, Redis prefix and S3 server. It passes while the stack is
 * whole; with the worker stopped it exits 1 naming the step that failed (the generation never completes).
 */
import {
  createTestDatabase,
  launch,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  flushPrefix,
  defaultRedisUrl,
  type Launched,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from './run-script';
import { SMOKE_STEPS } from './smoke';

let database: TestDatabase;
let s3: S3ServerHandle;
let stack: Launched | undefined;
const prefix = uniqueRedisPrefix('smoke');

beforeAll(async () => {
  [database, s3] = await Promise.all([createTestDatabase(), startS3Server()]);
  stack = await launch({
    apis: 1,
    workers: 1,
    env: testEnv(
      { databaseUrl: database.url, s3, redisPrefix: prefix },
      { MUSIC_PROVIDER: 'test', WHITELISTED_IPS: '127.0.0.1', SELF_CHECK_INTERVAL_MS: '0' },
    ),
  });
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([database?.drop(), s3?.stop(), flushPrefix(defaultRedisUrl(), prefix)]);
});

describe('scripts/ops/smoke.ts', () => {
  it('--help prints the usage and exits 0', async () => {
    const { code, stdout } = await runScript('scripts/ops/smoke.ts', ['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: pnpm ops:smoke');
    expect(stdout).toContain('--base-url');
  });

  it('passes every step against a whole stack', async () => {
    const api = stack!.apis[0]!;
    const { code, stdout, stderr } = await runScript('scripts/ops/smoke.ts', [
      '--base-url',
      api.url,
      '--generation-timeout',
      '150',
      '--json',
    ]);
    expect(stderr + stdout, 'smoke output').toContain('smoke: passed');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.slice(stdout.indexOf('{\n'))) as {
      steps: { step: string; outcome: string }[];
    };
    const outcomes = Object.fromEntries(result.steps.map((s) => [s.step, s.outcome]));
    expect(outcomes, stdout).toEqual(Object.fromEntries(SMOKE_STEPS.map((s) => [s, 'passed'])));

    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(Buffer.byteLength(metrics), '/metrics after the smoke run').toBeLessThan(100 * 1024);
    // The worker timed the music provider's call (provider latency and errors, by provider and outcome).
    const workerMetrics = await (await fetch(`${stack!.workers[0]!.url}/metrics`)).text();
    expect(workerMetrics).toMatch(
      /provider_request_duration_seconds_count\{[^}]*provider="test",operation="generate",outcome="ok"[^}]*\} [1-9]/,
    );
    expect(Buffer.byteLength(workerMetrics), 'worker /metrics').toBeLessThan(100 * 1024);
  });

  it('exits 1 naming the failed step when the worker is down', async () => {
    stack!.kill('worker-0', 'SIGTERM');
    await stack!.exited('worker-0');
    const { code, stdout } = await runScript('scripts/ops/smoke.ts', [
      '--base-url',
      stack!.apis[0]!.url,
      '--generation-timeout',
      '4',
    ]);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^smoke: FAILED at step "generation-status": generation still queued .*worker/);
    expect(stdout).toMatch(/ok {3}generate/);
  });

  it('exits 1 at the first step when nothing answers', async () => {
    const { code, stdout } = await runScript('scripts/ops/smoke.ts', ['--base-url', 'http://127.0.0.1:9']);
    expect(code).toBe(1);
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^smoke: FAILED at step "health"/);
  });
});
