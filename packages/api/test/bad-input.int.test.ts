/**
 * Bad input over EVERY procedure that takes an input (and every REST route with a body): the zod input schema
 * (`procedure._def.inputs`, as JSON Schema) is walked field by field, and each field of a valid call (from the
 * authz fixtures) is broken in turn: a value of the wrong type, the field missing (when required), a value over its
 * maximum (length, number, items; strings without one get a very long value) and under its minimum. Each call goes
 * over HTTP (subscriptions over WebSocket). No answer may be a 5xx, and every 4xx must carry `details` whose paths
 * name the broken field.
 */
import { type Database, hashPassword } from '@dawg/db';
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { appRouter } from '../src/router';
import { restRoutes } from '../src/rest/define';
import {
  type Actor,
  type FixtureContext,
  PROCEDURE_EXEMPTIONS,
  PROCEDURE_FIXTURES,
  REST_FIXTURES,
  REST_EXEMPTIONS,
} from './authz/fixtures';
import { bearer, rest, startApi, trpcMutation, trpcQuery, WEB_ORIGIN, type TestApi } from './helpers/api';

const PASSWORD = 'Fixture-Password-Owl-93';

let database: TestDatabase;
let api: TestApi;
let passwordHash: string;

beforeAll(async () => {
  database = await createTestDatabase();
  passwordHash = await hashPassword(PASSWORD);
  api = await startApi({ database, label: 'bad-input', overrides: { WHITELISTED_IPS: '127.0.0.1' } });
});

afterAll(async () => {
  await api?.close();
  await database?.drop();
});

type Json = Record<string, any>;
type Path = (string | number)[];

interface Mutation {
  path: Path;
  kind: 'wrong type' | 'missing' | 'oversized' | 'undersized';
  /** undefined with kind 'missing' = delete the field. */
  value?: unknown;
}

function toJsonSchema(schema: unknown): Json {
  return z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Json;
}

/** The object branch of a union that the valid input belongs to (its `const` properties match). */
function branchFor(schema: Json, value: unknown): Json {
  const branches = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (!branches) return schema;
  const matching = branches.find((b) =>
    Object.entries((b.properties ?? {}) as Record<string, Json>).every(
      ([key, p]) => !('const' in p) || (value as Json | undefined)?.[key] === p.const,
    ),
  );
  return branchFor(matching ?? branches[0]!, value);
}

function types(p: Json): string[] {
  if (typeof p.type === 'string') return [p.type];
  if (Array.isArray(p.type)) return p.type as string[];
  const branches = (p.anyOf ?? p.oneOf) as Json[] | undefined;
  if (branches) return branches.flatMap(types);
  if ('const' in p) return [typeof p.const];
  if (Array.isArray(p.enum)) return [...new Set((p.enum as unknown[]).map((v) => typeof v))];
  return [];
}

function wrongTypeValue(p: Json): unknown {
  const t = types(p);
  if ('const' in p || p.enum) return '__not_a_choice__';
  if (t.includes('string')) return 12345;
  if (t.includes('number') || t.includes('integer')) return 'not-a-number';
  if (t.includes('boolean')) return 'yes';
  if (t.includes('array')) return { not: 'an array' };
  if (t.includes('object')) return 'not an object';
  return { bogus: [1, 2, 3] };
}

/** Long values for strings without a maximum; GET carries input in the URL, so it gets a shorter one. */
function hugeLength(type: string): number {
  return type === 'query' ? 3_000 : 20_000;
}

