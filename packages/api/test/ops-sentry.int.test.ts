/**
 * Sentry error reporting with SENTRY_DSN pointing at a local ingest stand-in (the real SDK's envelope over HTTP):
 * an unexpected error in a REST route and in a tRPC procedure, and a failing worker job, each arrive tagged with
 * their request or job id; client errors (4xx) do not. Without SENTRY_DSN no client exists.
 */
import { AppError, parseEnv, workerEnvSchema } from '@dawg/shared';
import {
  createTestDatabase,
  defaultRedisUrl,
  flushPrefix,
  testEnv,
  uniqueRedisPrefix,
  waitFor,
  type TestDatabase,
} from '@dawg/testing';
import { startFakeWebhookServer, type FakeWebhookServer } from '@dawg/testing/fakes/webhook';
import { createWorkerApp } from '@dawg/worker/app';
import { createQueueConnection } from '@dawg/worker/redis';
import { createJobRegistry, defineJob } from '@dawg/worker/registry';
import { Queue } from 'bullmq';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createErrorReporter } from '../src/ops/error-reporter';
import { startApi, type TestApi } from './helpers/api';

let database: TestDatabase;
let ingest: FakeWebhookServer;
let api: TestApi;
let dsn: string;

interface SentryEvent {
  exception?: { values?: { type?: string; value?: string }[] };
  tags?: Record<string, string>;
  environment?: string;
}

/** The events of every envelope received so far (an envelope is newline-delimited JSON: header, item header, item). */
function events(): SentryEvent[] {
  return ingest.requests
    .filter((r) => r.path === '/api/42/envelope/')
    .flatMap((r) => {
      const lines = String(typeof r.body === 'string' ? r.body : JSON.stringify(r.body)).split('\n');
      const out: SentryEvent[] = [];
      for (let i = 1; i + 1 < lines.length; i += 2) {
        const header = JSON.parse(lines[i]!) as { type?: string };
        if (header.type === 'event') out.push(JSON.parse(lines[i + 1]!) as SentryEvent);
      }
      return out;
    });
}

const eventWith = (message: string) => events().find((e) => e.exception?.values?.[0]?.value === message);

beforeAll(async () => {
  [database, ingest] = await Promise.all([createTestDatabase(), startFakeWebhookServer()]);
  dsn = `${ingest.url.replace('http://', 'http://publickey@')}/42`;
  api = await startApi({
    database,
    overrides: { SENTRY_DSN: dsn, WHITELISTED_IPS: '127.0.0.1', SELF_CHECK_INTERVAL_MS: '0' },
    extraRoutes: (app) => {
      app.get('/test/boom', () => {
        throw new Error('rest route exploded');
      });
      app.get('/test/bad', () => {
        throw new AppError('BAD_REQUEST', 'a client mistake');
      });
    },
  });
});

afterAll(async () => {
  await api?.close();
  await Promise.all([database?.drop(), ingest?.close()]);
});

describe('Sentry', () => {
  it('is off without SENTRY_DSN', () => {
    expect(createErrorReporter({ NODE_ENV: 'test' }, { service: 'api', release: '0' }).enabled).toBe(false);
  });

  it('receives an unexpected REST error tagged with the request id, and no client errors', async () => {
    expect((await fetch(`${api.base}/test/bad`, { headers: { 'x-request-id': 'req-client-400' } })).status).toBe(400);
    const res = await fetch(`${api.base}/test/boom`, { headers: { 'x-request-id': 'req-sentry-500' } });
    expect(res.status).toBe(500);
    await waitFor(() => Boolean(eventWith('rest route exploded')), { description: 'the REST error reached Sentry' });
    const event = eventWith('rest route exploded')!;
    expect(event.tags).toMatchObject({ service: 'api', requestId: 'req-sentry-500', route: '/test/boom' });
    expect(event.environment).toBe('test');
    expect(events().some((e) => e.tags?.requestId === 'req-client-400')).toBe(false);
  });

  it('receives a failed worker job tagged with its id and name', async () => {
    const prefix = uniqueRedisPrefix('sentry-worker');
    const env = parseEnv(
      workerEnvSchema,
      testEnv({ databaseUrl: database.url, redisPrefix: prefix }, { SENTRY_DSN: dsn }),
    );
    const failing = defineJob({
      name: 'test.sentry-fails',
      queue: 'test-sentry',
      schema: z.object({}).strict(),
      handler: () => {
        throw new Error('job handler exploded');
      },
    });
    const app = createWorkerApp({
      env,
      jobs: createJobRegistry([failing]),
      logger: pino({ level: 'silent' }),
    });
    const connection = createQueueConnection(env);
    const queue = new Queue('test-sentry', { connection, prefix });
    try {
      await app.start();
      const job = await queue.add('test.sentry-fails', {}, { attempts: 1 });
      await waitFor(() => Boolean(eventWith('job handler exploded')), { description: 'the job error reached Sentry' });
      expect(eventWith('job handler exploded')!.tags).toMatchObject({
        service: 'worker',
        jobId: job.id,
        job: 'test.sentry-fails',
        queue: 'test-sentry',
        attempt: '1',
      });
    } finally {
      await app.close(1_000);
      await queue.close();
      connection.disconnect();
      await flushPrefix(defaultRedisUrl(), prefix);
    }
  });
});
