/**
 * The main WebSocket at `/` (seed post-deploy 3.1): `{"type":"ping"}` is answered with `{"type":"pong"}`. Dead
 * peers are found with protocol-level pings and terminated, so the connection gauge stays true.
 */
import type { FastifyBaseLogger } from 'fastify';
import { type WebSocket, WebSocketServer } from 'ws';
import { WS_MAX_PAYLOAD_BYTES } from './upgrade';

export const HEARTBEAT_MS = 30_000;

export function createMainSocketServer(log: FastifyBaseLogger): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES });
  const alive = new WeakMap<WebSocket, boolean>();

  wss.on('connection', (ws) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', (err) => log.debug({ err }, 'main socket error'));
    ws.on('message', (data, isBinary) => {
      let message: unknown;
      try {
        message = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        message = undefined;
      }
      if (typeof message !== 'object' || message === null) {
        ws.send(JSON.stringify({ type: 'error', error: 'Messages must be JSON objects' }));
        return;
      }
      const type = (message as { type?: unknown }).type;
      if (type === 'ping') ws.send(JSON.stringify({ type: 'pong' }));
      else ws.send(JSON.stringify({ type: 'error', error: 'Unknown message type' }));
    });
  });

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  wss.on('close', () => clearInterval(heartbeat));
  return wss;
}
