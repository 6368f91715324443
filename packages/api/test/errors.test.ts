/**
 * The two error mappings (REST and tRPC): every AppError code keeps its status on both transports, validation
 * failures carry field-level details, client mistakes Fastify detects are 4xx, and internal messages never leak.
 */
import { APP_ERROR_CODES, AppError, type AppErrorCode } from '@dawg/shared';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerRestErrorHandling, toRestError } from '../src/errors/rest';
import { formatTRPCError, toTRPCError } from '../src/errors/trpc';
import { isJsonContentType } from '../src/http/trpc-http';

const shapeOf = (error: TRPCError, path = 'track.create') => ({
  message: error.message,
  code: -32600,
  data: { code: error.code, httpStatus: getHTTPStatusCodeFromError(error), path, stack: 'secret stack' },
});

describe('REST mapping', () => {
  it('gives every AppError code its own status and the { error } body', () => {
    for (const [code, status] of Object.entries(APP_ERROR_CODES)) {
      const mapped = toRestError(new AppError(code as AppErrorCode, `failed with ${code}`));
      expect(mapped).toEqual({ status, code, body: { error: `failed with ${code}` } });
    }
  });

  it('keeps details and merges extra fields (e.g. retryAfter)', () => {
    const err = new AppError('TOO_MANY_REQUESTS', 'Too many requests, please try again later.', {
      details: [{ path: ['prompt'], message: 'too long' }],
      extra: { retryAfter: '15 minutes' },
    });
    expect(toRestError(err)).toEqual({
      status: 429,
      code: 'TOO_MANY_REQUESTS',
      body: {
        error: 'Too many requests, please try again later.',
        retryAfter: '15 minutes',
        details: [{ path: ['prompt'], message: 'too long' }],
      },
    });
  });

  it('turns a zod failure into 400 Validation failed with paths', () => {
    const result = z.object({ duration: z.number().max(300), tags: z.array(z.string()) }).safeParse({
      duration: 900,
      tags: ['ok', 3],
    });
    expect(result.success).toBe(false);
    const mapped = toRestError(result.error);
    expect(mapped.status).toBe(400);
    expect(mapped.body.error).toBe('Validation failed');
    expect(mapped.body.details?.map((d) => d.path)).toEqual([['duration'], ['tags', 1]]);
    expect(mapped.body.details?.every((d) => d.message.length > 0)).toBe(true);
  });

  it('hides the message of unexpected errors behind a 500', () => {
    const mapped = toRestError(new Error('connect ECONNREFUSED 10.0.0.3:5432 password=hunter2'));
    expect(mapped).toEqual({ status: 500, code: 'INTERNAL_SERVER_ERROR', body: { error: 'Internal server error' } });
  });

  it('answers client mistakes that Fastify detects with 4xx JSON, never 500', async () => {
    const app = Fastify({ bodyLimit: 1024 });
    registerRestErrorHandling(app);
    app.post(
      '/things',
      { schema: { body: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
      () => ({ ok: true }),
    );
    app.get('/boom', () => {
      throw new Error('db password in here');
    });
    await app.ready();
    const post = (payload: string, contentType: string) =>
      app.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': contentType } });

    const tooLarge = await post(JSON.stringify({ name: 'x'.repeat(2048) }), 'application/json');
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.json()).toEqual({ error: 'Payload too large' });

    const badJson = await post('{"name":', 'application/json');
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json()).toHaveProperty('error');

    const form = await post('name=x', 'application/x-www-form-urlencoded');
    expect(form.statusCode).toBe(415);
    expect(form.json()).toEqual({ error: 'Unsupported media type' });

    const invalid = await post(JSON.stringify({ title: 'no name' }), 'application/json');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toEqual({
      error: 'Validation failed',
      details: [{ path: ['name'], message: "must have required property 'name'" }],
    });

    const boom = await app.inject({ method: 'GET', url: '/boom' });
    expect(boom.statusCode).toBe(500);
    expect(boom.json()).toEqual({ error: 'Internal server error' });

    const missing = await app.inject({ method: 'GET', url: '/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'Not found' });

    const trpcMissing = await app.inject({ method: 'GET', url: '/trpc/x' });
    expect(trpcMissing.statusCode).toBe(404);
    expect(trpcMissing.json()).toMatchObject({ error: { data: { code: 'NOT_FOUND', httpStatus: 404 } } });
    await app.close();
  });
});

describe('tRPC mapping', () => {
  it('maps every AppError code to a tRPC code with the same HTTP status', () => {
    for (const [code, status] of Object.entries(APP_ERROR_CODES)) {
      const trpc = toTRPCError(new AppError(code as AppErrorCode, 'x'));
      expect(getHTTPStatusCodeFromError(trpc), code).toBe(status);
    }
  });

  it('unwraps an AppError that tRPC wrapped as INTERNAL_SERVER_ERROR', () => {
    const wrapped = new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      cause: new AppError('NOT_FOUND', 'Project not found'),
    });
    const err = toTRPCError(wrapped);
    expect(err.code).toBe('NOT_FOUND');
    const shape = formatTRPCError(shapeOf(wrapped), wrapped);
    expect(shape.message).toBe('Project not found');
    expect(shape.data).toEqual({ code: 'NOT_FOUND', httpStatus: 404, path: 'track.create' });
  });

  it('exposes zod issues as data.details and drops stacks', () => {
    const result = z.object({ bpm: z.number().int().min(20) }).safeParse({ bpm: 5 });
    const err = new TRPCError({ code: 'BAD_REQUEST', cause: result.error });
    const shape = formatTRPCError(shapeOf(err), err);
    expect(shape.message).toBe('Validation failed');
    expect(shape.data.details).toEqual([{ path: ['bpm'], message: expect.any(String) }]);
    expect(shape.data).not.toHaveProperty('stack');
  });

  it('never sends the message of an unexpected error', () => {
    const err = toTRPCError(new Error('SELECT * FROM users leaked'));
    expect(err.code).toBe('INTERNAL_SERVER_ERROR');
    const shape = formatTRPCError(shapeOf(err), err);
    expect(shape.message).toBe('Internal server error');
  });

  it('keeps AppError details and extra in the shape', () => {
    const app = new AppError('PAYMENT_REQUIRED', 'Monthly budget exceeded', { extra: { limitUsd: 5 } });
    const err = toTRPCError(app);
    const shape = formatTRPCError(shapeOf(err), err);
    expect(shape).toMatchObject({
      message: 'Monthly budget exceeded',
      data: { code: 'PAYMENT_REQUIRED', httpStatus: 402, extra: { limitUsd: 5 } },
    });
  });
});

describe('tRPC content type guard', () => {
  it('accepts only application/json', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('Application/JSON; charset=utf-8')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType('text/plain; application/json')).toBe(false);
    expect(isJsonContentType('multipart/form-data; boundary=x')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});
