/**
 * `/health` tells the truth about Redis and heals in the same process: Redis is reached through a fault proxy,
 * cut (every connection reset, new ones refused) and restored while one api instance keeps running.
 */
import { apiEnvSchema, parseEnv } from '@dawg/shared';
import { startFaultProxy, startS3Server, testEnv, type FaultProxy, type S3ServerHandle } from '@dawg/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildServer, type ApiServer } from '../src/server';

let proxy: FaultProxy;
let s3: S3ServerHandle;
let server: ApiServer;
let base: string;

beforeAll(async () => {
  [proxy, s3] = await Promise.all([startFaultProxy({ host: '127.0.0.1', port: 6379 }), startS3Server()]);
  const env = parseEnv(apiEnvSchema, testEnv({ s3, redisUrl: proxy.url('redis://127.0.0.1:6379') }));
  server = await buildServer({ env, logger: false });
  base = await server.listen();
});

afterAll(async () => {
  await server?.close();
  await Promise.all([proxy?.close(), s3?.stop()]);
});

async function health(): Promise<{ status: number; body: { status: string; connections: Record<string, boolean> } }> {
  const res = await fetch(`${base}/health`);
  return { status: res.status, body: (await res.json()) as { status: string; connections: Record<string, boolean> } };
}

it('reports degraded with 503 while Redis is cut and recovers after restore', async () => {
  expect(await health()).toMatchObject({ status: 200, body: { status: 'healthy' } });

  proxy.cut();
  const started = Date.now();
  const cut = await health();
  expect(Date.now() - started).toBeLessThan(2_500);
  expect(cut.status).toBe(503);
  expect(cut.body.status).toBe('degraded');
  expect(cut.body.connections).toEqual({ database: true, redis: false, s3: true });

  proxy.restore();
  await expect.poll(async () => (await health()).status, { timeout: 10_000, interval: 250 }).toBe(200);
  expect((await health()).body).toMatchObject({ status: 'healthy', connections: { redis: true } });
});

it('reports degraded within the probe timeout when Redis black-holes', async () => {
  proxy.cut('blackhole');
  const started = Date.now();
  const res = await health();
  expect(res.status).toBe(503);
  expect(res.body.connections.redis).toBe(false);
  expect(Date.now() - started).toBeLessThan(2_500);
  proxy.restore();
  await expect.poll(async () => (await health()).status, { timeout: 10_000, interval: 250 }).toBe(200);
});
