/**
 * WebSocket backpressure and frame size (issue 14, fault suite): a client that stops reading while its subscription
 * is flooded is dropped once its unsent bytes pass the cap (close 1013, counted in
 * `websocket_slow_clients_dropped_total`), while a second client on the same subscription keeps receiving every event
 * in order; a frame above `maxPayload` closes the socket with 1009 on every path.
 *
 * The flood is the real transport of `project.live`: presence events PUBLISHed on the project's Redis channel, in
 * batches of ~1 MB, each batch received in full by the reading client before the next (so Redis never has to buffer
 * more than a batch for the api). The paused client is a raw socket paused under the tRPC client (`_socket.pause()`):
 * the kernel buffers on both ends fill first, then the api's queue grows until the cap.
 */
import { projectEventsChannel, type ProjectEvent } from '@dawg/shared';
import { createTestDatabase, createUser, uniqueRedisPrefix, waitFor, type TestDatabase } from '@dawg/testing';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { Redis } from 'ioredis';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { AppRouter } from '../src/index';
import { WS_MAX_BUFFERED_BYTES, WS_MAX_PAYLOAD_BYTES, WS_SLOW_CLIENT_CLOSE_CODE } from '../src/ws/upgrade';
import { startApi, type TestApi } from './helpers/api';
import { httpClient } from './helpers/generation';

/** ~4 KB per event, 256 events (~1 MB) per batch; the drop must come well before FLOOD_LIMIT_BYTES. */
const NAME = 'n'.repeat(4_000);
const BATCH = 256;
const FLOOD_LIMIT_BYTES = 96 * 1024 * 1024;

let database: TestDatabase;
let api: TestApi;
let publisher: Redis;
const prefix = uniqueRedisPrefix('ws-backpressure');

