/**
 * The one mapping from application errors to tRPC: AppError codes become TRPCError codes (so the HTTP status is
 * right), and the error shape carries field-level `details` for validation failures. Internal errors never leak
 * their message to the client; they are logged by the adapter's onError instead.
 */
import { type AppErrorCode, isAppError } from '@dawg/shared';
import { TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import { validationDetails } from './details';
import { databaseUnavailable, isDatabaseUnavailable } from './unavailable';

/** Complete by construction: adding an AppError code without a tRPC code is a type error. */
export const APP_TO_TRPC_CODE: Record<AppErrorCode, TRPC_ERROR_CODE_KEY> = {
  BAD_REQUEST: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  PAYMENT_REQUIRED: 'PAYMENT_REQUIRED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  TIMEOUT: 'TIMEOUT',
  CONFLICT: 'CONFLICT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
};

export const INTERNAL_MESSAGE = 'Internal server error';

/** A TRPCError for anything thrown by a procedure; AppErrors keep their code, message and details. */
export function toTRPCError(err: unknown): TRPCError {
  if (err instanceof TRPCError) {
    return isAppError(err.cause) ? toTRPCError(err.cause) : err;
  }
  if (isAppError(err)) return new TRPCError({ code: APP_TO_TRPC_CODE[err.code], message: err.message, cause: err });
  if (isDatabaseUnavailable(err)) return toTRPCError(databaseUnavailable(err));
  return new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: INTERNAL_MESSAGE, cause: err });
}

export interface ErrorData {
  code: TRPC_ERROR_CODE_KEY;
  httpStatus: number;
  path?: string;
  details?: { path: (string | number)[]; message: string }[];
  extra?: Record<string, unknown>;
}

interface ShapeIn {
  message: string;
  code: number;
  data: { code: TRPC_ERROR_CODE_KEY; httpStatus: number; path?: string; stack?: string };
}

/**
 * errorFormatter body. Subscriptions over WebSocket bypass the middleware that converts AppErrors, so the shape is
 * corrected here too; validation issues (zod cause) become `data.details`.
 */
export function formatTRPCError(shape: ShapeIn, error: TRPCError): { message: string; code: number; data: ErrorData } {
  const err = isAppError(error.cause) ? toTRPCError(error.cause) : error;
  const app = isAppError(err.cause) ? err.cause : null;
  const details = app?.details ?? (err.code === 'BAD_REQUEST' ? validationDetails(err.cause) : null);
  const internal = err.code === 'INTERNAL_SERVER_ERROR' && !app;
  const data: ErrorData = {
    code: err.code,
    httpStatus: getHTTPStatusCodeFromError(err),
    ...(shape.data.path !== undefined ? { path: shape.data.path } : {}),
    ...(details ? { details } : {}),
    ...(app?.extra ? { extra: app.extra } : {}),
  };
  return {
    message: internal ? INTERNAL_MESSAGE : details && !app ? 'Validation failed' : err.message,
    code: TRPC_ERROR_CODES_BY_KEY[err.code],
    data,
  };
}

/** The tRPC error envelope for failures that happen before tRPC runs (body limit, content type, request timer). */
export function trpcErrorEnvelope(code: TRPC_ERROR_CODE_KEY, message: string) {
  const err = new TRPCError({ code, message });
  return {
    status: getHTTPStatusCodeFromError(err),
    body: {
      error: {
        message,
        code: TRPC_ERROR_CODES_BY_KEY[code],
        data: { code, httpStatus: getHTTPStatusCodeFromError(err) },
      },
    },
  };
}
