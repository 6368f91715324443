/**
 * The api host: one Fastify server on one port serving REST, tRPC over HTTP (`/trpc/*`), WebSockets (`/trpc` for
 * subscriptions, `/` for ping/pong), `/health` and `/metrics`. `buildServer` wires everything; `close()` shuts down
 * gracefully (see there).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApiEnv, LIMITS } from '@dawg/shared';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import type { WebSocketServer } from 'ws';
import { type AppDeps, createDeps } from './deps';
import { registerRestErrorHandling } from './errors/rest';
import { registerMetrics } from './http/metrics-routes';
import { registerRequestTimeout } from './http/request-timeout';
import { isAllowedWsOrigin, registerSecurity } from './http/security';
import { registerStatusRoutes } from './http/status-routes';
import { registerTrpcHttp } from './http/trpc-http';
import { type ApiMetrics, createMetrics } from './metrics';
import { type Operations, registerOperations } from './ops';
import { registerBillingRoutes } from './rest/billing';
import { registerChatRoutes } from './rest/chat';
import { registerGenerateRoutes } from './rest/generate';
import { appRouter } from './router';
import { createAiBrainSocketServer } from './ws/ai-brain';
import { createVoiceSocketServer } from './ws/voice';
import { createMainSocketServer } from './ws/main-socket';
import { createTrpcSocketServer } from './ws/trpc-ws';
import { createUpgradeRouter, type UpgradeRouter } from './ws/upgrade';
import { clientIpOf, trustOneProxyHop } from './perimeter/client-ip';
import { registerPerimeter } from './perimeter/http';
import { ipLimitKey } from './perimeter/rate-limit';
import { registerAuthRoutes } from './rest/auth-routes';
import { registerRestSupport } from './rest/define';
import { registerTrackRoutes } from './rest/tracks';

export interface BuildServerOptions {
  env: ApiEnv;
  /** false = silent; true/undefined = JSON logs at LOG_LEVEL; an object = pino options or a pino logger. */
  logger?: boolean | object;
  /** Extra routes registered after the built-in ones (tests use it for deliberately slow routes). */
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
}

export interface ApiServer {
  app: FastifyInstance;
  deps: AppDeps;
  metrics: ApiMetrics;
  upgrades: UpgradeRouter;
  /** Listens on env.HOST:env.PORT (0 = any free port) and resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful shutdown; idempotent. */
  close(): Promise<void>;
}

/** Lets a WebSocket finish its close handshake before it is cut. */
const WS_CLOSE_GRACE_MS = 2_000;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

function isLogger(value: object): value is FastifyBaseLogger {
  return (
    typeof (value as { child?: unknown }).child === 'function' &&
    typeof (value as { info?: unknown }).info === 'function'
  );
}

function loggerOptions(
  env: ApiEnv,
  logger: BuildServerOptions['logger'],
): Partial<FastifyServerOptions> & {
  loggerInstance?: FastifyBaseLogger;
} {
  if (logger === false) return { logger: false };
  const base = {
    level: env.LOG_LEVEL,
    base: { service: 'api' },
    redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'],
  };
  if (logger === true || logger === undefined) return { logger: base };
  if (isLogger(logger)) return { loggerInstance: logger };
  return { logger: { ...base, ...logger } };
}

