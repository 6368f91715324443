/**
 * tRPC subscriptions over WebSocket at `/trpc` (same port as HTTP). keepAlive pings find dead peers; on shutdown
 * `broadcastReconnectNotification` tells clients to reconnect (to another instance) instead of failing.
 */
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import type { FastifyBaseLogger } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer } from 'ws';
import { createWsContextFactory } from '../context';
import type { AppDeps } from '../deps';
import type { ApiMetrics } from '../metrics';
import { appRouter } from '../router';
import { WS_MAX_PAYLOAD_BYTES } from './upgrade';

export function createTrpcSocketServer(
  deps: AppDeps,
  metrics: ApiMetrics,
  log: FastifyBaseLogger,
  clientIp: (req: IncomingMessage) => string,
) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES });
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: createWsContextFactory(deps, metrics, log, clientIp),
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL_SERVER_ERROR') log.error({ err: error.cause ?? error, path }, 'tRPC ws error');
    },
  });
  return { wss, broadcastReconnectNotification: handler.broadcastReconnectNotification };
}
