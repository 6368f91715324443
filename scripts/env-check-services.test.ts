/**
 * `pnpm env:check`'s service check (seed 3.1): the optional expert music-analysis service configured by
 * EXPERT_MUSIC_AI_URL is asked for real (a local server) and must answer `{"status": "healthy"}`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkServices } from './env-check';

let server: Server;
let base = '';
let answer: { status: number; body: unknown } = { status: 200, body: { status: 'healthy' } };

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url !== '/health') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('checkServices', () => {
  it('checks nothing when no optional service is configured', async () => {
    expect(await checkServices({})).toEqual({ ok: true, lines: [] });
  });

  it('passes a healthy expert service and fails an unhealthy or unreachable one', async () => {
    answer = { status: 200, body: { status: 'healthy' } };
    expect(await checkServices({ EXPERT_MUSIC_AI_URL: base })).toEqual({
      ok: true,
      lines: ['✅ Expert Music AI: healthy'],
    });
    answer = { status: 503, body: { status: 'down' } };
    expect(await checkServices({ EXPERT_MUSIC_AI_URL: base })).toEqual({
      ok: false,
      lines: ['❌ Expert Music AI: unhealthy (HTTP 503)'],
    });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = await checkServices({ EXPERT_MUSIC_AI_URL: `http://127.0.0.1:${port}` });
    expect(unreachable.ok).toBe(false);
    expect(unreachable.lines[0]).toMatch(/^❌ Expert Music AI: unreachable/);
  });
});
