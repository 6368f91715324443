import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../src/database';
import { testEnv } from '../src/env';
import { launch, type Launched } from '../src/launcher';
import { defaultRedisUrl, flushPrefix, uniqueRedisPrefix } from '../src/redis';
import { startS3Server, type S3ServerHandle } from '../src/s3';

let tdb: TestDatabase;
let s3: S3ServerHandle;
const prefix = uniqueRedisPrefix('launcher');
let stack: Launched | undefined;

beforeAll(async () => {
  [tdb, s3] = await Promise.all([createTestDatabase(), startS3Server()]);
});

afterAll(async () => {
  await stack?.stop().catch(() => undefined);
  await s3.stop();
  await flushPrefix(defaultRedisUrl(), prefix);
  await tdb.drop();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('launch', () => {
  it('starts 2 api and 2 worker processes, all healthy; stop() leaves none alive', { timeout: 180_000 }, async () => {
    stack = await launch({
      apis: 2,
      workers: 2,
      env: testEnv({ databaseUrl: tdb.url, s3, redisPrefix: prefix }),
    });
    const all = [...stack.apis, ...stack.workers];
    expect(all.map((p) => p.name)).toEqual(['api-0', 'api-1', 'worker-0', 'worker-1']);
    expect(new Set(all.map((p) => p.pid)).size).toBe(4);
    expect(new Set(all.map((p) => p.port)).size).toBe(4);

    for (const api of stack.apis) {
      const res = await fetch(`${api.url}/health`);
      expect(res.status, stack.logs(api.name)).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'healthy' });
    }
    for (const worker of stack.workers) {
      const res = await fetch(`${worker.url}/health`);
      expect(res.status, stack.logs(worker.name)).toBe(200);
      expect(await res.json()).toMatchObject({ service: 'worker', connections: { redis: true, database: true } });
    }
    expect(all.every((p) => alive(p.pid))).toBe(true);

    await stack.stop();
    for (const p of all) expect(alive(p.pid), `${p.name} pid ${p.pid}`).toBe(false);
    for (const p of all) expect((await stack.exited(p.name)).code, stack.logs(p.name)).toBe(0);
  });

  it('fails with the process output when a process cannot start', { timeout: 60_000 }, async () => {
    const started = Date.now();
    await expect(
      launch({ apis: 0, workers: 1, env: testEnv({ databaseUrl: 'not a url', redisPrefix: prefix }) }),
    ).rejects.toThrow(/worker-0 exited before it was healthy \(code 1[\s\S]*DATABASE_URL/);
    // Failing fast on exit, not waiting for the health timeout.
    expect(Date.now() - started).toBeLessThan(45_000);
  });
});
