/**
 * The one mapping from errors to REST answers: `{ error, details? }` with the status of the AppError code. Client
 * mistakes (bad JSON, body too large, wrong content type, schema failures) are always 4xx; only our own faults are
 * 500, and their messages stay in the log. Requests under `/trpc` get tRPC's error envelope instead, so a tRPC
 * client can read failures that happen before tRPC runs.
 */
import { APP_ERROR_CODES, type AppErrorCode, type AppErrorDetail, isAppError } from '@dawg/shared';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { validationDetails } from './details';
import { databaseUnavailable, isDatabaseUnavailable } from './unavailable';
import { APP_TO_TRPC_CODE, INTERNAL_MESSAGE, trpcErrorEnvelope } from './trpc';

export interface RestErrorBody {
  error: string;
  details?: AppErrorDetail[];
  [extra: string]: unknown;
}

export interface MappedError {
  status: number;
  code: AppErrorCode;
  body: RestErrorBody;
}

const STATUS_TO_CODE = new Map<number, AppErrorCode>(
  Object.entries(APP_ERROR_CODES).map(([code, status]) => [status, code as AppErrorCode]),
);

/** Fastify's own client-error codes that deserve a fixed wording. */
const FASTIFY_CODES: Record<string, { code: AppErrorCode; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', message: 'Payload too large' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', message: 'Invalid content length' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported media type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'BAD_REQUEST', message: 'Body cannot be empty when content-type is JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'BAD_REQUEST', message: 'Invalid JSON body' },
};

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && ('statusCode' in err || 'code' in err || 'validation' in err);
}

/** Pure mapping (unit-tested): what status and body an error deserves. */
export function toRestError(err: unknown): MappedError {
  if (isAppError(err)) {
    return {
      status: err.status,
      code: err.code,
      body: { ...err.extra, error: err.message, ...(err.details ? { details: err.details } : {}) },
    };
  }
  if (isDatabaseUnavailable(err)) return toRestError(databaseUnavailable(err));
  const issues = validationDetails(err);
  if (issues) return { status: 400, code: 'BAD_REQUEST', body: { error: 'Validation failed', details: issues } };

  if (isFastifyError(err)) {
    if (err.validation) {
      const details = err.validation.map((v) => {
        const path: (string | number)[] = v.instancePath.split('/').filter(Boolean);
        // ajv reports a missing property on its parent object; name the property itself.
        const missing = (v.params as { missingProperty?: unknown }).missingProperty;
        if (v.keyword === 'required' && typeof missing === 'string') path.push(missing);
        return { path, message: v.message ?? 'is invalid' };
      });
      return { status: 400, code: 'BAD_REQUEST', body: { error: 'Validation failed', details } };
    }
    const known = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (known) return { status: APP_ERROR_CODES[known.code], code: known.code, body: { error: known.message } };
    // JSON.parse failures from the body parser carry statusCode 400 and a SyntaxError message.
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return { status, code: STATUS_TO_CODE.get(status) ?? 'BAD_REQUEST', body: { error: err.message } };
    }
  }
  return { status: 500, code: 'INTERNAL_SERVER_ERROR', body: { error: INTERNAL_MESSAGE } };
}

export function isTrpcUrl(url: string): boolean {
  return url === '/trpc' || url.startsWith('/trpc/') || url.startsWith('/trpc?');
}

/** Sends a mapped error in the envelope the caller understands. */
export function sendError(request: FastifyRequest, reply: FastifyReply, mapped: MappedError): FastifyReply {
  if (isTrpcUrl(request.url)) {
    const envelope = trpcErrorEnvelope(APP_TO_TRPC_CODE[mapped.code], mapped.body.error);
    return reply.code(envelope.status).send(envelope.body);
  }
  return reply.code(mapped.status).send(mapped.body);
}

export function registerRestErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => {
    const mapped = toRestError(err);
    if (mapped.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ status: mapped.status, code: mapped.code, reason: mapped.body.error }, 'request refused');
    return sendError(request, reply, mapped);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, { status: 404, code: 'NOT_FOUND', body: { error: 'Not found' } }),
  );
}
