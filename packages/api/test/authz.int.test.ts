/**
 * Authorization over EVERY tRPC procedure (`appRouter._def.procedures`) and EVERY REST route recorded by
 * `defineRestRoute`. Each must have a fixture or a listed exemption (test/authz/fixtures.ts), else this suite fails.
 * For each fixture: the owner's call succeeds; then, with fresh users and a fresh resource, anonymous calls are
 * refused with UNAUTHORIZED, another user's with FORBIDDEN or NOT_FOUND (owned resources), a non-admin's with
 * FORBIDDEN (admin procedures), and a snapshot of the database (row counts and a checksum of every table) shows the
 * refused calls changed nothing; finally the owner's call on that same resource still succeeds.
 */
import { type Database, hashPassword } from '@dawg/db';
import {
  createTestDatabase,
  createUser,
  type FakeStripe,
  type S3ServerHandle,
  startFakeStripe,
  startS3Server,
  type TestDatabase,
} from '@dawg/testing';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { appRouter } from '../src/router';
import { restRoutes, type RestRouteRecord } from '../src/rest/define';
import {
  type Access,
  type Actor,
  type FixtureContext,
  PROCEDURE_EXEMPTIONS,
  PROCEDURE_FIXTURES,
  REST_EXEMPTIONS,
  REST_FIXTURES,
  type RestRequest,
  stripeFixture,
} from './authz/fixtures';
import { bearer, rest, startApi, trpcMutation, trpcQuery, WEB_ORIGIN, type TestApi } from './helpers/api';

const PASSWORD = 'Fixture-Password-Owl-93';

let database: TestDatabase;
let api: TestApi;
let passwordHash: string;
let stripe: FakeStripe;
/** Uploads store objects: an S3-protocol server for them. */
let s3server: S3ServerHandle;

beforeAll(async () => {
  database = await createTestDatabase();
  passwordHash = await hashPassword(PASSWORD);
  // Billing procedures talk to Stripe: a local Stripe-compatible server stands in for it.
  stripe = await startFakeStripe();
  stripeFixture.url = stripe.url;
  stripeFixture.secretKey = 'sk_test_authz';
  // The suite makes many calls from one address; the limits have their own tests.
  s3server = await startS3Server();
  api = await startApi({
    database,
    label: 'authz',
    s3: s3server,
    overrides: {
      WHITELISTED_IPS: '127.0.0.1',
      STRIPE_SECRET_KEY: stripeFixture.secretKey,
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_WEBHOOK_SECRET: 'whsec_authz',
    },
  });
});

afterAll(async () => {
  await api?.close();
  await stripe?.close();
  await s3server?.stop();
  await database?.drop();
});

type ProcedureType = 'query' | 'mutation' | 'subscription';

const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: ProcedureType } }>;

async function actor(role: 'user' | 'admin' = 'user'): Promise<Actor> {
  const { user, token } = await createUser(database.db, { role, passwordHash });
  return { user, token, password: PASSWORD };
}

async function context(access: Access): Promise<FixtureContext> {
  const [owner, other] = await Promise.all([actor(access === 'admin' ? 'admin' : 'user'), actor()]);
  return { db: database.db, owner, other, createUser: (opts) => actor(opts?.role) };
}

// ---- The snapshot: row counts and a checksum of every table --------------------------------------------------

/**
 * Bookkeeping that a refused call may legitimately touch: the sliding-session and key-usage timestamps written when
 * a caller is identified, and the audit trail of refusals (rows with status >= 400 are what an audit is for).
 */
const VOLATILE_COLUMNS: Record<string, string[]> = {
  sessions: ['last_seen_at', 'expires_at'],
  api_keys: ['last_used_at'],
};

async function snapshot(db: Kysely<Database>): Promise<Record<string, { rows: number; checksum: string | null }>> {
  const { rows: tables } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const out: Record<string, { rows: number; checksum: string | null }> = {};
  for (const { table_name: table } of tables) {
    const drop = (VOLATILE_COLUMNS[table] ?? []).map((c) => sql` - ${c}::text`);
    const filter = table === 'audit_logs' ? sql`where t.status_code is null or t.status_code < 400` : sql``;
    const { rows } = await sql<{ rows: number; checksum: string | null }>`
      select count(*)::int as rows,
             md5(string_agg((to_jsonb(t)${sql.join(drop, sql``)})::text, ',' order by (to_jsonb(t)${sql.join(drop, sql``)})::text)) as checksum
      from ${sql.table(table)} t ${filter}`.execute(db);
    out[table] = rows[0]!;
  }
  return out;
}

