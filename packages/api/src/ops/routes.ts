/**
 * Operator endpoints, admins only (every call audited): `GET /monitoring/dashboard` (seed monitoring 6.1) and the
 * post-deploy integration checks `POST /api/test/openai`, `/api/test/anthropic`, `/api/test/s3` (seed post-deploy 5).
 *
 * The provider checks list models (free) instead of generating (billed): a key that can list models is a valid key
 * on a reachable API. Without a key they answer `{ status: "not_configured" }`, and a failing provider
 * `{ status: "error", error }`, both with 200: the check ran, its body is the result. Every call is timed in `provider_request_duration_seconds`.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { opsTestInputSchema } from '@dawg/shared';
import type { FastifyInstance } from 'fastify';
import OpenAI from 'openai';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { type ApiMetrics, observeProvider } from '../metrics';
import { defineRestRoute } from '../rest/define';
import type { QueueInspector } from './collectors';

/** The S3 check's objects live under this prefix (give it a 1-day lifecycle rule in the bucket). */
export const S3_CHECK_PREFIX = 'ops-checks/';
const CHECK_TIMEOUT_MS = 10_000;

const dashboardSchema = z.object({
  system: z.object({
    cpuUsage: z.object({ user: z.number(), system: z.number() }),
    memoryUsage: z.record(z.string(), z.number()),
    uptime: z.number(),
    platform: z.string(),
    nodeVersion: z.string(),
    loadAverage: z.array(z.number()),
  }),
  application: z.object({
    activeConnections: z.number(),
    /** Generation jobs waiting to run (waiting + delayed + prioritized); null when the queue could not be read. */
    queueDepth: z.number().nullable(),
    queues: z.record(z.string(), z.record(z.string(), z.number())).nullable(),
    /** Keys in the cache database (REDIS_URL's database; never the queue database). */
    cacheSize: z.number().nullable(),
  }),
  timestamp: z.string(),
});

const checkSchema = z.object({
  status: z.enum(['success', 'not_configured', 'error']),
  message: z.string().optional(),
  error: z.string().optional(),
  openai_available: z.boolean().optional(),
  anthropic_available: z.boolean().optional(),
  s3_available: z.boolean().optional(),
  model: z.string().optional(),
  uploadedUrl: z.string().optional(),
});
type Check = z.input<typeof checkSchema>;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A failed check is a result, not a server error: 200 with status "error" (so it never feeds the 5xx alerts). */
function failed(flag: string, err: unknown): Check {
  return { status: 'error', [flag]: false, error: errorText(err) };
}

async function settle<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch {
    return null;
  }
}

export function registerOpsRoutes(
  app: FastifyInstance,
  deps: AppDeps,
  metrics: ApiMetrics,
  queues: QueueInspector,
): void {
  const { env } = deps;

  defineRestRoute(
    app,
    {
      method: 'GET',
      url: '/monitoring/dashboard',
      auth: 'admin',
      tags: ['operations'],
      summary: "This instance's process, connection, queue and cache figures",
      response: dashboardSchema,
    },
    async () => {
      const [gauge, depths, cacheSize] = await Promise.all([
        metrics.activeWebsocketConnections.get(),
        settle(queues.depths()),
        settle(deps.redis.dbsize()),
      ]);
      const generate = depths?.generate;
      return {
        system: {
          cpuUsage: process.cpuUsage(),
          memoryUsage: { ...process.memoryUsage() },
          uptime: process.uptime(),
          platform: os.platform(),
          nodeVersion: process.version,
          loadAverage: os.loadavg(),
        },
        application: {
          activeConnections: gauge.values[0]?.value ?? 0,
          queueDepth: generate ? generate.waiting + generate.delayed + generate.prioritized : null,
          queues: depths,
          cacheSize,
        },
        timestamp: new Date().toISOString(),
      };
    },
  );

  const testRoute = {
    method: 'POST',
    auth: 'admin',
    tags: ['operations'],
    body: opsTestInputSchema,
    response: checkSchema,
  } as const;

  defineRestRoute(
    app,
    { ...testRoute, url: '/api/test/openai', summary: 'Check the OpenAI key and API (lists models)' },
    async (): Promise<Check> => {
      if (!env.OPENAI_API_KEY) {
        return { status: 'not_configured', openai_available: false, message: 'OPENAI_API_KEY is not set' };
      }
      const client = new OpenAI({
        apiKey: env.OPENAI_API_KEY,
        ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
        timeout: CHECK_TIMEOUT_MS,
        maxRetries: 0,
      });
      try {
        const page = await observeProvider(metrics, 'openai', 'models.list', () => client.models.list());
        const ids = page.data.map((m) => m.id);
        return { status: 'success', openai_available: true, model: ids.find((id) => id === 'gpt-4o') ?? ids[0] };
      } catch (err) {
        return failed('openai_available', err);
      }
    },
  );

  defineRestRoute(
    app,
    { ...testRoute, url: '/api/test/anthropic', summary: 'Check the Anthropic key and API (lists models)' },
    async (): Promise<Check> => {
      if (!env.ANTHROPIC_API_KEY) {
        return { status: 'not_configured', anthropic_available: false, message: 'ANTHROPIC_API_KEY is not set' };
      }
      const client = new Anthropic({
        apiKey: env.ANTHROPIC_API_KEY,
        ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
        timeout: CHECK_TIMEOUT_MS,
        maxRetries: 0,
      });
      try {
        const page = await observeProvider(metrics, 'anthropic', 'models.list', () => client.models.list());
        const ids = page.data.map((m) => m.id);
        const configured = env.ANTHROPIC_MODEL;
        return {
          status: 'success',
          anthropic_available: true,
          model: configured && ids.includes(configured) ? configured : ids[0],
        };
      } catch (err) {
        return failed('anthropic_available', err);
      }
    },
  );

  defineRestRoute(
    app,
    {
      ...testRoute,
      url: '/api/test/s3',
      summary: 'Write, read back and link a small object in the audio bucket',
      description: `The object is kept under ${S3_CHECK_PREFIX} so the returned URL can be fetched.`,
    },
    async (): Promise<Check> => {
      const Bucket = env.AWS_S3_BUCKET;
      const Key = `${S3_CHECK_PREFIX}test-${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.txt`;
      const content = `dawg-ai s3 check ${new Date().toISOString()}\n`;
      try {
        await observeProvider(metrics, 's3', 'put', () =>
          deps.s3.send(new PutObjectCommand({ Bucket, Key, Body: content, ContentType: 'text/plain' }), {
            abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
          }),
        );
        const got = await observeProvider(metrics, 's3', 'get', () =>
          deps.s3.send(new GetObjectCommand({ Bucket, Key }), { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) }),
        );
        const readBack = await got.Body?.transformToString();
        if (readBack !== content) {
          await deps.s3.send(new DeleteObjectCommand({ Bucket, Key })).catch(() => undefined);
          throw new Error('the object read back differs from the one written');
        }
        const uploadedUrl = await getSignedUrl(deps.s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 300 });
        return { status: 'success', s3_available: true, uploadedUrl };
      } catch (err) {
        return failed('s3_available', err);
      }
    },
  );
}
