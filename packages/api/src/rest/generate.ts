/**
 * The seed's REST contract for music generation: `POST /api/generate` → 202 `{ jobId, status: "queued",
 * estimatedTime }` and `GET /api/generate/:id/status` → `{ jobId, status, audioUrl }` (`completed` on success;
 * audioUrl a presigned MP3 URL). The same services as `generation.create` / `generation.get`; the generation rate
 * limit applies to the POST (perimeter). An `Idempotency-Key` header makes a retried POST answer the same job.
 * `POST /api/suno/callback` receives Suno's signed task callbacks and wakes the worker polling that task.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  AppError,
  createGenerationInputSchema,
  GENERATION_LIMITS,
  generationStatusOutputSchema,
  REST_GENERATION_STATUSES,
  SUNO_CALLBACK_PATH,
  sunoCallbackQuerySchema,
  sunoCallbackSignature,
  sunoWakeChannel,
  toRestStatus,
} from '@dawg/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../deps';
import { createDemoGenerationLimiter } from '../services/demo';
import { createGeneration, generationStatus, type GenerationDeps } from '../services/generation';
import { defineRestRoute } from './define';

const restCreateOutputSchema = z.object({
  jobId: z.uuid(),
  status: z.enum(REST_GENERATION_STATUSES),
  estimatedTime: z.number().int().min(0),
});

const idempotencyHeader = z.string().trim().min(1).max(GENERATION_LIMITS.IDEMPOTENCY_KEY_MAX_CHARS);

export function registerGenerateRoutes(app: FastifyInstance, deps: AppDeps): void {
  const services = (log: GenerationDeps['log']): GenerationDeps => ({
    db: deps.db,
    env: deps.env,
    log,
    storage: { s3: deps.s3, bucket: deps.env.AWS_S3_BUCKET },
    generationQueue: deps.generationQueue,
    demoLimiter: createDemoGenerationLimiter(deps),
  });

  defineRestRoute(
    app,
    {
      method: 'POST',
      url: '/api/generate',
      auth: 'user',
      body: createGenerationInputSchema,
      response: restCreateOutputSchema,
      status: 202,
      summary: 'Start a music generation',
      description:
        'Simple mode `{ prompt, duration, genre? }` or custom mode `{ mode: "custom", title, style, lyrics }`. ' +
        'Answers 202 with the job id; poll `/api/generate/{id}/status` or subscribe to `generation.onProgress`.',
      tags: ['generation'],
      errors: {
        402: 'Monthly quota or AI budget exhausted',
        429: 'Generation rate limit exceeded',
      },
    },
    async ({ body, user, request }) => {
      const header = idempotencyHeader.safeParse(request.headers['idempotency-key']);
      const input = header.success && !body.idempotencyKey ? { ...body, idempotencyKey: header.data } : body;
      const created = await createGeneration(services(request.log), user, input);
      return { ...created, status: toRestStatus(created.status) };
    },
  );

  defineRestRoute(
    app,
    {
      method: 'GET',
      url: '/api/generate/:id/status',
      auth: 'user',
      params: z.object({ id: z.uuid() }),
      response: generationStatusOutputSchema,
      summary: 'Status of a music generation',
      tags: ['generation'],
      errors: { 404: 'No such generation (or not yours)' },
    },
    ({ params, user, request }) => generationStatus(services(request.log), user.id, params.id),
  );

  // Suno's task callbacks (`callbackType` text → first → complete). The signed URL is the credential; a callback only
  // wakes the worker polling that generation (the status is always read from Suno), so a replay costs one poll.
  defineRestRoute(
    app,
    {
      method: 'POST',
      url: SUNO_CALLBACK_PATH,
      auth: 'public',
      query: sunoCallbackQuerySchema,
      response: z.object({ code: z.literal(200), msg: z.string() }),
      summary: 'Suno task callback',
      description: 'Called by Suno with the URL the worker gave it (signed per generation); wakes the polling.',
      tags: ['generation'],
      config: { rateLimit: false },
      errors: { 403: 'Bad signature', 404: 'Callbacks are not configured' },
    },
    async ({ query, request }) => {
      const secret = deps.env.SUNO_CALLBACK_SECRET;
      if (!secret || !deps.env.SUNO_CALLBACK_URL) throw new AppError('NOT_FOUND', 'Not found');
      const expected = Buffer.from(await sunoCallbackSignature(secret, query.g), 'hex');
      const given = Buffer.from(query.sig, 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new AppError('FORBIDDEN', 'Invalid callback signature', {
          details: [{ path: ['sig'], message: 'does not match' }],
        });
      }
      const body = (request.body ?? {}) as { data?: { callbackType?: unknown } };
      const callbackType =
        typeof body.data?.callbackType === 'string' ? body.data.callbackType.slice(0, 40) : undefined;
      await deps.redis.publish(
        sunoWakeChannel(deps.env.REDIS_KEY_PREFIX),
        JSON.stringify({ generationId: query.g, ...(callbackType ? { callbackType } : {}) }),
      );
      request.log.debug({ generationId: query.g, callbackType }, 'suno callback');
      return { code: 200 as const, msg: 'success' };
    },
  );
}
