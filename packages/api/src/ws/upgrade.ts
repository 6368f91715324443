/**
 * WebSocket upgrades on the api's one port, routed by path to a `ws` server (`/trpc` for subscriptions, `/` for the
 * seed's ping/pong socket; features add more, e.g. `/voice`). Unknown paths get 404, foreign browser origins 403
 * (cookies ride along on upgrades, so this is the CSRF check of WebSockets), and nothing is accepted while closing.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ApiMetrics } from '../metrics';

/** Largest WebSocket message accepted (a frame above it closes the socket with 1009). */
export const WS_MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface UpgradeRouter {
  add(path: string, wss: WebSocketServer): void;
  servers(): WebSocketServer[];
  /** Refuse new upgrades from now on. */
  stop(): void;
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function createUpgradeRouter(opts: {
  server: Server;
  log: FastifyBaseLogger;
  metrics: ApiMetrics;
  isAllowedOrigin: (origin: string | undefined) => boolean;
}): UpgradeRouter {
  const routes = new Map<string, WebSocketServer>();
  let accepting = true;

  opts.server.on('upgrade', (req: IncomingMessage & { id?: string }, socket: Duplex, head: Buffer) => {
    socket.on('error', (err) => opts.log.debug({ err }, 'upgrade socket error'));
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const wss = routes.get(pathname);
    if (!accepting) return reject(socket, 503, 'Service Unavailable');
    if (!wss) return reject(socket, 404, 'Not Found');
    if (!opts.isAllowedOrigin(req.headers.origin)) {
      opts.log.info({ origin: req.headers.origin, path: pathname }, 'websocket origin refused');
      return reject(socket, 403, 'Forbidden');
    }
    const header = req.headers['x-request-id'];
    req.id = typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  return {
    add(path, wss) {
      routes.set(path, wss);
      wss.on('connection', (ws: WebSocket) => {
        opts.metrics.activeWebsocketConnections.inc();
        ws.once('close', () => opts.metrics.activeWebsocketConnections.dec());
      });
    },
    servers: () => [...routes.values()],
    stop() {
      accepting = false;
    },
  };
}