beforeAll(async () => {
  database = await createTestDatabase();
  api = await startApi({ database, prefix, overrides: { WHITELISTED_IPS: '127.0.0.1' } });
  publisher = new Redis(api.env.REDIS_URL, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  publisher?.disconnect();
  await api?.close();
  await database?.drop();
});

/** A tRPC WebSocket client that keeps its raw sockets (to pause one) and every close code it saw. */
function recordingClient(token: string) {
  const sockets: WebSocket[] = [];
  const closes: { code: number; reason: string }[] = [];
  class Recording extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      sockets.push(this);
      this.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    }
  }
  const socket = createWSClient({
    url: `${api.wsBase}/trpc`,
    WebSocket: Recording as unknown as typeof globalThis.WebSocket,
    connectionParams: { token },
    retryDelayMs: () => 100,
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
  return { client, sockets, closes, close: () => socket.close() };
}

function live(client: ReturnType<typeof recordingClient>['client'], projectId: string) {
  const events: ProjectEvent[] = [];
  const errors: unknown[] = [];
  const sub = client.project.live.subscribe(
    { projectId },
    { onData: (e) => void events.push(e as ProjectEvent), onError: (err) => void errors.push(err) },
  );
  return { events, errors, unsubscribe: () => sub.unsubscribe() };
}

/** The flood's events carry their sequence number in `at`; the initial presence snapshot has no users. */
const sequence = (events: ProjectEvent[]) =>
  events.flatMap((e) => (e.type === 'presence' && e.users.length === 1 ? [e.users[0]!.at] : []));

async function droppedSlowClients(): Promise<number> {
  const metric = await api.server.metrics.websocketSlowClientsDroppedTotal.get();
  return metric.values.find((v) => v.labels.path === '/trpc')?.value ?? 0;
}

describe('WebSocket backpressure', () => {
  it('drops a client that stops reading; another client on the same subscription gets every event', async () => {
    const { user, token } = await createUser(database.db);
    const { project } = await httpClient(api.base, token).project.create.mutate({ name: 'Flooded' });
    const slow = recordingClient(token);
    const fast = recordingClient(token);
    const slowLive = live(slow.client, project.id);
    const fastLive = live(fast.client, project.id);
    await waitFor(() => slowLive.events.length > 0 && fastLive.events.length > 0, {
      description: 'both subscriptions started',
    });
    const paused = slow.sockets[0]!;
    (paused as unknown as { _socket: Socket })._socket.pause();

    const droppedBefore = await droppedSlowClients();
    const channel = projectEventsChannel(prefix, project.id);
    let published = 0;
    let bytes = 0;
    while ((await droppedSlowClients()) === droppedBefore) {
      if (bytes > FLOOD_LIMIT_BYTES) throw new Error(`no client dropped after ${bytes} bytes published`);
      const pipeline = publisher.pipeline();
      for (let i = 0; i < BATCH; i++, published++) {
        const event: ProjectEvent = {
          type: 'presence',
          projectId: project.id,
          users: [{ userId: user.id, name: NAME, playheadSec: 0, at: published }],
        };
        const message = JSON.stringify(event);
        bytes += message.length;
        pipeline.publish(channel, message);
      }
      await pipeline.exec();
      const expected = published;
      await waitFor(() => sequence(fastLive.events).length >= expected, {
        timeoutMs: 30_000,
        description: `the reading client received ${expected} flood events`,
      });
    }

    // Dropped past the cap, not before: the kernel buffers fill first, then WS_MAX_BUFFERED_BYTES queue up.
    expect(bytes).toBeGreaterThan(WS_MAX_BUFFERED_BYTES);
    // Reading again, the slow client gets its backlog and then the close frame saying why.
    (paused as unknown as { _socket: Socket })._socket.resume();
    await waitFor(() => slow.closes.length > 0, { description: 'the slow client saw its socket close' });
    expect(slow.closes[0]).toEqual({ code: WS_SLOW_CLIENT_CLOSE_CODE, reason: expect.stringMatching(/too slow/) });

    // The reading client: every event, in order, once; its socket never closed.
    const seq = sequence(fastLive.events);
    expect(seq).toEqual(Array.from({ length: published }, (_, i) => i));
    expect(fast.closes).toEqual([]);
    expect(fastLive.errors).toEqual([]);
    expect(await droppedSlowClients()).toBe(droppedBefore + 1);
    console.log(
      `ws backpressure: ${published} events (${(bytes / 1024 / 1024).toFixed(1)} MB) published before the drop`,
    );

    slowLive.unsubscribe();
    fastLive.unsubscribe();
    await slow.close();
    await fast.close();
  });
});

describe('WebSocket maxPayload', () => {
  /** A socket on `path` as a signed-in user (so /ai-brain and /voice keep it open), with every close code it sees. */
  async function open(path: string) {
    const { token } = await createUser(database.db);
    const ws = new WebSocket(`${api.wsBase}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const codes: number[] = [];
    const closed = new Promise<number>((resolve) =>
      ws.once('close', (code) => {
        codes.push(code);
        resolve(code);
      }),
    );
    ws.on('error', () => undefined);
    return { ws, codes, closed };
  }

  for (const path of ['/trpc', '/', '/ai-brain', '/voice']) {
    it(`closes ${path} with 1009 on a frame above ${WS_MAX_PAYLOAD_BYTES} bytes`, async () => {
      const { ws, closed } = await open(path);
      ws.send(Buffer.alloc(WS_MAX_PAYLOAD_BYTES + 1, 0x61));
      expect(await closed).toBe(1009);
    });

    it(`reads a frame of exactly ${WS_MAX_PAYLOAD_BYTES} bytes on ${path}`, async () => {
      const { ws, codes, closed } = await open(path);
      ws.send(Buffer.alloc(WS_MAX_PAYLOAD_BYTES, 0x61));
      // A ping after the big frame: its pong proves the server read past it (the handler may still refuse the
      // content and close, but never for its size).
      const pong = new Promise<void>((resolve) => ws.once('pong', () => resolve()));
      ws.ping();
      await Promise.race([pong, closed]);
      expect(codes).not.toContain(1009);
      ws.close();
    });
  }
});
