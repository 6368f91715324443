/**
 * WebSocket upgrades on the api's one port, routed by path to a `ws` server (`/trpc` for subscriptions, `/` for the
 * seed's ping/pong socket; features add more, e.g. `/voice`). Unknown paths get 404, foreign browser origins 403
 * (cookies ride along on upgrades, so this is the CSRF check of WebSockets), a client IP already holding
 * `maxConnectionsPerIp` sockets (seed hardening 5.1; counted per instance, over all paths) or refused by `admit`
 * (the rate limit) 429, and nothing is accepted while closing.
 *
 * Every accepted socket, whatever its path, has its outgoing queue capped: a client that stops reading (a paused tab,
 * a stalled network) while its subscriptions keep producing would otherwise make the api buffer without bound. Once
 * more than `WS_MAX_BUFFERED_BYTES` wait unsent, the socket is closed with 1013 (try again later: a client that comes
 * back resumes from its last event id) and cut if it does not finish the close within `WS_SLOW_CLIENT_GRACE_MS`.
 * Other clients are not affected: each socket has its own queue.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket, WebSocketServer } from 'ws';
import type { ApiMetrics } from '../metrics';

/** Largest WebSocket message accepted (a frame above it closes the socket with 1009). */
export const WS_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Unsent bytes one socket may queue (`ws.bufferedAmount`) before its client is dropped as too slow. */
export const WS_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** The close code of a dropped slow client (1013 Try Again Later). */
export const WS_SLOW_CLIENT_CLOSE_CODE = 1013;

/** A dropped client's close frame waits behind its backlog; the socket is cut if it has not closed by then. */
export const WS_SLOW_CLIENT_GRACE_MS = 5_000;

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
  /** The client address of an upgrade request (honours TRUST_PROXY like Fastify's request.ip). */
  clientIp?: (req: IncomingMessage) => string;
  maxConnectionsPerIp?: number;
  /** Last check before the upgrade; resolves true to accept. */
  admit?: (req: IncomingMessage, ip: string) => Promise<boolean>;
  /** Unsent bytes per socket before its client is dropped (default WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes?: number;
}): UpgradeRouter {
  const maxBufferedBytes = opts.maxBufferedBytes ?? WS_MAX_BUFFERED_BYTES;
  const routes = new Map<string, WebSocketServer>();
  const perIp = new Map<string, number>();
  let accepting = true;

  /** Holds a slot for `ip` until the TCP socket closes (whether or not the handshake completes). */
  function reserve(ip: string, socket: Duplex): boolean {
    const held = perIp.get(ip) ?? 0;
    if (opts.maxConnectionsPerIp !== undefined && held >= opts.maxConnectionsPerIp) return false;
    perIp.set(ip, held + 1);
    socket.once('close', () => {
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
    });
    return true;
  }

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
    const ip = opts.clientIp?.(req) ?? req.socket.remoteAddress ?? '';
    if (!reserve(ip, socket)) {
      opts.log.info({ ip, path: pathname }, 'websocket refused: too many connections from this IP');
      return reject(socket, 429, 'Too Many Requests');
    }
    const header = req.headers['x-request-id'];
    req.id = typeof header === 'string' && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
    const upgrade = () => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    if (!opts.admit) return upgrade();
    opts.admit(req, ip).then(
      (admitted) => {
        if (socket.destroyed) return;
        if (!admitted) return reject(socket, 429, 'Too Many Requests');
        if (!accepting) return reject(socket, 503, 'Service Unavailable');
        upgrade();
      },
      (err: unknown) => {
        opts.log.error({ err }, 'websocket admission failed');
        reject(socket, 503, 'Service Unavailable');
      },
    );
  });

  return {
    add(path, wss) {
      routes.set(path, wss);
      wss.on('connection', (ws: WebSocket) => {
        capBufferedBytes(ws, maxBufferedBytes, () => {
          opts.metrics.websocketSlowClientsDroppedTotal.inc({ path });
          opts.log.warn({ path, bufferedBytes: ws.bufferedAmount }, 'websocket client too slow: dropped');
        });
        opts.metrics.activeWebsocketConnections.inc();
        opts.metrics.websocketConnectionsTotal.inc({ path });
        ws.once('close', () => {
          opts.metrics.activeWebsocketConnections.dec();
          opts.metrics.websocketDisconnectionsTotal.inc({ path });
        });
      });
    },
    servers: () => [...routes.values()],
    stop() {
      accepting = false;
    },
  };
}

/**
 * Wraps `ws.send` (every sender — tRPC's adapter, the socket handlers — calls it on the instance): a send while more
 * than `limit` bytes are still queued closes the socket instead of queueing more. The check comes before the send,
 * so one large message to a client that keeps up never counts against it.
 */
function capBufferedBytes(ws: WebSocket, limit: number, onDrop: () => void): void {
  const send = ws.send.bind(ws) as (...args: unknown[]) => void;
  let dropped = false;
  const guarded = (...args: unknown[]) => {
    if (!dropped && ws.readyState === ws.OPEN && ws.bufferedAmount > limit) {
      dropped = true;
      onDrop();
      ws.close(WS_SLOW_CLIENT_CLOSE_CODE, 'Client too slow: too many unsent bytes');
      const timer = setTimeout(() => ws.terminate(), WS_SLOW_CLIENT_GRACE_MS);
      timer.unref();
      ws.once('close', () => clearTimeout(timer));
    }
    // Not OPEN any more (closing, or just dropped): ws itself refuses the message (its callback gets the error).
    send(...args);
  };
  ws.send = guarded as WebSocket['send'];
}