export async function buildServer(opts: BuildServerOptions): Promise<ApiServer> {
  const { env } = opts;
  const app = Fastify({
    ...loggerOptions(env, opts.logger),
    // Batched tRPC GETs put every procedure name in one path parameter.
    routerOptions: { maxParamLength: 5_000 },
    bodyLimit: env.BODY_LIMIT_BYTES,
    trustProxy: env.TRUST_PROXY ? trustOneProxyHop : false,
    requestIdHeader: false,
    // Fastify's default is two lines per request ("incoming request", "request completed"); one is enough (below).
    logController: new LogController({ disableRequestLogging: true }),
    // A caller's id is kept (tracing across services) if it is short and harmless in logs; otherwise a fresh one.
    genReqId: (req) => {
      const header = req.headers['x-request-id'];
      return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
    },
  });
  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // The access log: one line per response, with the request id (request.log is the request's child logger).
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      { method: request.method, url: request.url, statusCode: reply.statusCode, responseTime: reply.elapsedTime },
      'request completed',
    );
    done();
  });

  const metrics = createMetrics({ enabled: env.ENABLE_METRICS });
  const { close: closeDeps, ...deps } = await createDeps(env, app.log);
  let ops: Operations | undefined;
  try {
    registerRestErrorHandling(app);
    await registerSecurity(app, env.CORS_ORIGINS);
    registerRestSupport(app, deps);
    // The request timer starts before the perimeter's hooks, which may wait on Redis or Postgres themselves.
    registerRequestTimeout(app, env.REQUEST_TIMEOUT_MS);
    registerPerimeter(app, deps);
    registerMetrics(app, metrics, new Set(Object.keys(appRouter._def.procedures)));
    registerStatusRoutes(app, deps);
    registerAuthRoutes(app, deps);
    await registerTrpcHttp(app, deps, metrics);
    registerGenerateRoutes(app, deps);
    registerTrackRoutes(app, deps);
    registerChatRoutes(app, deps);
    registerBillingRoutes(app, deps);
    ops = registerOperations(app, deps, metrics);
    if (opts.extraRoutes) await opts.extraRoutes(app);
  } catch (err) {
    await ops?.close();
    await closeDeps();
    throw err;
  }

  const clientIp = (req: IncomingMessage) => clientIpOf(req, env.TRUST_PROXY);
  const upgrades = createUpgradeRouter({
    server: app.server,
    log: app.log,
    metrics,
    isAllowedOrigin: (origin) => isAllowedWsOrigin(origin, env.CORS_ORIGINS),
    clientIp,
    maxConnectionsPerIp: LIMITS.WS_MAX_CONNECTIONS_PER_IP,
    // Each upgrade counts against the caller's general limit (per IP: the credentials are read later, by tRPC).
    admit: async (_req, ip) =>
      deps.limits.isWhitelisted(ip) || (await deps.limits.consume('general', ipLimitKey(ip))).allowed,
  });
  const trpcWs = createTrpcSocketServer(deps, metrics, app.log, clientIp);
  upgrades.add('/trpc', trpcWs.wss);
  upgrades.add('/', createMainSocketServer(app.log));
  upgrades.add('/ai-brain', createAiBrainSocketServer(deps, app.log));
  upgrades.add('/voice', createVoiceSocketServer(deps, app.log).wss);

  // Fastify order on close: preClose → server.close() (waits for in-flight HTTP) → onClose.
  app.addHook('preClose', async () => {
    upgrades.stop();
    trpcWs.broadcastReconnectNotification();
    // Chat turns running here finish (or end with an error event) within the grace, while connections close.
    await Promise.all([...upgrades.servers().map(closeClients), deps.chat.drain(chatDrainMs(env.SHUTDOWN_TIMEOUT_MS))]);
  });
  app.addHook('onClose', async () => {
    await Promise.all(upgrades.servers().map((wss) => new Promise<void>((resolve) => wss.close(() => resolve()))));
    await ops?.close();
    await closeDeps();
  });

  let closing: Promise<void> | undefined;
  return {
    app,
    deps,
    metrics,
    upgrades,
    async listen() {
      await app.listen({ host: env.HOST, port: env.PORT });
      const { port } = app.server.address() as AddressInfo;
      const host = env.HOST === '0.0.0.0' || env.HOST === '::' ? '127.0.0.1' : env.HOST;
      return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    close() {
      closing ??= (async () => {
        const closed = app.close();
        // In-flight requests get SHUTDOWN_TIMEOUT_MS to finish; then their connections are cut.
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), env.SHUTDOWN_TIMEOUT_MS);
        });
        const outcome = await Promise.race([closed.then(() => 'closed' as const), deadline]);
        clearTimeout(timer);
        if (outcome === 'timeout') {
          app.log.warn({ timeoutMs: env.SHUTDOWN_TIMEOUT_MS }, 'shutdown deadline passed, closing connections');
          app.server.closeAllConnections();
          for (const wss of upgrades.servers()) for (const ws of wss.clients) ws.terminate();
        }
        await closed;
      })();
      return closing;
    },
  };
}

/** Running chat turns get the shutdown grace minus a margin to write their last events and rows. */
function chatDrainMs(shutdownTimeoutMs: number): number {
  return Math.max(0, shutdownTimeoutMs - Math.min(3_000, shutdownTimeoutMs / 2));
}

/** Closes every client of a ws server with 1001 (going away), terminating those that do not finish the handshake. */
async function closeClients(wss: WebSocketServer): Promise<void> {
  const clients = [...wss.clients];
  await Promise.all(
    clients.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === ws.CLOSED) return resolve();
          const timer = setTimeout(() => ws.terminate(), WS_CLOSE_GRACE_MS);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1001, 'Server shutting down');
        }),
    ),
  );
}
