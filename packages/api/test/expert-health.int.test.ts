/**
 * The optional expert music-analysis service (seed 3.1 "Expert Music AI"): with EXPERT_MUSIC_AI_URL set, `/health`
 * reports `services["expert-music-ai"]` from a real `GET <url>/health` round trip to a local server (`{"status":
 * "healthy"}` → true; an error answer or a wrong body → false). Being optional, it never makes the api degraded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createTestDatabase,
  defaultRedisUrl,
  flushPrefix,
  startS3Server,
  uniqueRedisPrefix,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rest, startApi, type TestApi } from './helpers/api';

let database: TestDatabase;
let s3server: S3ServerHandle;
let expert: Server;
let api: TestApi;
let answer: { status: number; body: unknown } = { status: 200, body: { status: 'healthy' } };
const paths: string[] = [];
const prefix = uniqueRedisPrefix('expert-health');

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  expert = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => expert.listen(0, '127.0.0.1', resolve));
  const { port } = expert.address() as AddressInfo;
  api = await startApi({
    database,
    prefix,
    s3: s3server,
    overrides: { WHITELISTED_IPS: '127.0.0.1', EXPERT_MUSIC_AI_URL: `http://127.0.0.1:${port}/expert` },
  });
});

afterAll(async () => {
  await api?.close();
  await new Promise<void>((resolve) => (expert ? expert.close(() => resolve()) : resolve()));
  await s3server?.stop();
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

describe('expert music AI health', () => {
  it('appears in /health, checked for real, and never degrades the api', async () => {
    answer = { status: 200, body: { status: 'healthy' } };
    const up = await rest(api.base, 'GET', '/health');
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({
      status: 'healthy',
      services: { main: true, 'ai-brain': true, voice: true, 'expert-music-ai': true },
    });
    expect(paths.at(-1)).toBe('/expert/health');

    answer = { status: 503, body: { status: 'down' } };
    const down = await rest(api.base, 'GET', '/health');
    expect(down.status).toBe(200);
    expect(down.body).toMatchObject({ status: 'healthy', services: { 'expert-music-ai': false } });

    answer = { status: 200, body: { status: 'starting' } };
    expect((await rest(api.base, 'GET', '/health')).body).toMatchObject({ services: { 'expert-music-ai': false } });
  });
});
