/**
 * Test helpers for the api's integration tests: a real server on port 0 against the file's database and Redis
 * prefix, and plain-HTTP callers for REST and tRPC (the wire format the web client and curl use).
 */
import { apiEnvSchema, parseEnv, type ApiEnv } from '@dawg/shared';
import {
  defaultRedisUrl,
  flushPrefix,
  testEnv,
  uniqueRedisPrefix,
  type TestDatabase,
  type TestEnvOptions,
} from '@dawg/testing';
import type { FastifyInstance } from 'fastify';
import { buildServer, type ApiServer } from '../../src/server';

export const WEB_ORIGIN = 'http://localhost:5173';

export interface TestApi {
  server: ApiServer;
  env: ApiEnv;
  base: string;
  wsBase: string;
  prefix: string;
  close(): Promise<void>;
}

export async function startApi(opts: {
  database: TestDatabase;
  label?: string;
  prefix?: string;
  overrides?: Record<string, string>;
  s3?: TestEnvOptions['s3'];
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
}): Promise<TestApi> {
  const prefix = opts.prefix ?? uniqueRedisPrefix(opts.label ?? 'api');
  const env = parseEnv(
    apiEnvSchema,
    testEnv(
      { databaseUrl: opts.database.url, redisPrefix: prefix, ...(opts.s3 ? { s3: opts.s3 } : {}) },
      { CORS_ORIGINS: WEB_ORIGIN, ...opts.overrides },
    ),
  );
  const server = await buildServer({
    env,
    logger: false,
    ...(opts.extraRoutes ? { extraRoutes: opts.extraRoutes } : {}),
  });
  const base = await server.listen();
  return {
    server,
    env,
    base,
    wsBase: base.replace(/^http/, 'ws'),
    prefix,
    async close() {
      await server.close();
      if (!opts.prefix) await flushPrefix(defaultRedisUrl(), prefix);
    },
  };
}

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, headers: res.headers, body };
}

export async function rest(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  return answer(res);
}

/** A tRPC query over HTTP GET (non-batched): `{ result: { data } }` or `{ error: { message, code, data } }`. */
export async function trpcQuery(
  base: string,
  path: string,
  input?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  return answer(await fetch(`${base}/trpc/${path}${qs}`, { headers }));
}

export async function trpcMutation(
  base: string,
  path: string,
  input?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return answer(
    await fetch(`${base}/trpc/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: input === undefined ? '' : JSON.stringify(input),
    }),
  );
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let counter = 0;
/** A unique, valid email per call. */
export function freshEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}@example.com`;
}

/** A password that passes the policy. */
export const GOOD_PASSWORD = 'Tuba-Marmalade-Orbit-42';
