/**
 * `pnpm ops:load-http` with its defaults (10,000 requests at 100 connections per target, seed 7.2) against a real
 * api process: every request of both targets (/health and the authenticated tRPC project.list) is answered 2xx and
 * the report carries avg / p95 / failed. Whether the latencies meet the script's thresholds is the script's verdict
 * (exit 0 or 1), not this test's: timings on a shared CI machine are not assertions.
 */
import {
  createTestDatabase,
  defaultRedisUrl,
  flushPrefix,
  launch,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  type Launched,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TargetReport } from './load-http';
import { runScript } from './run-script';

let database: TestDatabase;
let s3: S3ServerHandle;
let stack: Launched | undefined;
const prefix = uniqueRedisPrefix('load');

beforeAll(async () => {
  [database, s3] = await Promise.all([createTestDatabase(), startS3Server()]);
  stack = await launch({
    apis: 1,
    env: testEnv(
      { databaseUrl: database.url, s3, redisPrefix: prefix },
      { WHITELISTED_IPS: '127.0.0.1', SELF_CHECK_INTERVAL_MS: '0', LOG_LEVEL: 'warn' },
    ),
  });
});

afterAll(async () => {
  await stack?.stop();
  await Promise.all([database?.drop(), s3?.stop(), flushPrefix(defaultRedisUrl(), prefix)]);
});

describe('ops:load-http', () => {
  it('sends 10,000 requests at 100 connections to each target and reports avg, p95 and failed', async () => {
    const { code, stdout, stderr } = await runScript('scripts/ops/load-http.ts', [
      '--base-url',
      stack!.apis[0]!.url,
      '--json',
    ]);
    expect(stderr).toBe('');
    const reports = JSON.parse(stdout.slice(stdout.indexOf('[\n'), stdout.lastIndexOf(']') + 1)) as TargetReport[];
    expect(reports.map((r) => [r.target, r.path])).toEqual([
      ['health', '/health'],
      ['list', '/trpc/project.list'],
    ]);
    for (const r of reports) {
      expect(r.requests, r.target).toBe(10_000);
      expect(r.failed, r.target).toBe(0);
      expect(r.rateLimited, r.target).toBe(0);
      expect(r.avgMs).toBeGreaterThan(0);
      expect(r.p95Ms).toBeGreaterThan(0);
      expect(stdout).toMatch(
        new RegExp(`${r.target} +${r.path.replace(/[./]/g, '\\$&')} +requests=10000 avg=[\\d.]+ms p95=[\\d.]+ms`),
      );
    }
    const verdict = reports.every((r) => r.withinThresholds);
    expect(code).toBe(verdict ? 0 : 1);
    expect(stdout).toContain(verdict ? 'load: within thresholds' : 'load: above thresholds');
  });
});
