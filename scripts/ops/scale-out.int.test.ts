/**
 * `pnpm ops:scale-out` as an operator runs it, on this file's database, Redis prefix and S3 server: 2 api and
 * 2 worker processes start, the smoke test passes through both apis, and every process is stopped at the end.
 */
import {
  createTestDatabase,
  defaultRedisUrl,
  flushPrefix,
  startS3Server,
  testEnv,
  uniqueRedisPrefix,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from './run-script';

let database: TestDatabase;
let s3: S3ServerHandle;
const prefix = uniqueRedisPrefix('scaleout');

beforeAll(async () => {
  [database, s3] = await Promise.all([createTestDatabase(), startS3Server()]);
});

afterAll(async () => {
  await Promise.all([database?.drop(), s3?.stop(), flushPrefix(defaultRedisUrl(), prefix)]);
});

describe('ops:scale-out', () => {
  it('runs the smoke test through 2 apis backed by 2 workers and stops everything', async () => {
    const env = testEnv(
      { databaseUrl: database.url, s3, redisPrefix: prefix },
      { MUSIC_PROVIDER: 'test', WHITELISTED_IPS: '127.0.0.1', SELF_CHECK_INTERVAL_MS: '0' },
    );
    const { code, stdout, stderr } = await runScript('scripts/ops/scale-out.ts', ['--generation-timeout', '150'], env);
    expect(stderr + stdout).toContain('scale-out: passed through 2 apis');
    expect(code).toBe(0);
    for (const name of ['api-0', 'api-1', 'worker-0', 'worker-1'])
      expect(stdout).toMatch(new RegExp(`${name} +pid \\d+`));
    expect(stdout).toMatch(/\[api-0\] smoke: passed/);
    expect(stdout).toMatch(/\[api-1\] smoke: passed/);
    expect(stdout).toContain('scale-out: every process stopped');
    // Every generation the smoke runs started (one per api, plus any the chat step asked for) was run by the workers.
    const done = await database.db.selectFrom('generations').select('status').execute();
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(new Set(done.map((g) => g.status))).toEqual(new Set(['succeeded']));
  });
});