function mutationsFor(schema: Json, value: unknown, procType: string, path: Path = []): Mutation[] {
  const object = branchFor(schema, value);
  const properties = (object.properties ?? {}) as Record<string, Json>;
  const required = new Set((object.required ?? []) as string[]);
  const out: Mutation[] = [];
  for (const [key, raw] of Object.entries(properties)) {
    const p = branchFor(raw, (value as Json | undefined)?.[key]);
    const at = [...path, key];
    const current = (value as Json | undefined)?.[key];
    if (types(p).includes('object') && p.properties && current && typeof current === 'object') {
      out.push(...mutationsFor(p, current, procType, at));
    }
    out.push({ path: at, kind: 'wrong type', value: wrongTypeValue(p) });
    if (required.has(key)) out.push({ path: at, kind: 'missing' });
    const t = types(p);
    if (t.includes('string')) {
      const max = typeof p.maxLength === 'number' ? p.maxLength + 1 : hugeLength(procType);
      out.push({ path: at, kind: 'oversized', value: 'x'.repeat(max) });
      if (typeof p.minLength === 'number' && p.minLength > 0) {
        out.push({ path: at, kind: 'undersized', value: 'x'.repeat(p.minLength - 1) });
      }
    }
    if (t.includes('number') || t.includes('integer')) {
      const max =
        typeof p.maximum === 'number'
          ? p.maximum + 1
          : typeof p.exclusiveMaximum === 'number'
            ? p.exclusiveMaximum
            : 1e15;
      out.push({ path: at, kind: 'oversized', value: max });
      const min =
        typeof p.minimum === 'number'
          ? p.minimum - 1
          : typeof p.exclusiveMinimum === 'number'
            ? p.exclusiveMinimum
            : -1e15;
      out.push({ path: at, kind: 'undersized', value: min });
    }
    if (t.includes('array')) {
      const n = typeof p.maxItems === 'number' ? p.maxItems + 1 : 5_000;
      const item = Array.isArray(current) && current.length > 0 ? current[0] : 'x';
      out.push({ path: at, kind: 'oversized', value: Array(n).fill(item) });
    }
  }
  return out;
}

function apply(input: unknown, mutation: Mutation): unknown {
  const copy = structuredClone(input ?? {}) as Json;
  let target = copy;
  for (const key of mutation.path.slice(0, -1)) target = target[key] as Json;
  const last = mutation.path.at(-1)!;
  if (mutation.kind === 'missing') delete target[last];
  else target[last] = mutation.value;
  return copy;
}

interface Answer {
  status: number;
  details: { path: Path; message: string }[] | undefined;
}

