/**
 * Fuzz: property-based inputs (fast-check) over EVERY tRPC procedure that takes an input and every REST route
 * (`restRoutes`, recorded by defineRestRoute), plus raw HTTP abuse (malformed JSON, wrong content types, giant
 * bodies, deep nesting, invalid UTF-8). The property is the same everywhere: no answer is a 5xx and the server
 * stays up. Paid procedures run on the zero-cost test provider (MUSIC_PROVIDER=test).
 *
 * Inputs per procedure (≥ FUZZ_RUNS each): values derived from the input's JSON Schema (near-valid: right shape,
 * random contents, lengths and numbers around the bounds), the fixture's valid input with one field replaced by any
 * JSON value, and arbitrary JSON. They are sampled with a seed (printed; FUZZ_SEED replays a run) and sent in tRPC
 * batches (HTTP) or many subscriptions on one socket (WebSocket), so ~10k cases take seconds, not minutes.
 */
import { type Database, hashPassword } from '@dawg/db';
import {
  createTestDatabase,
  createUser,
  type FakeStripe,
  startFakeStripe,
  startS3Server,
  type TestDatabase,
} from '@dawg/testing';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { restRoutes } from '../src/rest/define';
import { appRouter } from '../src/router';
import {
  type Actor,
  type FixtureContext,
  PROCEDURE_EXEMPTIONS,
  PROCEDURE_FIXTURES,
  REST_FIXTURES,
  type RestRequest,
} from './authz/fixtures';
import { bearer, startApi, WEB_ORIGIN, type TestApi } from './helpers/api';

const PASSWORD = 'Fixture-Password-Owl-93';
const FUZZ_RUNS = 200;
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;

let database: TestDatabase;
let s3server: Awaited<ReturnType<typeof startS3Server>>;
let stripe: FakeStripe;
let api: TestApi;
let passwordHash: string;

