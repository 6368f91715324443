/**
 * The authorization suite's registry (test/authz.int.test.ts): for every tRPC procedure and every REST route, either
 * a fixture (who may call it and how to build a valid call) or an exemption with the reason it needs none. The
 * suite fails when a procedure or route has neither, so every feature adds its entries here in the change that adds
 * the procedure or route.
 *
 * Access kinds:
 * - `self`: acts on the caller's own account or creates under it; anonymous calls must be refused (UNAUTHORIZED).
 * - `owned`: acts on an existing resource of the owner (the input names it); anonymous → UNAUTHORIZED, another user
 *   → FORBIDDEN or NOT_FOUND.
 * - `admin`: admins only; anonymous → UNAUTHORIZED, a non-admin → FORBIDDEN.
 * `input` (and for REST `request`) is called once per phase with fresh users and must return a call the owner (or,
 * for `admin`, the admin) is allowed to make; for `owned` it creates the resource for `ctx.owner`.
 */
import { randomUUID } from 'node:crypto';
import { createApiKey, createSession, type Database, json, sessionPublicId } from '@dawg/db';
import type { TestUser } from '@dawg/testing';
import type { Kysely } from 'kysely';
import { insertProjectOf, insertReadyTrack, projectWithEdit, projectWithUndoneEdit } from '../helpers/studio';
import { STUDIO_IO_PROCEDURE_FIXTURES, STUDIO_IO_REST_FIXTURES } from './studio-io-fixtures';

export interface Actor {
  user: TestUser;
  /** A session token (usable as Bearer). */
  token: string;
  /** The account's password (every fixture user has the same, hashed once). */
  password: string;
}

export interface FixtureContext {
  db: Kysely<Database>;
  /** The user whose call must succeed (for `admin` fixtures: an admin). */
  owner: Actor;
  /** Another plain user (the refused caller of `owned` and `admin` fixtures). */
  other: Actor;
  /** A fresh plain user, e.g. the target of an admin action. */
  createUser(opts?: { role?: 'user' | 'admin' }): Promise<Actor>;
}

export type Access = 'self' | 'owned' | 'admin';

export interface ProcedureFixture {
  access: Access;
  input?: (ctx: FixtureContext) => unknown;
}

export interface RestRequest {
  /** Values for the route's `:params`. */
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Extra request headers (e.g. a multipart content type for a body given as a string). */
  headers?: Record<string, string>;
}

export interface RestFixture {
  access: Access;
  request?: (ctx: FixtureContext) => RestRequest | Promise<RestRequest>;
}

/** A generation row of the owner, as the worker would have left it queued. */
async function ownGeneration(ctx: FixtureContext): Promise<string> {
  const row = await ctx.db
    .insertInto('generations')
    .values({ owner_id: ctx.owner.user.id, prompt: 'authz fixture', provider: 'test', model: 'test' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface Exemption {
  reason: string;
  /** A valid input, for the bad-input suite (procedures with an input only). */
  input?: () => unknown;
}

/**
 * The Stripe-compatible server of the running suite (authz starts a fake; without one the billing fixtures that
 * need a customer cannot succeed). `secretKey` is the key the api was given.
 */
export const stripeFixture: { url?: string; secretKey?: string } = {};

/** A Stripe customer for the owner, made through the fake's API and stored like checkout would. */
async function ownStripeCustomer(ctx: FixtureContext): Promise<void> {
  if (!stripeFixture.url) return;
  const res = await fetch(`${stripeFixture.url}/v1/customers`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${stripeFixture.secretKey ?? 'sk_test_authz'}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ email: ctx.owner.user.email }).toString(),
  });
  const customer = (await res.json()) as { id: string };
  await ctx.db
    .updateTable('users')
    .set({ stripe_customer_id: customer.id })
    .where('id', '=', ctx.owner.user.id)
    .execute();
}

/**
 * The AI producer: a chat turn runs on after `chat.send` answers, and its rows (assistant message, ledger) must not
 * land between a fixture's snapshots. Every chat fixture first waits until no turn is running.
 */
async function chatIdle(ctx: FixtureContext): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const running = await ctx.db
      .selectFrom('chat_turns')
      .select('id')
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (!running) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('a chat turn is still running after 5 s');
}

