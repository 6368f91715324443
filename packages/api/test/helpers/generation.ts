/**
 * Helpers of the generation tests: an in-process worker app (the real `generate` job and sweeper) on the api's
 * database, Redis prefix and S3 server, and a typed tRPC client over HTTP or WebSocket for one user.
 */
import { createWorkerApp, createJobRegistry, jobs, registryOptions, type WorkerApp } from '@dawg/worker';
import { parseEnv, workerEnvSchema } from '@dawg/shared';
import { testEnv, type S3ServerHandle, type TestDatabase } from '@dawg/testing';
import { createTRPCClient, createWSClient, httpLink, wsLink, type TRPCClient } from '@trpc/client';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import type { AppRouter } from '../../src/index';

export async function startWorker(opts: {
  database: TestDatabase;
  prefix: string;
  s3: Pick<S3ServerHandle, 'endpoint' | 'bucket' | 'accessKeyId' | 'secretAccessKey' | 'region'>;
  overrides?: Record<string, string>;
}): Promise<WorkerApp> {
  const env = parseEnv(
    workerEnvSchema,
    testEnv({ databaseUrl: opts.database.url, redisPrefix: opts.prefix, s3: opts.s3 }, opts.overrides ?? {}),
  );
  const app = createWorkerApp({
    env,
    jobs: createJobRegistry(jobs, registryOptions),
    logger: pino({ level: 'silent' }),
  });
  await app.start();
  return app;
}

export function httpClient(base: string, token: string): TRPCClient<AppRouter> {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${base}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
}

export function wsClient(wsBase: string, token: string) {
  const socket = createWSClient({
    url: `${wsBase.replace(/\/+$/, '')}/trpc`,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { token },
    // Reconnect fast: the tests cut connections on purpose.
    retryDelayMs: () => 100,
  });
  const client = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
  return { client, close: () => socket.close() };
}

/** The tRPC error code of a rejected call ('OK' when it resolved). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'OK';
  } catch (err) {
    return (err as { data?: { code?: string } }).data?.code ?? 'NOT_TRPC';
  }
}
