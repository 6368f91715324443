/**
 * The OpenAPI 3.1 document of every REST route recorded by `defineRestRoute`, built from the routes' zod schemas
 * with zod 4's `z.toJSONSchema` (request schemas as accepted input, responses as produced output). Built when asked
 * for, so it always lists exactly the routes the running server has.
 */
import { SESSION_COOKIE_NAME } from '@dawg/shared';
import { z } from 'zod';
import type { RestAuth, RestRouteRecord } from './define';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

const SECURITY: Record<RestAuth, Record<string, string[]>[]> = {
  public: [],
  user: [{ bearerAuth: [] }, { apiKeyAuth: [] }, { cookieAuth: [] }],
  session: [{ bearerAuth: [] }, { cookieAuth: [] }],
  admin: [{ bearerAuth: [] }, { apiKeyAuth: [] }, { cookieAuth: [] }],
};

function errorResponse(description: string, ref = '#/components/schemas/Error') {
  return { description, content: { 'application/json': { schema: { $ref: ref } } } };
}

/** `/api/generate/:id/status` → `/api/generate/{id}/status`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function operationId(route: RestRouteRecord): string {
  const words = route.url
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1));
  return route.method.toLowerCase() + words.join('');
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  const json = jsonSchema(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

function operation(route: RestRouteRecord): JsonSchema {
  const responses: Record<string, unknown> = {
    [String(route.status)]: {
      description: route.summary,
      ...(route.response ? { content: { 'application/json': { schema: jsonSchema(route.response, 'output') } } } : {}),
    },
  };
  if (route.body || route.query || route.params) {
    responses['400'] = errorResponse('Validation failed', '#/components/schemas/ValidationError');
  }
  if (route.auth !== 'public') responses['401'] = errorResponse('No token provided, invalid token or token expired');
  if (route.auth === 'session' || route.auth === 'admin') responses['403'] = errorResponse('Forbidden');
  responses['429'] = errorResponse('Too many requests', '#/components/schemas/RateLimited');
  for (const [status, description] of Object.entries(route.errors ?? {}))
    responses[status] = errorResponse(description);

  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.tags ? { tags: route.tags } : {}),
    security: SECURITY[route.auth],
    parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
    ...(route.body
      ? {
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } },
        }
      : {}),
    responses,
  };
}

export function buildOpenApiDocument(
  routes: readonly RestRouteRecord[],
  info: { title: string; version: string; serverUrl?: string },
): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.url);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A session token (from login) or an API key' },
        apiKeyAuth: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        cookieAuth: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE_NAME },
      },
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
        ValidationError: {
          type: 'object',
          properties: {
            error: { const: 'Validation failed' },
            details: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  path: { type: 'array', items: { type: ['string', 'number'] } },
                  message: { type: 'string' },
                },
                required: ['path', 'message'],
              },
            },
          },
          required: ['error', 'details'],
        },
        RateLimited: {
          type: 'object',
          properties: { error: { type: 'string' }, retryAfter: { type: 'string' } },
          required: ['error', 'retryAfter'],
        },
      },
    },
  };
}
