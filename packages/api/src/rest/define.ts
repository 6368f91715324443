/**
 * `defineRestRoute`: the one way to add a REST route. It checks the caller (auth: public | user | session | admin,
 * with the seed's 401 wording), validates body, query and params with zod (400 `{ error: "Validation failed",
 * details: [{ path, message }] }`, paths relative to the part), passes AppErrors to the shared error mapping, shapes
 * the answer with the response schema (so nothing undeclared leaks), and records the route for the OpenAPI document
 * (`/api/openapi.json`) and for the authorization test suite. Routes added later by any feature appear in both.
 *
 *   defineRestRoute(app, { method: 'POST', url: '/api/things', auth: 'user', body: thingInput,
 *     response: thingSchema, status: 201, summary: 'Create a thing' }, async ({ body, user }) => create(user, body));
 */
import { AppError } from '@dawg/shared';
import type {
  FastifyContextConfig,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HTTPMethods,
  RouteOptions,
} from 'fastify';
import type { Server } from 'node:http';
import type { z } from 'zod';
import { type RequestAuth, type SessionUser, unauthorizedMessage } from '../auth/context-user';
import { validationDetails } from '../errors/details';
import { assertNoNulCharacters } from '../errors/nul';
import { audit, callMeta } from '../services/audit';
import type { AppDeps } from '../deps';

/**
 * public: anyone (the handler gets `user` when there is one); user: a session or an API key; session: a signed-in
 * session only (account management); admin: role admin (every call audited).
 */
export type RestAuth = 'public' | 'user' | 'session' | 'admin';
export type RestMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

type Schema = z.ZodType;
type Out<S> = S extends Schema ? z.output<S> : undefined;

export interface RestRouteSpec<
  A extends RestAuth = RestAuth,
  B extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  P extends Schema | undefined = undefined,
  R extends Schema | undefined = undefined,
> {
  method: RestMethod;
  /** Fastify syntax (`/api/generate/:id/status`). */
  url: string;
  auth: A;
  body?: B;
  query?: Q;
  params?: P;
  /** The success body; the handler's result is parsed with it (unknown keys are dropped). */
  response?: R;
  /** The success status (default 200). */
  status?: number;
  summary: string;
  description?: string;
  tags?: readonly string[];
  /** Fastify route config (`timeout`, `rateLimit`, ...). */
  config?: FastifyContextConfig;
  /** Other statuses this route answers with, for the document (e.g. `{ 404: 'No such generation' }`). */
  errors?: Record<number, string>;
  /** Fastify body limit for this route (bytes), when it differs from BODY_LIMIT_BYTES. */
  bodyLimit?: number;
}

export interface RestHandlerInput<A extends RestAuth, B, Q, P> {
  body: B;
  query: Q;
  params: P;
  /** The caller; never null unless auth is 'public'. */
  user: A extends 'public' ? SessionUser | null : SessionUser;
  auth: RequestAuth;
  request: FastifyRequest;
  reply: FastifyReply;
}

export type RestHandler<A extends RestAuth, B, Q, P, R> = (
  input: RestHandlerInput<A, B, Q, P>,
) => Promise<R extends Schema ? z.input<R> : unknown> | (R extends Schema ? z.input<R> : unknown);

/** What the OpenAPI document and the authorization suite know of a route. */
export interface RestRouteRecord {
  method: RestMethod;
  url: string;
  auth: RestAuth;
  body?: Schema;
  query?: Schema;
  params?: Schema;
  response?: Schema;
  status: number;
  summary: string;
  description?: string;
  tags?: readonly string[];
  errors?: Record<number, string>;
}

/** Per server (child plugin instances share the root's http.Server), in registration order. */
const registries = new WeakMap<Server, RestRouteRecord[]>();
const auditDbs = new WeakMap<Server, Pick<AppDeps, 'db'>>();

/** Called once by buildServer: where admin routes write their audit rows. */
export function registerRestSupport(app: FastifyInstance, deps: Pick<AppDeps, 'db'>): void {
  auditDbs.set(app.server, deps);
}

export function restRoutes(app: FastifyInstance): readonly RestRouteRecord[] {
  return registries.get(app.server) ?? [];
}

