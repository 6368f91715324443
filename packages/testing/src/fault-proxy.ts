/**
 * A TCP proxy that stands between a client and a real server (Postgres, Redis, S3, an api instance) so a test can
 * break the network on purpose: sever every connection, refuse or black-hole new ones, add latency, then heal.
 */
import { createServer, connect, type Socket } from 'node:net';

export type CutMode = 'reset' | 'blackhole';

export interface FaultProxy {
  host: string;
  port: number;
  /** `base` with its host:port replaced by the proxy's (any scheme: postgres://, redis://, http://). */
  url(base: string): string;
  /**
   * Destroys every current connection (both sides) and, until restore(), handles new ones by `mode`:
   * 'reset' (default) closes them at once; 'blackhole' accepts and holds them silently, like a partitioned network.
   */
  cut(mode?: CutMode): void;
  /** Ends the cut; connections held by a black hole are then connected through as if the network healed. */
  restore(): void;
  /** Latency added to every chunk in both directions (order preserved). 0 turns it off. */
  setDelay(ms: number): void;
  /** Connections currently relayed (not counting black-holed ones). */
  connections(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

function sever(socket: Socket): void {
  // An RST rather than a FIN: the peer sees a broken connection, not an orderly close.
  if (!socket.destroyed) socket.resetAndDestroy();
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  const held = new Set<Socket>();
  let mode: CutMode | undefined;
  let delayMs = 0;

  /** Copies `from` to `to`, each chunk no earlier than delayMs after it arrived, in arrival order, with backpressure. */
  function relay(from: Socket, to: Socket): void {
    const queue: { chunk: Buffer; due: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let ended = false;
    let waitingDrain = false;
    const flush = () => {
      timer = undefined;
      while (queue.length > 0) {
        const head = queue[0]!;
        const wait = head.due - Date.now();
        if (wait > 0) {
          timer = setTimeout(flush, wait);
          return;
        }
        queue.shift();
        if (to.destroyed) return;
        if (!to.write(head.chunk) && !waitingDrain) {
          waitingDrain = true;
          from.pause();
          to.once('drain', () => {
            waitingDrain = false;
            from.resume();
          });
        }
      }
      if (ended && !to.destroyed) to.end();
    };
    from.on('data', (chunk: Buffer) => {
      queue.push({ chunk, due: Date.now() + delayMs });
      if (!timer) flush();
    });
    from.on('end', () => {
      ended = true;
      if (!timer) flush();
    });
    from.on('close', () => {
      if (timer) clearTimeout(timer);
    });
  }

  function bridge(client: Socket): void {
    const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    upstream.setNoDelay(true);
    const pair = { client, upstream };
    pairs.add(pair);
    let done = false;
    const teardown = () => {
      if (done) return;
      done = true;
      pairs.delete(pair);
      sever(client);
      sever(upstream);
    };
    // Half-close is relayed by relay(); a full close or an error on either side ends both.
    client.on('error', teardown).on('close', teardown);
    upstream.on('error', teardown).on('close', teardown);
    relay(client, upstream);
    relay(upstream, client);
    client.resume();
  }

  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    client.setNoDelay(true);
    if (mode === 'reset') {
      sever(client);
      return;
    }
    if (mode === 'blackhole') {
      held.add(client);
      client.on('error', () => undefined).on('close', () => held.delete(client));
      return;
    }
    bridge(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy has no TCP address');
  const host = '127.0.0.1';
  const port = address.port;

  return {
    host,
    port,
    url(base) {
      const url = new URL(base);
      url.hostname = host;
      url.port = String(port);
      return url.toString();
    },
    cut(cutMode = 'reset') {
      mode = cutMode;
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        sever(pair.client);
        sever(pair.upstream);
      }
      if (cutMode === 'reset') {
        for (const socket of held) sever(socket);
        held.clear();
      }
    },
    restore() {
      mode = undefined;
      const waiting = [...held];
      held.clear();
      for (const client of waiting) if (!client.destroyed) bridge(client);
    },
    setDelay(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new Error(`setDelay: bad delay ${ms}`);
      delayMs = ms;
    },
    connections() {
      return pairs.size;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const pair of pairs) {
        sever(pair.client);
        sever(pair.upstream);
      }
      pairs.clear();
      for (const socket of held) sever(socket);
      held.clear();
      await closed;
    },
  };
}