function subscribeOnce(path: string, input: unknown, token: string | null): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${api.wsBase}/trpc${token ? '?connectionParams=1' : ''}`, {
      headers: { origin: WEB_ORIGIN },
    });
    const timer = setTimeout(() => finish({ status: 200, details: undefined }), 1_500);
    function finish(answer: Answer) {
      clearTimeout(timer);
      ws.close();
      resolve(answer);
    }
    ws.once('error', reject);
    ws.once('open', () => {
      if (token) ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path, input } }));
    });
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as {
        error?: { data?: { httpStatus?: number; details?: Answer['details'] } };
      };
      if (msg.error) finish({ status: msg.error.data?.httpStatus ?? 500, details: msg.error.data?.details });
    });
  });
}

async function callProcedure(path: string, type: string, input: unknown, token: string | null): Promise<Answer> {
  const headers = { origin: WEB_ORIGIN, ...(token ? bearer(token) : {}) };
  if (type === 'subscription') return subscribeOnce(path, input, token);
  const res =
    type === 'query'
      ? await trpcQuery(api.base, path, input, headers)
      : await trpcMutation(api.base, path, input, headers);
  return { status: res.status, details: res.body?.error?.data?.details };
}

async function actor(role: 'user' | 'admin' = 'user'): Promise<Actor> {
  const { user, token } = await createUser(database.db, { role, passwordHash });
  return { user, token, password: PASSWORD };
}

async function context(admin: boolean): Promise<FixtureContext> {
  const [owner, other] = await Promise.all([actor(admin ? 'admin' : 'user'), actor()]);
  return { db: database.db as Kysely<Database>, owner, other, createUser: (opts) => actor(opts?.role) };
}

function names(details: Answer['details'], path: Path): boolean {
  return (details ?? []).some((d) => path.every((part, i) => String(d.path[i]) === String(part)));
}

/** Runs every mutation; returns the failures as readable lines (empty = all good). */
async function probe(
  label: string,
  schema: Json,
  valid: unknown,
  type: string,
  call: (input: unknown) => Promise<Answer>,
): Promise<{ failures: string[]; count: number }> {
  const failures: string[] = [];
  const mutations = mutationsFor(schema, valid, type);
  for (const mutation of mutations) {
    const answer = await call(apply(valid, mutation));
    const what = `${label} ${mutation.path.join('.')} (${mutation.kind})`;
    if (answer.status >= 500) failures.push(`${what}: ${answer.status}`);
    else if (answer.status >= 400 && !names(answer.details, mutation.path)) {
      failures.push(`${what}: ${answer.status} without a detail naming the field: ${JSON.stringify(answer.details)}`);
    }
  }
  return { failures, count: mutations.length };
}

const procedures = appRouter._def.procedures as unknown as Record<
  string,
  { _def: { type: string; inputs: unknown[] } }
>;

describe('bad input', () => {
  it('generates each kind of broken value from a schema', () => {
    const schema = z.object({
      name: z.string().min(2).max(3),
      n: z.number().int().max(2),
      list: z.array(z.string()).max(1),
      nested: z.object({ flag: z.boolean() }),
      opt: z.enum(['a', 'b']).optional(),
    });
    const valid = { name: 'ab', n: 1, list: ['x'], nested: { flag: true } };
    const got = mutationsFor(toJsonSchema(schema), valid, 'mutation').map((m) => `${m.path.join('.')}:${m.kind}`);
    expect(got).toEqual(
      expect.arrayContaining([
        'name:wrong type',
        'name:missing',
        'name:oversized',
        'name:undersized',
        'n:oversized',
        'list:oversized',
        'nested.flag:wrong type',
        'nested.flag:missing',
        'opt:wrong type',
      ]),
    );
    expect(got).not.toContain('opt:missing');
    for (const m of mutationsFor(toJsonSchema(schema), valid, 'mutation')) {
      expect(schema.safeParse(apply(valid, m)).success, `${m.path.join('.')}:${m.kind}`).toBe(false);
    }
  });

  it('never answers 5xx and always names the broken field, for every procedure with an input', async () => {
    const withInput = Object.entries(procedures).filter(([, p]) => p._def.inputs.length > 0);
    expect(withInput.length).toBeGreaterThan(5);
    const failures: string[] = [];
    let probes = 0;
    for (const [path, procedure] of withInput) {
      const fixture = PROCEDURE_FIXTURES[path];
      const exemption = PROCEDURE_EXEMPTIONS[path];
      // A valid call is not refused for its input, so each failure below is the broken field's. It runs as its own
      // user: it may be destructive (deleteAccount), and the probes need a live account.
      const first = await context(fixture?.access === 'admin');
      const firstInput = fixture ? await fixture.input?.(first) : exemption?.input?.();
      const baseline = await callProcedure(path, procedure._def.type, firstInput, fixture ? first.owner.token : null);
      expect(baseline.status === 400 && baseline.details, `${path}: the fixture input is not valid`).toBeFalsy();

      const ctx = await context(fixture?.access === 'admin');
      const valid = fixture ? await fixture.input?.(ctx) : exemption?.input?.();
      expect(valid, `${path}: its fixture or exemption needs a valid input`).toBeDefined();
      const token = fixture ? ctx.owner.token : null;
      const schema = toJsonSchema(procedure._def.inputs[0]);
      const result = await probe(path, schema, valid, procedure._def.type, (input) =>
        callProcedure(path, procedure._def.type, input, token),
      );
      failures.push(...result.failures);
      probes += result.count;
    }
    expect(failures).toEqual([]);
    expect(probes).toBeGreaterThan(50);
  });

  it('never answers 5xx and always names the broken field, for every REST route with a body', async () => {
    const failures: string[] = [];
    for (const route of restRoutes(api.server.app).filter((r) => r.body)) {
      const key = `${route.method} ${route.url}`;
      const fixture = REST_FIXTURES[key];
      const ctx = await context(fixture?.access === 'admin');
      const request = fixture?.request ? await fixture.request(ctx) : undefined;
      const valid =
        request?.body ??
        PROCEDURE_EXEMPTIONS[key === 'POST /api/auth/register' ? 'auth.register' : 'auth.login']?.input?.();
      expect(valid, `${key}: needs a valid body (fixture request, or the matching procedure's)`).toBeDefined();
      expect(REST_EXEMPTIONS[key] || fixture, key).toBeTruthy();
      const token = fixture ? ctx.owner.token : null;
      const url = route.url.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => request?.params?.[name] ?? '');
      const result = await probe(key, toJsonSchema(route.body), valid, 'mutation', async (body) => {
        const res = await rest(api.base, route.method, url, {
          body,
          headers: { origin: WEB_ORIGIN, ...(token ? bearer(token) : {}) },
        });
        return { status: res.status, details: res.body?.details };
      });
      failures.push(...result.failures);
    }
    expect(failures).toEqual([]);
  });
});