// ---- Calling ----------------------------------------------------------------------------------------------------

interface Outcome {
  ok: boolean;
  /** tRPC error code, or the HTTP status for REST. */
  code: string;
}

function trpcOutcome(res: { status: number; body: any }): Outcome {
  if (res.status === 200 && res.body?.result) return { ok: true, code: 'OK' };
  return { ok: false, code: String(res.body?.error?.data?.code ?? res.status) };
}

/**
 * A subscription over WebSocket. A generator subscription checks its caller when it first runs, after tRPC already
 * sent `started`: so data = allowed, an error = refused with its code, and `started` with neither for 1 s = allowed.
 */
function subscribe(path: string, input: unknown, token: string | null): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${api.wsBase}/trpc${token ? '?connectionParams=1' : ''}`, {
      headers: { origin: WEB_ORIGIN },
    });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`subscription ${path}: no answer within 5 s`));
    }, 5_000);
    let quiet: NodeJS.Timeout | undefined;
    const finish = (outcome: Outcome) => {
      clearTimeout(timer);
      clearTimeout(quiet);
      ws.close();
      resolve(outcome);
    };
    ws.once('error', reject);
    ws.once('open', () => {
      if (token) ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path, input: input ?? null } }));
    });
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { id: number | null; result?: { type?: string }; error?: any };
      if (msg.error) return finish({ ok: false, code: String(msg.error.data?.code) });
      if (msg.id !== 1) return;
      const allowed = () => {
        ws.send(JSON.stringify({ id: 1, method: 'subscription.stop' }));
        finish({ ok: true, code: 'OK' });
      };
      if (msg.result?.type === 'data') allowed();
      else if (msg.result?.type === 'started') quiet = setTimeout(allowed, 1_000);
    });
  });
}

async function callProcedure(path: string, input: unknown, token: string | null): Promise<Outcome> {
  const type = procedures[path]!._def.type;
  const headers = { origin: WEB_ORIGIN, ...(token ? bearer(token) : {}) };
  if (type === 'query') return trpcOutcome(await trpcQuery(api.base, path, input, headers));
  if (type === 'mutation') return trpcOutcome(await trpcMutation(api.base, path, input, headers));
  return subscribe(path, input, token);
}

function routeKey(route: RestRouteRecord): string {
  return `${route.method} ${route.url}`;
}

async function callRoute(route: RestRouteRecord, request: RestRequest, token: string | null): Promise<Outcome> {
  const url = route.url.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = request.params?.[name];
    if (value === undefined) throw new Error(`${routeKey(route)}: the fixture gives no value for :${name}`);
    return encodeURIComponent(value);
  });
  const qs = request.query ? `?${new URLSearchParams(request.query).toString()}` : '';
  const res = await rest(api.base, route.method, url + qs, {
    headers: { origin: WEB_ORIGIN, ...request.headers, ...(token ? bearer(token) : {}) },
    ...(request.body !== undefined ? { body: request.body } : {}),
  });
  return { ok: res.status >= 200 && res.status < 300, code: String(res.status) };
}

const REFUSED_OTHER = { trpc: ['FORBIDDEN', 'NOT_FOUND'], rest: ['403', '404'] };

// ---- The suite --------------------------------------------------------------------------------------------------

describe('coverage', () => {
  it('every procedure and REST route has a fixture or a listed exemption, and nothing stale is listed', () => {
    const paths = Object.keys(procedures).sort();
    const routes = restRoutes(api.server.app).map(routeKey).sort();
    const missing = [
      ...paths.filter((p) => !PROCEDURE_FIXTURES[p] && !PROCEDURE_EXEMPTIONS[p]).map((p) => `procedure ${p}`),
      ...routes.filter((r) => !REST_FIXTURES[r] && !REST_EXEMPTIONS[r]).map((r) => `route ${r}`),
    ];
    expect(missing, 'add a fixture or an exemption in test/authz/fixtures.ts').toEqual([]);
    const both = [
      ...paths.filter((p) => PROCEDURE_FIXTURES[p] && PROCEDURE_EXEMPTIONS[p]),
      ...routes.filter((r) => REST_FIXTURES[r] && REST_EXEMPTIONS[r]),
    ];
    expect(both, 'listed both as fixture and as exemption').toEqual([]);
    const stale = [
      ...Object.keys({ ...PROCEDURE_FIXTURES, ...PROCEDURE_EXEMPTIONS }).filter((p) => !paths.includes(p)),
      ...Object.keys({ ...REST_FIXTURES, ...REST_EXEMPTIONS }).filter((r) => !routes.includes(r)),
    ];
    expect(stale, 'entries for procedures or routes that do not exist').toEqual([]);
    for (const [key, exemption] of Object.entries({ ...PROCEDURE_EXEMPTIONS, ...REST_EXEMPTIONS })) {
      expect(exemption.reason.length, `${key}: an exemption needs a reason`).toBeGreaterThan(10);
    }
  });

  it('exempts only REST routes declared public, and fixtures agree with the declared auth', () => {
    for (const route of restRoutes(api.server.app)) {
      const key = routeKey(route);
      if (REST_EXEMPTIONS[key]) expect(route.auth, `${key} is exempt but declared ${route.auth}`).toBe('public');
      const fixture = REST_FIXTURES[key];
      if (fixture) {
        expect(route.auth, key).not.toBe('public');
        expect(fixture.access === 'admin', `${key}: admin fixture iff admin route`).toBe(route.auth === 'admin');
      }
    }
  });

  it('the snapshot sees a change in any table', async () => {
    const before = await snapshot(database.db);
    const { user } = await createUser(database.db);
    await database.db.updateTable('users').set({ name: 'changed' }).where('id', '=', user.id).execute();
    const after = await snapshot(database.db);
    expect(after.users).not.toEqual(before.users);
    expect(after.sessions!.rows).toBe(before.sessions!.rows + 1);
  });
});

describe('procedures', () => {
  for (const [path, fixture] of Object.entries(PROCEDURE_FIXTURES)) {
    it(`${path} (${fixture.access})`, async () => {
      expect(procedures[path], `${path} is not a procedure`).toBeDefined();
      const first = await context(fixture.access);
      const firstCall = await callProcedure(path, await fixture.input?.(first), first.owner.token);
      expect(firstCall, `the owner's call of ${path}`).toEqual({ ok: true, code: 'OK' });

      const ctx = await context(fixture.access);
      const input = await fixture.input?.(ctx);
      const before = await snapshot(database.db);
      expect(await callProcedure(path, input, null), 'anonymous').toEqual({ ok: false, code: 'UNAUTHORIZED' });
      if (fixture.access === 'owned') {
        const other = await callProcedure(path, input, ctx.other.token);
        expect(REFUSED_OTHER.trpc, `another user got ${other.code}`).toContain(other.code);
      }
      if (fixture.access === 'admin') {
        expect(await callProcedure(path, input, ctx.other.token), 'non-admin').toEqual({
          ok: false,
          code: 'FORBIDDEN',
        });
      }
      expect(await snapshot(database.db), 'the refused calls changed the database').toEqual(before);
      expect(await callProcedure(path, input, ctx.owner.token), 'the owner, after the refusals').toEqual({
        ok: true,
        code: 'OK',
      });
    });
  }
});