beforeAll(async () => {
  console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays this run)`);
  [database, s3server, stripe] = await Promise.all([createTestDatabase(), startS3Server(), startFakeStripe()]);
  passwordHash = await hashPassword(PASSWORD);
  // Every optional service configured (S3, Stripe through its fake), so no answer is a deliberate 503.
  api = await startApi({
    database,
    label: 'fuzz',
    s3: s3server,
    overrides: {
      WHITELISTED_IPS: '127.0.0.1',
      MUSIC_PROVIDER: 'test',
      STRIPE_SECRET_KEY: 'sk_test_fuzz',
      STRIPE_API_BASE_URL: stripe.url,
      STRIPE_WEBHOOK_SECRET: 'whsec_fuzz',
      STRIPE_PUBLISHABLE_KEY: 'pk_test_fuzz',
      PUBLIC_URL: 'http://studio.test',
    },
  });
});

afterAll(async () => {
  await api?.close();
  await stripe?.close();
  await s3server?.stop();
  await database?.drop();
});

type Json = Record<string, any>;

// ---------------------------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------------------------

const smallJson = fc.jsonValue({ maxDepth: 3, depthSize: 'small' });

/** A string around the schema's bounds, or in its format. */
function stringArb(p: Json): fc.Arbitrary<string> {
  if (p.format === 'uuid') return fc.oneof(fc.uuid(), fc.string({ maxLength: 40 }));
  if (p.format === 'email') return fc.oneof(fc.emailAddress(), fc.string({ maxLength: 40 }));
  const min = typeof p.minLength === 'number' ? p.minLength : 0;
  const max = typeof p.maxLength === 'number' ? Math.min(p.maxLength, 200) : 60;
  const around = [fc.string({ minLength: Math.min(min, max), maxLength: max, unit: 'grapheme' })];
  if (typeof p.maxLength === 'number' && p.maxLength < 2_000) {
    around.push(fc.constant('x'.repeat(p.maxLength + 1)), fc.constant('x'.repeat(p.maxLength)));
  }
  return fc.oneof(...around, fc.string({ maxLength: 10, unit: 'binary' }), fc.constantFrom('', ' ', '\u0000', '🎵'));
}

function numberArb(p: Json, integer: boolean): fc.Arbitrary<number> {
  const lo =
    typeof p.minimum === 'number' ? p.minimum : typeof p.exclusiveMinimum === 'number' ? p.exclusiveMinimum : -1e6;
  const hi =
    typeof p.maximum === 'number' ? p.maximum : typeof p.exclusiveMaximum === 'number' ? p.exclusiveMaximum : 1e6;
  const inRange = integer
    ? fc.integer({
        min: Math.max(Math.ceil(lo), Number.MIN_SAFE_INTEGER),
        max: Math.min(Math.floor(hi), Number.MAX_SAFE_INTEGER),
      })
    : fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
  const edges = fc.constantFrom(lo - 1, hi + 1, 0, -1, 0.5, 2 ** 53, -(2 ** 53), 1e308);
  return fc.oneof({ arbitrary: inRange, weight: 4 }, { arbitrary: edges, weight: 1 });
}

/** Near-valid values for a JSON Schema (zod's `toJSONSchema`): right shapes, contents around the bounds. */
export function schemaArb(p: Json, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return smallJson;
  if ('const' in p) return fc.constant(p.const);
  if (Array.isArray(p.enum)) return fc.constantFrom(...(p.enum as unknown[]));
  const branches = (p.anyOf ?? p.oneOf ?? p.allOf) as Json[] | undefined;
  if (branches?.length) return fc.oneof(...branches.map((b) => schemaArb(b, depth + 1)));
  const type = Array.isArray(p.type) ? (p.type as string[])[0] : (p.type as string | undefined);
  switch (type) {
    case 'string':
      return stringArb(p);
    case 'integer':
      return numberArb(p, true);
    case 'number':
      return numberArb(p, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = p.items && typeof p.items === 'object' ? schemaArb(p.items as Json, depth + 1) : smallJson;
      const maxItems = typeof p.maxItems === 'number' ? Math.min(p.maxItems + 1, 8) : 6;
      return fc.array(item, { maxLength: maxItems });
    }
    case 'object': {
      const properties = (p.properties ?? {}) as Record<string, Json>;
      const keys = Object.keys(properties);
      if (keys.length === 0) return fc.dictionary(fc.string({ maxLength: 8 }), smallJson, { maxKeys: 3 });
      const model = Object.fromEntries(keys.map((k) => [k, schemaArb(properties[k]!, depth + 1)]));
      return fc.record(model, { requiredKeys: (p.required ?? []) as string[] });
    }
    default:
      return smallJson;
  }
}

/** The valid input with one (possibly nested) field replaced by any JSON value, or removed. */
function mutatedArb(valid: unknown): fc.Arbitrary<unknown> {
  const paths: string[][] = [];
  const walk = (v: unknown, at: string[]) => {
    if (!v || typeof v !== 'object') return;
    for (const [k, child] of Object.entries(v)) {
      paths.push([...at, k]);
      if (at.length < 4) walk(child, [...at, k]);
    }
  };
  walk(valid, []);
  if (paths.length === 0) return smallJson;
  return fc.tuple(fc.constantFrom(...paths), fc.option(smallJson, { freq: 6, nil: undefined })).map(([path, value]) => {
    const copy = structuredClone(valid) as Json;
    let target = copy;
    for (const key of path.slice(0, -1)) target = target[key] as Json;
    if (value === undefined) delete target[path.at(-1)!];
    else target[path.at(-1)!] = value;
    return copy;
  });
}

function inputArb(schema: Json, valid: unknown): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: schemaArb(schema), weight: 5 },
    { arbitrary: mutatedArb(valid), weight: 3 },
    { arbitrary: smallJson, weight: 1 },
    { arbitrary: fc.constantFrom<unknown>(null, undefined, [], '', {}, 0, [[[[[]]]]]), weight: 1 },
  );
}

/** FUZZ_RUNS inputs: the valid one first, then samples (one seed per target, derived from SEED and its name). */
function sampleInputs(name: string, schema: Json, valid: unknown): unknown[] {
  let h = SEED;
  for (const ch of name) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return [valid, ...fc.sample(inputArb(schema, valid), { numRuns: FUZZ_RUNS - 1, seed: h })];
}

// ---------------------------------------------------------------------------------------------------------------
// Callers
// ---------------------------------------------------------------------------------------------------------------

function toJsonSchema(schema: unknown): Json {
  return z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as Json;
}

async function actor(role: 'user' | 'admin' = 'user'): Promise<Actor> {
  const { user, token } = await createUser(database.db, { role, passwordHash });
  return { user, token, password: PASSWORD };
}

async function context(admin: boolean): Promise<FixtureContext> {
  const [owner, other] = await Promise.all([actor(admin ? 'admin' : 'user'), actor()]);
  return { db: database.db as Kysely<Database>, owner, other, createUser: (opts) => actor(opts?.role) };
}

interface Outcome {
  /** One status per case (the batch item's httpStatus). */
  statuses: number[];
  failures: string[];
}

function itemStatus(item: unknown): number {
  const error = (item as { error?: { data?: { httpStatus?: number } } } | null)?.error;
  if (!error) return 200;
  return error.data?.httpStatus ?? 500;
}

/** tRPC HTTP batches: GET for queries (chunks bounded by URL length), POST for mutations. */
async function callBatched(path: string, type: string, inputs: unknown[], token: string | null): Promise<Outcome> {
  const headers: Record<string, string> = { origin: WEB_ORIGIN, ...(token ? bearer(token) : {}) };
  const out: Outcome = { statuses: [], failures: [] };
  let i = 0;
  while (i < inputs.length) {
    const chunk: unknown[] = [];
    let size = 0;
    while (i < inputs.length && chunk.length < 20) {
      const encoded = encodeURIComponent(JSON.stringify(inputs[i] ?? null)).length;
      if (type === 'query' && chunk.length > 0 && size + encoded > 6_000) break;
      chunk.push(inputs[i]);
      size += encoded;
      i += 1;
    }
    const record = JSON.stringify(Object.fromEntries(chunk.map((v, n) => [String(n), v])));
    const paths = chunk.map(() => path).join(',');
    const res =
      type === 'query'
        ? await fetch(`${api.base}/trpc/${paths}?batch=1&input=${encodeURIComponent(record)}`, { headers })
        : await fetch(`${api.base}/trpc/${paths}?batch=1`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: record,
          });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (Array.isArray(body) && body.length === chunk.length) {
      body.forEach((item, n) => {
        const status = itemStatus(item);
        out.statuses.push(status);
        if (status >= 500) out.failures.push(`${path} ${JSON.stringify(chunk[n])?.slice(0, 300)}: ${status}`);
      });
    } else {
      // The whole batch was refused (it is then one answer for every case).
      for (const input of chunk) {
        out.statuses.push(res.status);
        if (res.status >= 500) out.failures.push(`${path} ${JSON.stringify(input)?.slice(0, 300)}: ${res.status}`);
      }
    }
  }
  return out;
}

/** Every input as its own subscription on one socket; each is answered by `started` or an error, then stopped. */
function callSubscriptions(path: string, inputs: unknown[], token: string | null): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const out: Outcome = { statuses: [], failures: [] };
    const pending = new Set(inputs.map((_, n) => n + 1));
    const ws = new WebSocket(`${api.wsBase}/trpc${token ? '?connectionParams=1' : ''}`, {
      headers: { origin: WEB_ORIGIN },
    });
    const timer = setTimeout(() => {
      for (const id of pending) out.failures.push(`${path} ${JSON.stringify(inputs[id - 1])}: no answer`);
      ws.terminate();
      resolve(out);
    }, 30_000);
    const settle = (id: number, status: number) => {
      if (!pending.delete(id)) return;
      out.statuses.push(status);
      if (status >= 500) out.failures.push(`${path} ${JSON.stringify(inputs[id - 1])?.slice(0, 300)}: ${status}`);
      if (status < 400) ws.send(JSON.stringify({ id, method: 'subscription.stop' }));
      if (pending.size === 0) {
        clearTimeout(timer);
        ws.close();
        resolve(out);
      }
    };
    ws.once('error', reject);
    ws.once('open', () => {
      if (token) ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
      inputs.forEach((input, n) => {
        ws.send(JSON.stringify({ id: n + 1, method: 'subscription', params: { path, input } }));
      });
    });
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as { id?: number; error?: unknown; result?: { type?: string } };
      if (typeof msg.id !== 'number') return;
      if (msg.error) settle(msg.id, itemStatus(msg));
      else if (msg.result) settle(msg.id, 200);
    });
    ws.once('close', () => {
      if (pending.size === 0) return;
      clearTimeout(timer);
      for (const id of pending) out.failures.push(`${path} ${JSON.stringify(inputs[id - 1])}: socket closed`);
      resolve(out);
    });
  });
}

/** Runs `tasks` with at most `width` in flight. */
async function pooled<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const n = next++;
        results[n] = await tasks[n]!();
      }
    }),
  );
  return results;
}

async function alive(): Promise<void> {
  const res = await fetch(`${api.base}/health`);
  expect(res.status).toBe(200);
}

const procedures = appRouter._def.procedures as unknown as Record<
  string,
  { _def: { type: string; inputs: unknown[] } }
>;

// ---------------------------------------------------------------------------------------------------------------

describe('fuzz', () => {
  it('derives near-valid values from a schema, including some the schema refuses', () => {
    const schema = z.object({
      name: z.string().min(2).max(5),
      n: z.number().int().min(1).max(3),
      kind: z.enum(['a', 'b']),
      tags: z.array(z.string().max(3)).max(2),
      opt: z.object({ flag: z.boolean() }).optional(),
    });
    const values = fc.sample(schemaArb(toJsonSchema(schema)), { numRuns: 300, seed: 1 });
    const valid = values.filter((v) => schema.safeParse(v).success).length;
    expect(valid).toBeGreaterThan(30);
    expect(valid).toBeLessThan(300);
    expect(values.some((v) => (v as Json).opt !== undefined)).toBe(true);
    expect(values.some((v) => (v as Json).opt === undefined)).toBe(true);
  });

  it(`never answers 5xx for ≥ ${FUZZ_RUNS} inputs to every procedure with an input`, async () => {
    const withInput = Object.entries(procedures).filter(([, p]) => p._def.inputs.length > 0);
    expect(withInput.length).toBeGreaterThan(5);
    const counts: Record<string, number> = {};
    const failures: string[] = [];
    await pooled(
      withInput.map(([path, procedure]) => async () => {
        const fixture = PROCEDURE_FIXTURES[path];
        const ctx = await context(fixture?.access === 'admin');
        const valid = fixture ? await fixture.input?.(ctx) : PROCEDURE_EXEMPTIONS[path]?.input?.();
        const token = fixture ? ctx.owner.token : null;
        const inputs = sampleInputs(path, toJsonSchema(procedure._def.inputs[0]), valid);
        const result =
          procedure._def.type === 'subscription'
            ? await callSubscriptions(path, inputs, token)
            : await callBatched(path, procedure._def.type, inputs, token);
        counts[path] = result.statuses.length;
        failures.push(...result.failures);
      }),
      2,
    );
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(
      `fuzz: ${withInput.length} procedures, ${total} cases (min ${Math.min(...Object.values(counts))} per procedure), ` +
        `${failures.length} failures\n` +
        Object.entries(counts)
          .map(([p, n]) => `  ${p}: ${n}`)
          .join('\n'),
    );
    expect(failures).toEqual([]);
    for (const [path] of withInput) expect(counts[path], path).toBeGreaterThanOrEqual(FUZZ_RUNS);
    await alive();
  });

  it(`never answers 5xx for ≥ ${FUZZ_RUNS} requests to every REST route (body, query and path parameters)`, async () => {
    const routes = restRoutes(api.server.app);
    expect(routes.length).toBeGreaterThan(5);
    const counts: Record<string, number> = {};
    const failures: string[] = [];
    for (const route of routes) {
      const key = `${route.method} ${route.url}`;
      const fixture = REST_FIXTURES[key];
      const ctx = await context(fixture?.access === 'admin');
      const request: RestRequest = (fixture?.request ? await fixture.request(ctx) : undefined) ?? {};
      const token = fixture ? ctx.owner.token : null;
      const paramNames = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
      const parts = fc.record({
        body: route.body ? inputArb(toJsonSchema(route.body), request.body ?? {}) : fc.constant(undefined),
        query: route.query
          ? inputArb(toJsonSchema(route.query), request.query ?? {})
          : fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 12 }), { maxKeys: 2 }),
        params: fc.record(
          Object.fromEntries(
            paramNames.map((name) => [
              name,
              fc.oneof(
                fc.constant(request.params?.[name] ?? 'x'),
                fc.uuid(),
                fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
              ),
            ]),
          ),
        ),
      });
      let h = SEED;
      for (const ch of key) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
      const cases = [
        { body: request.body, query: request.query ?? {}, params: request.params ?? {} },
        ...fc.sample(parts, { numRuns: FUZZ_RUNS - 1, seed: h }),
      ];
      const statuses = await pooled(
        cases.map((c) => async () => {
          const url = route.url.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) =>
            encodeURIComponent(String((c.params as Record<string, unknown>)[name] ?? 'x')),
          );
          const query =
            c.query && typeof c.query === 'object' && !Array.isArray(c.query)
              ? new URLSearchParams(
                  Object.entries(c.query as Record<string, unknown>).map(([k, v]): [string, string] => [
                    k,
                    typeof v === 'string' ? v : (JSON.stringify(v) ?? ''),
                  ]),
                ).toString()
              : '';
          const withBody = route.method !== 'GET' && c.body !== undefined;
          const res = await fetch(`${api.base}${url}${query ? `?${query}` : ''}`, {
            method: route.method,
            headers: {
              origin: WEB_ORIGIN,
              ...request.headers,
              ...(token ? bearer(token) : {}),
              ...(withBody ? { 'content-type': 'application/json' } : {}),
            },
            ...(withBody ? { body: JSON.stringify(c.body) } : {}),
          });
          await res.arrayBuffer();
          if (res.status >= 500) failures.push(`${key} ${JSON.stringify(c).slice(0, 300)}: ${res.status}`);
          return res.status;
        }),
        8,
      );
      counts[key] = statuses.length;
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(
      `fuzz: ${routes.length} REST routes, ${total} cases, ${failures.length} failures\n` +
        Object.entries(counts)
          .map(([r, n]) => `  ${r}: ${n}`)
          .join('\n'),
    );
    expect(failures).toEqual([]);
    for (const n of Object.values(counts)) expect(n).toBeGreaterThanOrEqual(FUZZ_RUNS);
    await alive();
  });

  it('never answers 5xx to malformed JSON, wrong content types, giant bodies, deep nesting and invalid UTF-8', async () => {
    const { token } = await actor();
    const bodyRoutes = restRoutes(api.server.app).filter((r) => r.method !== 'GET');
    const mutation = Object.entries(procedures).find(([, p]) => p._def.type === 'mutation' && p._def.inputs.length)!;
    const query = Object.entries(procedures).find(([, p]) => p._def.type === 'query' && p._def.inputs.length)!;
    const targets = [
      ...bodyRoutes.map((r) => ({ method: r.method, url: r.url.replace(/:([A-Za-z0-9_]+)/g, 'x') })),
      { method: 'POST', url: `/trpc/${mutation[0]}` },
      { method: 'POST', url: `/trpc/${mutation[0]},${mutation[0]}?batch=1` },
    ];
    const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const deepObject = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"name":"'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]),
      Buffer.from('"}'),
    ]);
    const giant = Buffer.alloc(api.env.BODY_LIMIT_BYTES + 1024, 0x20);
    giant.write('{"a":"', 0);
    const malformed = fc.sample(
      fc.oneof(
        fc.string({ maxLength: 40 }),
        smallJson.map((v) => JSON.stringify(v).slice(0, -1)),
        smallJson.map((v) => `${JSON.stringify(v)},`),
        fc.constantFrom(
          '{',
          '}',
          '{"a":}',
          '{"a" 1}',
          "{'a':1}",
          'nul',
          '[1,,2]',
          '{"__proto__":{"x":1}}',
          'NaN',
          '\u0000',
        ),
      ),
      { numRuns: 20, seed: SEED },
    );
    const bodies: { label: string; type?: string; body: string | Buffer }[] = [
      ...malformed.map((body, n) => ({ label: `malformed #${n}`, type: 'application/json', body })),
      { label: 'text/plain', type: 'text/plain', body: '{"a":1}' },
      { label: 'form', type: 'application/x-www-form-urlencoded', body: 'a=1&b=%ZZ' },
      { label: 'multipart without boundary', type: 'multipart/form-data', body: '--x\r\n\r\n' },
      { label: 'xml', type: 'application/xml', body: '<a>1</a>' },
      { label: 'utf-16 json', type: 'application/json; charset=utf-16', body: '{"a":1}' },
      { label: 'garbage content type', type: 'application/json;;=;x', body: '{}' },
      { label: 'unknown content type', type: 'application/x-dawg', body: '{}' },
      { label: 'no content type', body: '{"a":1}' },
      { label: 'invalid utf-8', type: 'application/json', body: invalidUtf8 },
      { label: 'deep array', type: 'application/json', body: deep(200_000) },
      { label: 'deep object', type: 'application/json', body: deepObject(100_000) },
      { label: 'giant body', type: 'application/json', body: giant },
    ];
    const failures: string[] = [];
    let cases = 0;
    const tasks = targets.flatMap((t) =>
      bodies.map((b) => async () => {
        cases += 1;
        let status: number;
        try {
          const res = await fetch(`${api.base}${t.url}`, {
            method: t.method,
            headers: { origin: WEB_ORIGIN, ...bearer(token), ...(b.type ? { 'content-type': b.type } : {}) },
            body: b.body,
          });
          await res.arrayBuffer();
          status = res.status;
        } catch (err) {
          // The server may close the socket on a body over the limit; only a 5xx or a crash is a failure here.
          if (b.label === 'giant body') return;
          throw err;
        }
        if (status >= 500) failures.push(`${t.method} ${t.url} ${b.label}: ${status}`);
      }),
    );
    // The query side: broken `input` parameters (bad JSON, bad percent-encoding, invalid UTF-8, deep nesting).
    for (const raw of ['{', '%E0%A4%A', '%FF%FE', encodeURIComponent(deep(2_000)), '%00', 'null', '"x"']) {
      tasks.push(async () => {
        cases += 1;
        const res = await fetch(`${api.base}/trpc/${query[0]}?input=${raw}`, {
          headers: { origin: WEB_ORIGIN, ...bearer(token) },
        });
        await res.arrayBuffer();
        if (res.status >= 500) failures.push(`GET /trpc/${query[0]} input=${raw.slice(0, 40)}: ${res.status}`);
      });
    }
    // Broken WebSocket frames: not JSON, wrong shapes, invalid UTF-8 (the socket may be closed; never a crash).
    tasks.push(async () => {
      const ws = new WebSocket(`${api.wsBase}/trpc`, { headers: { origin: WEB_ORIGIN } });
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      for (const frame of ['{', '[]', '{"id":1}', '{"id":{},"method":"query"}', '{"method":"subscription"}']) {
        ws.send(frame);
        cases += 1;
      }
      ws.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false });
      cases += 1;
      await new Promise((r) => setTimeout(r, 200));
      ws.terminate();
    });
    await pooled(tasks, 4);
    console.log(`fuzz: ${cases} raw HTTP/WebSocket cases over ${targets.length} targets, ${failures.length} failures`);
    expect(failures).toEqual([]);
    await alive();
  });
});
