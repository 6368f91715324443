/**
 * The seed's REST auth contract (post-deploy verification 1.1), on the same services as `auth.*`:
 * `POST /api/auth/register` → 201 `{ success, user: { id, email }, token }`, `POST /api/auth/login` → 200
 * `{ success, token, user }`, `POST /api/auth/logout`, `GET /api/auth/me`; and the OpenAPI document of every REST
 * route at `/api/openapi.json`. REST callers authenticate with the returned token as `Authorization: Bearer`; these
 * routes set no cookie (the browser app signs in through tRPC).
 */
import {
  loginInputSchema,
  restLoginResponseSchema,
  restMeResponseSchema,
  restRegisterResponseSchema,
  successSchema,
} from '@dawg/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { clearSessionCookie } from '../auth/cookies';
import type { AppDeps } from '../deps';
import { registerInput } from '../routers/auth';
import { callMeta } from '../services/audit';
import * as auth from '../services/auth';
import { SERVICE_NAME, VERSION } from '../version';
import { defineRestRoute, restRoutes } from './define';
import { buildOpenApiDocument } from './openapi';

export function registerAuthRoutes(app: FastifyInstance, deps: AppDeps): void {
  defineRestRoute(
    app,
    {
      method: 'POST',
      url: '/api/auth/register',
      auth: 'public',
      body: registerInput,
      response: restRegisterResponseSchema,
      status: 201,
      summary: 'Create an account and sign in',
      tags: ['auth'],
      config: { rateLimit: 'auth' },
      errors: { 409: 'An account with this email already exists' },
    },
    async ({ body, request }) => {
      const signedIn = await auth.register({ ...deps, log: request.log }, body, callMeta(request));
      return {
        success: true as const,
        user: { id: signedIn.user.id, email: signedIn.user.email },
        token: signedIn.token,
      };
    },
  );

  defineRestRoute(
    app,
    {
      method: 'POST',
      url: '/api/auth/login',
      auth: 'public',
      body: loginInputSchema,
      response: restLoginResponseSchema,
      summary: 'Sign in: a new session token',
      tags: ['auth'],
      config: { rateLimit: 'auth' },
      errors: { 401: 'Invalid email or password' },
    },
    async ({ body, request, auth: caller }) => {
      const signedIn = await auth.login({ ...deps, log: request.log }, body, callMeta(request), caller.session?.id);
      return { success: true as const, token: signedIn.token, user: auth.toPublicUser(signedIn.user) };
    },
  );

  defineRestRoute(
    app,
    {
      method: 'POST',
      url: '/api/auth/logout',
      auth: 'session',
      response: successSchema,
      summary: 'End the current session',
      tags: ['auth'],
    },
    async ({ request, reply, user, auth: caller }) => {
      await auth.logout({ ...deps, log: request.log }, user.id, caller.session!, callMeta(request));
      if (caller.credential === 'cookie') clearSessionCookie(reply, deps.env);
      return { success: true as const };
    },
  );

  defineRestRoute(
    app,
    {
      method: 'GET',
      url: '/api/auth/me',
      auth: 'user',
      response: restMeResponseSchema,
      summary: 'The signed-in user',
      tags: ['auth'],
    },
    ({ user }) => ({ user: auth.toPublicUser(user) }),
  );

  defineRestRoute(
    app,
    {
      method: 'GET',
      url: '/api/openapi.json',
      auth: 'public',
      response: z.record(z.string(), z.unknown()),
      summary: 'This document: every REST route of the api',
      tags: ['meta'],
    },
    () =>
      buildOpenApiDocument(restRoutes(app), {
        title: `${SERVICE_NAME} REST API`,
        version: VERSION,
        ...(deps.env.PUBLIC_URL ? { serverUrl: deps.env.PUBLIC_URL } : {}),
      }),
  );
}