async function ownConversation(ctx: FixtureContext): Promise<string> {
  await chatIdle(ctx);
  const row = await ctx.db
    .insertInto('conversations')
    .values({ user_id: ctx.owner.user.id, title: 'authz chat' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A finished turn of the owner (its stream long gone: the subscription answers from the row). */
async function ownFinishedTurn(ctx: FixtureContext): Promise<string> {
  const conversationId = await ownConversation(ctx);
  const turn = await ctx.db
    .insertInto('chat_turns')
    .values({
      conversation_id: conversationId,
      user_id: ctx.owner.user.id,
      status: 'succeeded',
      finished_at: new Date(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await ctx.db
    .insertInto('messages')
    .values([
      { conversation_id: conversationId, turn_id: turn.id, role: 'user', content: 'authz question' },
      { conversation_id: conversationId, turn_id: turn.id, role: 'assistant', content: 'authz answer' },
    ])
    .execute();
  return turn.id;
}

// ---- tRPC procedures ------------------------------------------------------------------------------------------

export const PROCEDURE_FIXTURES: Record<string, ProcedureFixture> = {
  'auth.logout': { access: 'self' },
  'auth.changePassword': {
    access: 'self',
    input: (ctx) => ({ currentPassword: ctx.owner.password, newPassword: 'Another-Harmonica-Tune-71' }),
  },
  'auth.deleteAccount': { access: 'self', input: (ctx) => ({ password: ctx.owner.password }) },
  'auth.sessions': { access: 'self' },
  'auth.requestEmailVerification': { access: 'self' },
  'auth.revokeSession': {
    access: 'owned',
    input: async (ctx) => {
      const { session } = await createSession(ctx.db, ctx.owner.user.id);
      return { id: sessionPublicId(session.id) };
    },
  },
  'demo.keep': {
    access: 'self',
    input: async (ctx) => {
      // The owner as a demo account (what `demo.start` makes), keeping its work under a fresh address.
      await ctx.db
        .updateTable('users')
        .set({ ephemeral: true, ephemeral_expires_at: new Date(Date.now() + 3_600_000), ephemeral_ip: 'ip:127.0.0.1' })
        .where('id', '=', ctx.owner.user.id)
        .execute();
      return { email: `kept-${randomUUID()}@example.com`, password: 'Kept-Demo-Work-Owl-71', name: 'Kept' };
    },
  },
  'apiKeys.list': { access: 'self' },
  'apiKeys.create': { access: 'self', input: () => ({ name: 'authz' }) },
  'apiKeys.revoke': {
    access: 'owned',
    input: async (ctx) => ({ id: (await createApiKey(ctx.db, ctx.owner.user.id, { name: 'authz' })).apiKey.id }),
  },
  'generation.create': { access: 'self', input: () => ({ prompt: 'authz lofi beat', duration: 30 }) },
  'generation.get': { access: 'owned', input: async (ctx) => ({ id: await ownGeneration(ctx) }) },
  'generation.list': { access: 'self', input: () => ({}) },
  'generation.onProgress': { access: 'owned', input: async (ctx) => ({ id: await ownGeneration(ctx) }) },
  'generation.cancel': { access: 'owned', input: async (ctx) => ({ id: await ownGeneration(ctx) }) },
  'generation.cacheLookup': { access: 'self', input: () => ({ prompt: 'authz cached beat', duration: 30 }) },
  'generation.reuse': {
    access: 'owned',
    input: async (ctx) => {
      // A finished song with its audio: what a cache offer names.
      const generation = await ctx.db
        .insertInto('generations')
        .values({
          owner_id: ctx.owner.user.id,
          prompt: 'authz reuse',
          provider: 'test',
          model: 'test-tone-1',
          status: 'succeeded',
          stage: 'done',
          progress: 100,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await ctx.db
        .insertInto('tracks')
        .values({
          owner_id: ctx.owner.user.id,
          generation_id: generation.id,
          clip_index: 0,
          source: 'generated',
          status: 'ready',
          title: 'authz reuse',
          provider: 'test',
          model: 'test-tone-1',
          mp3_key: `users/${ctx.owner.user.id}/authz-reuse.mp3`,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { generationId: generation.id };
    },
  },
  'generation.extend': {
    access: 'owned',
    input: async (ctx) => {
      // A finished 30 s take of the test provider at 120 bpm (2 s bars): extended from bar 4.
      const track = await ctx.db
        .insertInto('tracks')
        .values({
          owner_id: ctx.owner.user.id,
          source: 'generated',
          status: 'ready',
          title: 'authz extend',
          provider: 'test',
          model: 'test-tone-1',
          bpm: 120,
          duration_sec: 30,
          params: json({
            mode: 'simple',
            prompt: 'authz extend',
            instrumental: true,
            durationSec: 30,
            seed: 7,
            variants: 1,
          }),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { trackId: track.id, continueAt: 8, duration: 10 };
    },
  },
  'project.list': { access: 'self' },
  'project.create': { access: 'self', input: () => ({ name: 'Authz project', bpm: 96, key: 'A minor' }) },
  'project.get': { access: 'owned', input: async (ctx) => ({ id: await insertProjectOf(ctx.db, ctx.owner.user.id) }) },
  'project.update': {
    access: 'owned',
    input: async (ctx) => ({ id: await insertProjectOf(ctx.db, ctx.owner.user.id), expectedVersion: 1, bpm: 100 }),
  },
  'project.delete': {
    access: 'owned',
    input: async (ctx) => ({ id: await insertProjectOf(ctx.db, ctx.owner.user.id) }),
  },
  'arrangement.applyOps': {
    access: 'owned',
    input: async (ctx) => {
      const projectId = await insertProjectOf(ctx.db, ctx.owner.user.id);
      const track = await insertReadyTrack(ctx.db, ctx.owner.user.id);
      const laneId = randomUUID();
      return {
        projectId,
        expectedVersion: 1,
        ops: [
          { type: 'addLane', lane: { id: laneId, name: 'Lead', gainDb: -3, pan: 0.25 } },
          { type: 'addClip', clip: { laneId, trackId: track.id, startSec: 2, lengthSec: 8, fadeInSec: 0.5 } },
        ],
      };
    },
  },
  'arrangement.undo': {
    access: 'owned',
    input: async (ctx) => ({ projectId: await projectWithEdit(ctx.db, ctx.owner.user.id), expectedVersion: 2 }),
  },
  'arrangement.redo': {
    access: 'owned',
    input: async (ctx) => ({ projectId: await projectWithUndoneEdit(ctx.db, ctx.owner.user.id), expectedVersion: 3 }),
  },
  'track.list': { access: 'self', input: () => ({ search: 'authz' }) },
  'track.get': {
    access: 'owned',
    input: async (ctx) => ({ id: (await insertReadyTrack(ctx.db, ctx.owner.user.id)).id }),
  },
  'track.rename': {
    access: 'owned',
    input: async (ctx) => ({ id: (await insertReadyTrack(ctx.db, ctx.owner.user.id)).id, title: 'Renamed' }),
  },
  'track.delete': {
    access: 'owned',
    input: async (ctx) => ({ id: (await insertReadyTrack(ctx.db, ctx.owner.user.id)).id }),
  },
  'track.urls': {
    access: 'owned',
    input: async (ctx) => ({ id: (await insertReadyTrack(ctx.db, ctx.owner.user.id)).id, download: true }),
  },
  ...STUDIO_IO_PROCEDURE_FIXTURES,
  'admin.auditLogs': { access: 'admin', input: () => ({ limit: 10 }) },
  'admin.setUserPlan': {
    access: 'admin',
    input: async (ctx) => ({ userId: (await ctx.createUser()).user.id, plan: 'pro' }),
  },
  'billing.get': { access: 'self' },
  'billing.createCheckoutSession': { access: 'self', input: () => ({ plan: 'pro' }) },
  'billing.createPortalSession': {
    access: 'self',
    input: async (ctx) => {
      await ownStripeCustomer(ctx);
      return undefined;
    },
  },
  'usage.get': { access: 'self' },
  'usage.estimateGeneration': { access: 'self', input: () => ({ prompt: 'authz lofi beat', duration: 30 }) },
  'usage.breakdown': { access: 'admin', input: () => ({ limit: 10 }) },
  'userBudget.get': { access: 'admin', input: async (ctx) => ({ userId: (await ctx.createUser()).user.id }) },
  'userBudget.upsert': {
    access: 'admin',
    input: async (ctx) => ({ userId: (await ctx.createUser()).user.id, monthlyLimitUsd: 5 }),
  },
  // Only the caller's own notices are listed or marked (others' ids are ignored): account-scoped, like auth.sessions.
  'notification.list': { access: 'self', input: () => ({}) },
  'notification.markRead': {
    access: 'self',
    input: async (ctx) => {
      const row = await ctx.db
        .insertInto('notifications')
        .values({ user_id: ctx.owner.user.id, kind: 'system', title: 'authz notice' })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { ids: [row.id] };
    },
  },
  'admin.setUserDisabled': {
    access: 'admin',
    input: async (ctx) => ({ userId: (await ctx.createUser()).user.id, disabled: true }),
  },
  'chat.send': {
    access: 'self',
    input: async (ctx) => {
      await chatIdle(ctx);
      return { message: 'authz hello' };
    },
  },
  'chat.onEvent': { access: 'owned', input: async (ctx) => ({ turnId: await ownFinishedTurn(ctx) }) },
  'chat.stop': { access: 'owned', input: async (ctx) => ({ turnId: await ownFinishedTurn(ctx) }) },
  'chat.list': {
    access: 'self',
    input: async (ctx) => {
      await chatIdle(ctx);
      return {};
    },
  },
  'chat.get': { access: 'owned', input: async (ctx) => ({ id: await ownConversation(ctx) }) },
  'chat.rename': { access: 'owned', input: async (ctx) => ({ id: await ownConversation(ctx), title: 'Renamed' }) },
  'chat.delete': { access: 'owned', input: async (ctx) => ({ id: await ownConversation(ctx) }) },
  'chat.listMemories': { access: 'self' },
  'chat.deleteMemory': {
    access: 'owned',
    input: async (ctx) => {
      await chatIdle(ctx);
      const row = await ctx.db
        .insertInto('ai_memories')
        .values({ user_id: ctx.owner.user.id, content: 'authz memory' })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: row.id };
    },
  },
};

export const PROCEDURE_EXEMPTIONS: Record<string, Exemption> = {
  'health.get': { reason: 'public health report (same as GET /health)' },
  'health.live': { reason: 'public health report, pushed' },
  'system.version': { reason: 'public: what is deployed' },
  'auth.register': {
    reason: 'public: creates an account (rate limited)',
    input: () => ({ email: `valid-${Date.now()}@example.com`, password: 'Valid-Password-Input-1', name: 'Valid' }),
  },
  'auth.login': {
    reason: 'public: exchanges credentials for a session (rate limited)',
    input: () => ({ email: 'valid@example.com', password: 'Valid-Password-Input-1' }),
  },
  'auth.me': { reason: 'public: answers null for anonymous callers' },
  'auth.requestPasswordReset': {
    reason: 'public: mails a reset link to an address; the same answer whether or not it has an account',
    input: () => ({ email: 'valid@example.com' }),
  },
  'auth.resetPassword': {
    reason: 'public: the emailed single-use link is the credential (rate limited)',
    input: () => ({ token: 'A'.repeat(43), newPassword: 'Valid-Password-Input-1' }),
  },
  'auth.verifyEmail': {
    reason: 'public: the emailed single-use link is the credential (rate limited)',
    input: () => ({ token: 'A'.repeat(43) }),
  },
  'demo.status': { reason: 'public: whether this server runs demo mode, and its limits' },
  'demo.start': {
    reason:
      'public: gives a visitor who is not signed in an ephemeral account of their own (refused when demo mode is off; limited per address)',
  },
  'auth.devOutbox': { reason: 'development only (no SMTP, not production): the local outbox; empty otherwise' },
};

// ---- REST routes (keys: `METHOD /url` as registered) ----------------------------------------------------------

export const REST_FIXTURES: Record<string, RestFixture> = {
  ...STUDIO_IO_REST_FIXTURES,
  'GET /monitoring/dashboard': { access: 'admin' },
  'POST /api/test/openai': { access: 'admin', request: () => ({ body: { test: true } }) },
  'POST /api/test/anthropic': { access: 'admin', request: () => ({ body: { test: true } }) },
  'POST /api/test/s3': { access: 'admin', request: () => ({ body: { test: true } }) },
  'POST /api/auth/logout': { access: 'self' },
  'GET /api/auth/me': { access: 'self' },
  'POST /api/generate': { access: 'self', request: () => ({ body: { prompt: 'authz lofi beat', duration: 30 } }) },
  'GET /api/tracks': { access: 'self', request: () => ({ query: { source: 'generated', limit: '10' } }) },
  'POST /api/chat': {
    access: 'self',
    request: async (ctx) => {
      await chatIdle(ctx);
      return { body: { message: 'authz hello', conversationId: null } };
    },
  },
  'GET /api/cost-monitoring/usage': { access: 'self' },
  'GET /api/cost-monitoring/breakdown': { access: 'admin', request: () => ({ query: { limit: '10' } }) },
  'GET /api/generate/:id/status': {
    access: 'owned',
    request: async (ctx) => ({ params: { id: await ownGeneration(ctx) } }),
  },
};

export const REST_EXEMPTIONS: Record<string, Exemption> = {
  'GET /': { reason: 'public: service name and version' },
  'GET /health': { reason: 'public health check (seed deployment 4.1)' },
  'POST /api/stripe/webhook': { reason: "public: Stripe's signature over the raw body is the credential" },
  'POST /api/suno/callback': { reason: 'public: the per-generation HMAC signature in its URL is the credential' },
  'GET /api/ai-brain/health': { reason: 'public component health (seed deployment 4.2)' },
  'GET /api/voice/health': { reason: 'public component health (seed deployment 4.2)' },
  'POST /api/auth/register': { reason: 'public: creates an account (rate limited)' },
  'POST /api/auth/login': { reason: 'public: exchanges credentials for a token (rate limited)' },
  'GET /api/openapi.json': { reason: 'public API description' },
};