function record(app: FastifyInstance, route: RestRouteRecord): void {
  let list = registries.get(app.server);
  if (!list) {
    list = [];
    registries.set(app.server, list);
  }
  if (list.some((r) => r.method === route.method && r.url === route.url)) {
    throw new Error(`REST route ${route.method} ${route.url} is defined twice`);
  }
  list.push(route);
}

function parsePart<S extends Schema | undefined>(schema: S, value: unknown): Out<S> {
  if (!schema) return undefined as Out<S>;
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AppError('BAD_REQUEST', 'Validation failed', { details: validationDetails(result.error) ?? [] });
  }
  return result.data as Out<S>;
}

/** The caller check of a route; throws the seed's 401 or a 403. */
export function authorize(auth: RequestAuth, level: RestAuth): void {
  if (level === 'public') return;
  if (!auth.user) throw new AppError('UNAUTHORIZED', unauthorizedMessage(auth));
  if (level === 'session' && !auth.session) {
    throw new AppError('FORBIDDEN', 'This action needs a signed-in session, not an API key');
  }
  if (level === 'admin' && auth.user.role !== 'admin') throw new AppError('FORBIDDEN', 'Admin role required');
}

export function defineRestRoute<
  A extends RestAuth,
  B extends Schema | undefined = undefined,
  Q extends Schema | undefined = undefined,
  P extends Schema | undefined = undefined,
  R extends Schema | undefined = undefined,
>(app: FastifyInstance, spec: RestRouteSpec<A, B, Q, P, R>, handler: RestHandler<A, Out<B>, Out<Q>, Out<P>, R>): void {
  const status = spec.status ?? 200;
  record(app, {
    method: spec.method,
    url: spec.url,
    auth: spec.auth,
    status,
    summary: spec.summary,
    ...(spec.body ? { body: spec.body } : {}),
    ...(spec.query ? { query: spec.query } : {}),
    ...(spec.params ? { params: spec.params } : {}),
    ...(spec.response ? { response: spec.response } : {}),
    ...(spec.description ? { description: spec.description } : {}),
    ...(spec.tags ? { tags: spec.tags } : {}),
    ...(spec.errors ? { errors: spec.errors } : {}),
  });

  const route: RouteOptions = {
    method: spec.method as HTTPMethods,
    url: spec.url,
    ...(spec.config ? { config: spec.config } : {}),
    ...(spec.bodyLimit ? { bodyLimit: spec.bodyLimit } : {}),
    handler: async (request, reply) => {
      const auth = request.auth;
      authorize(auth, spec.auth);
      assertNoNulCharacters(request.params);
      assertNoNulCharacters(request.query);
      if (spec.body) assertNoNulCharacters(request.body);
      const body = parsePart(spec.body, request.body) as Out<B>;
      const query = parsePart(spec.query, request.query) as Out<Q>;
      const params = parsePart(spec.params, request.params) as Out<P>;
      const result = await handler({
        body,
        query,
        params,
        user: auth.user as RestHandlerInput<A, unknown, unknown, unknown>['user'],
        auth,
        request,
        reply,
      });
      if (reply.sent) return reply;
      let payload: unknown = result;
      if (spec.response) {
        const shaped = spec.response.safeParse(result);
        // Our own fault, never the caller's: not a 400.
        if (!shaped.success) throw new Error(`${spec.method} ${spec.url}: response does not match its schema`);
        payload = shaped.data;
      }
      return reply.code(reply.statusCode === 200 ? status : reply.statusCode).send(payload);
    },
  };
  if (spec.auth === 'admin') {
    // Every admin call, allowed or refused, is on the audit trail (seed hardening 8).
    route.onResponse = async (request, reply) => {
      const deps = auditDbs.get(request.server.server);
      if (!deps) return;
      await audit({ db: deps.db, log: request.log }, callMeta(request), {
        userId: request.auth?.user?.id ?? null,
        action: `admin.${spec.method} ${spec.url}`,
        statusCode: reply.statusCode,
        durationMs: reply.elapsedTime,
      });
    };
  }
  app.route(route);
}
