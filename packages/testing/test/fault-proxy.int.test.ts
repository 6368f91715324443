import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../src/fault-proxy';
import { waitFor } from '../src/ports';

/** Echoes every byte back. */
let echo: Server;
let echoPort: number;
const echoSockets = new Set<Socket>();
let proxy: FaultProxy;
const clients = new Set<Socket>();

beforeAll(async () => {
  echo = createServer((socket) => {
    echoSockets.add(socket);
    socket.on('close', () => echoSockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const s of echoSockets) s.destroy();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

afterEach(async () => {
  for (const c of clients) c.destroy();
  clients.clear();
  await proxy.close();
});

interface Conn {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
  events: string[];
}

async function open(port: number): Promise<Conn> {
  const socket = connect({ host: '127.0.0.1', port });
  clients.add(socket);
  let data = '';
  const events: string[] = [];
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString();
    events.push(`data:${chunk.toString()}`);
  });
  socket.on('error', (err) => events.push(`error:${(err as NodeJS.ErrnoException).code ?? err.message}`));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed, events };
}

async function roundtrip(conn: Conn, text: string): Promise<void> {
  const before = conn.received().length;
  conn.socket.write(text);
  await waitFor(() => conn.received().length >= before + text.length, { description: `echo of "${text}"` });
  expect(conn.received().slice(before)).toBe(text);
}

describe('fault proxy', () => {
  it('relays both ways and counts connections', async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: echoPort });
    expect(proxy.connections()).toBe(0);
    const a = await open(proxy.port);
    const b = await open(proxy.port);
    await roundtrip(a, 'hello');
    await roundtrip(b, 'world');
    expect(proxy.connections()).toBe(2);
    a.socket.end();
    await a.closed;
    await waitFor(() => proxy.connections() === 1, { description: 'one connection left' });
  });

  it('cut() severs current connections and refuses new ones; restore() heals', async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: echoPort });
    const conn = await open(proxy.port);
    await roundtrip(conn, 'before');

    proxy.cut();
    await conn.closed;
    expect(conn.socket.destroyed).toBe(true);
    expect(proxy.connections()).toBe(0);
    await waitFor(() => echoSockets.size === 0, { description: 'upstream side closed too' });

    // A new connection is accepted by the kernel, then reset before any byte is relayed.
    const refused = connect({ host: '127.0.0.1', port: proxy.port });
    clients.add(refused);
    let refusedData = '';
    refused.on('data', (c: Buffer) => (refusedData += c.toString()));
    refused.on('error', () => undefined);
    refused.write('lost');
    await new Promise<void>((resolve) => refused.once('close', () => resolve()));
    expect(refusedData).toBe('');
    expect(proxy.connections()).toBe(0);

    proxy.restore();
    const after = await open(proxy.port);
    await roundtrip(after, 'after');
    expect(proxy.connections()).toBe(1);
  });

  it("cut('blackhole') holds new connections silently until restore()", async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: echoPort });
    proxy.cut('blackhole');
    const conn = await open(proxy.port);
    const order: string[] = [];
    conn.socket.on('data', () => order.push('echo'));
    conn.socket.write('held');
    // Give the proxy ample chances to (wrongly) relay before healing; the assertion is on order, not on time.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(proxy.connections()).toBe(0);
    order.push('restore');
    proxy.restore();
    await waitFor(() => conn.received() === 'held', { description: 'held bytes relayed after restore' });
    expect(order).toEqual(['restore', 'echo']);
    expect(proxy.connections()).toBe(1);
  });

  it('setDelay() adds latency per chunk and keeps the order', async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: echoPort });
    const slow = await open(proxy.port);
    const direct = await open(echoPort);
    await roundtrip(slow, 'warm');

    proxy.setDelay(400);
    const order: string[] = [];
    slow.socket.on('data', (c: Buffer) => order.push(`proxied:${c.toString()}`));
    direct.socket.on('data', (c: Buffer) => order.push(`direct:${c.toString()}`));
    slow.socket.write('a');
    await new Promise((resolve) => setTimeout(resolve, 20));
    slow.socket.write('b');
    direct.socket.write('x');
    await waitFor(() => slow.received().length >= 'warmab'.length, { description: 'delayed echoes' });
    expect(slow.received()).toBe('warmab');
    // The direct echo (sent after both proxied writes) overtakes the delayed ones.
    expect(order[0]).toBe('direct:x');
    expect(order.slice(1).every((e) => e.startsWith('proxied:'))).toBe(true);
    expect(
      order
        .slice(1)
        .map((e) => e.slice('proxied:'.length))
        .join(''),
    ).toBe('ab');

    proxy.setDelay(0);
    await roundtrip(slow, 'fast');
    expect(() => proxy.setDelay(-1)).toThrow();
  });

  it('url() points any URL at the proxy', async () => {
    proxy = await startFaultProxy({ host: '127.0.0.1', port: 5432 });
    expect(proxy.url('postgres://postgres:pw@127.0.0.1:5432/db?sslmode=disable')).toBe(
      `postgres://postgres:pw@127.0.0.1:${proxy.port}/db?sslmode=disable`,
    );
    expect(proxy.url('redis://localhost:6379/1')).toBe(`redis://127.0.0.1:${proxy.port}/1`);
    expect(proxy.url('http://127.0.0.1:3000/health')).toBe(`http://127.0.0.1:${proxy.port}/health`);
  });
});