describe('REST routes', () => {
  for (const [key, fixture] of Object.entries(REST_FIXTURES)) {
    it(`${key} (${fixture.access})`, async () => {
      const route = restRoutes(api.server.app).find((r) => routeKey(r) === key);
      expect(route, `${key} is not a recorded route`).toBeDefined();
      const first = await context(fixture.access);
      const firstCall = await callRoute(route!, (await fixture.request?.(first)) ?? {}, first.owner.token);
      expect(firstCall.ok, `the owner's call got ${firstCall.code}`).toBe(true);

      const ctx = await context(fixture.access);
      const request = (await fixture.request?.(ctx)) ?? {};
      const before = await snapshot(database.db);
      expect(await callRoute(route!, request, null), 'anonymous').toEqual({ ok: false, code: '401' });
      if (fixture.access === 'owned') {
        const other = await callRoute(route!, request, ctx.other.token);
        expect(REFUSED_OTHER.rest, `another user got ${other.code}`).toContain(other.code);
      }
      if (fixture.access === 'admin') {
        expect(await callRoute(route!, request, ctx.other.token), 'non-admin').toEqual({ ok: false, code: '403' });
      }
      expect(await snapshot(database.db), 'the refused calls changed the database').toEqual(before);
      expect((await callRoute(route!, request, ctx.owner.token)).ok, 'the owner, after the refusals').toBe(true);
    });
  }
});
