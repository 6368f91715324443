/**
 * Observability end to end: the alert rules (ops/prometheus/alerts.yml) and the Grafana dashboard
 * (ops/grafana/dawg-ai.json) are well-formed, carry the seed's thresholds and read only metrics the api and worker
 * really export (taken from live scrapes); the new metrics move when their events happen; `GET /monitoring/dashboard`
 * and the admin test endpoints answer admins only; a scrape stays under 100 KB.
 */
import { readFileSync } from 'node:fs';
import { buildServer, type ApiServer } from '@dawg/api/server';
import { apiEnvSchema, parseEnv } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  repoPath,
  startS3Server,
  testEnv,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import { startFakeWebhookServer, type FakeWebhookServer } from '@dawg/testing/fakes/webhook';
import { createWorkerMetrics } from '@dawg/worker/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parse } from 'yaml';
import { bracketsBalanced, exportedNames, metricNames } from './promql';

/** Series Prometheus writes itself for every target (not exported by any process of ours). */
const PROMETHEUS_SYNTHETIC = new Set(['up']);
const ORIGIN = 'http://localhost:5173';

let s3: S3ServerHandle;
let database: TestDatabase;
let fake: FakeWebhookServer;
const servers: ApiServer[] = [];
let api: { server: ApiServer; base: string };

async function start(overrides: Record<string, string> = {}) {
  const env = parseEnv(
    apiEnvSchema,
    testEnv(
      { databaseUrl: database.url, s3 },
      { CORS_ORIGINS: ORIGIN, WHITELISTED_IPS: '127.0.0.1', SELF_CHECK_INTERVAL_MS: '0', ...overrides },
    ),
  );
  const server = await buildServer({ env, logger: false });
  servers.push(server);
  return { server, base: await server.listen() };
}

async function call(base: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      origin: ORIGIN,
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text
  }
  return { status: res.status, body: parsed };
}

const scrape = async (base: string) => (await fetch(`${base}/metrics`)).text();

beforeAll(async () => {
  [s3, database, fake] = await Promise.all([startS3Server(), createTestDatabase(), startFakeWebhookServer()]);
  api = await start();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all([s3?.stop(), database?.drop(), fake?.close()]);
});

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description?: string };
}

function loadRules(): Rule[] {
  const doc = parse(readFileSync(repoPath('ops/prometheus/alerts.yml'), 'utf8')) as {
    groups: { name: string; rules: Rule[] }[];
  };
  expect(Array.isArray(doc.groups)).toBe(true);
  return doc.groups.flatMap((g) => {
    expect(g.name).toMatch(/^[\w-]+$/);
    expect(g.rules.length).toBeGreaterThan(0);
    return g.rules;
  });
}

async function allExported(): Promise<Set<string>> {
  const worker = createWorkerMetrics();
  const text = (await scrape(api.base)) + '\n' + (await worker.registry.metrics());
  return exportedNames(text);
}

describe('alert rules and dashboard', () => {
  it('the rules file is valid and holds the seed thresholds', () => {
    const rules = loadRules();
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size, 'alert names are unique').toBe(names.length);
    for (const rule of rules) {
      expect(rule.alert, 'alert name').toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(typeof rule.expr, `${rule.alert}: expr`).toBe('string');
      expect(bracketsBalanced(rule.expr), `${rule.alert}: brackets`).toBe(true);
      if (rule.for !== undefined) expect(rule.for, `${rule.alert}: for`).toMatch(/^\d+[smhd]$/);
      expect(['critical', 'warning', 'info'], `${rule.alert}: severity`).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length, `${rule.alert}: summary`).toBeGreaterThan(5);
      expect(Object.keys(rule).sort(), `${rule.alert}: keys`).toEqual(
        ['alert', 'annotations', 'expr', 'labels', ...(rule.for ? ['for'] : [])].sort(),
      );
    }
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r]));
    // Seed monitoring 4.1–4.3: threshold in the expression, severity as the seed ranks it.
    const seed: [string, string, RegExp][] = [
      ['ServiceDown', 'critical', /up\{.*\} == 0/],
      ['HighErrorRateCritical', 'critical', /> 0\.05$/],
      ['DatabaseConnectionFailures', 'critical', /\[5m\]\)\) > 3$/],
      ['ResponseTimeP95Critical', 'critical', /> 5000$/],
      ['WebSocketDisconnections', 'critical', /> 0\.5 \*/],
      ['HighErrorRate', 'warning', /> 0\.01$/],
      ['ResponseTimeP95High', 'warning', /> 1000$/],
      ['RateLimitHits', 'warning', /\[1m\]\)\) > 10$/],
      ['MemoryUsageHigh', 'warning', /> 0\.8$/],
      ['DiskUsageHigh', 'warning', /> 0\.8$/],
      ['ResponseTimeP95Elevated', 'info', /> 500$/],
      ['GenerationQueueBacklog', 'info', /> 100$/],
    ];
    for (const [name, severity, threshold] of seed) {
      expect(byName[name], `${name} is missing`).toBeDefined();
      expect(byName[name]!.labels.severity, name).toBe(severity);
      expect(byName[name]!.expr.trim(), name).toMatch(threshold);
    }
    expect(byName.ServiceDown!.for).toBe('1m');
  });

  it('every rule expression reads only metrics the api and worker export', async () => {
    const exported = await allExported();
    const unknown = loadRules().flatMap((r) =>
      metricNames(r.expr)
        .filter((n) => !exported.has(n) && !PROMETHEUS_SYNTHETIC.has(n))
        .map((n) => `${r.alert}: ${n}`),
    );
    expect(unknown).toEqual([]);
    // The extractor itself must see names (a check that finds nothing proves nothing).
    expect(metricNames(loadRules().find((r) => r.alert === 'MemoryUsageHigh')!.expr).sort()).toEqual([
      'process_memory_limit_bytes',
      'process_resident_memory_bytes',
    ]);
    expect(() => metricNames('rat(http_requests_total[5m])')).toThrow(/unknown PromQL function/);
  });

  it('the Grafana dashboard is importable JSON whose panels read exported metrics', async () => {
    const doc = JSON.parse(readFileSync(repoPath('ops/grafana/dawg-ai.json'), 'utf8')) as {
      dashboard: { title: string; uid: string; panels: { id: number; title: string; targets: { expr: string }[] }[] };
    };
    expect(doc.dashboard.title).toBe('DAWG AI Production Monitoring');
    const titles = doc.dashboard.panels.map((p) => p.title);
    for (const seedPanel of ['Request Rate', 'Response Time (P95)', 'Error Rate', 'Active WebSocket Connections']) {
      expect(titles).toContain(seedPanel);
    }
    expect(new Set(doc.dashboard.panels.map((p) => p.id)).size).toBe(doc.dashboard.panels.length);
    const exported = await allExported();
    const unknown: string[] = [];
    for (const panel of doc.dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets) {
        expect(bracketsBalanced(t.expr), `${panel.title}: ${t.expr}`).toBe(true);
        for (const n of metricNames(t.expr)) if (!exported.has(n)) unknown.push(`${panel.title}: ${n}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});

describe('metrics move with their events', () => {
  it('counts WebSocket connections and disconnections by path', async () => {
    const ws = new WebSocket(api.base.replace(/^http/, 'ws') + '/', { headers: { origin: ORIGIN } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => ws.send(JSON.stringify({ type: 'ping' })));
      ws.once('message', (data) => {
        expect(JSON.parse(String(data))).toEqual({ type: 'pong' });
        ws.close();
      });
      ws.once('close', () => resolve());
      ws.once('error', reject);
    });
    // The server's close handler runs when the close frame round trip completes; poll the scrape for it.
    let text = '';
    for (let i = 0; i < 100; i += 1) {
      text = await scrape(api.base);
      if (text.includes('websocket_disconnections_total{path="/"} 1')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(text).toContain('websocket_connections_total{path="/"} 1');
    expect(text).toContain('websocket_disconnections_total{path="/"} 1');
    expect(text).toMatch(/^active_websocket_connections 0$/m);
  });

  it('reports queue depth, ledger spend, memory limit and disk use', async () => {
    const { token } = await createUser(database.db);
    const created = await call(api.base, 'POST', '/api/generate', token, { prompt: 'queue depth probe', duration: 30 });
    expect(created.status).toBe(202);
    await database.db
      .insertInto('usage_events')
      .values({
        user_id: (await database.db.selectFrom('users').select('id').executeTakeFirstOrThrow()).id,
        provider: 'openai',
        model: 'gpt-4o',
        kind: 'chat',
        units: JSON.stringify({ unit: 'tokens', inputTokens: 10, outputTokens: 5 }),
        cost_micro: 1234,
        idempotency_key: `monitoring-${Date.now()}`,
      })
      .execute();
    const text = await scrape(api.base);
    // No worker runs in this test: the job waits.
    expect(text).toContain('queue_depth{queue="generate",state="waiting"} 1');
    expect(text).toContain('ledger_spend_month_micro_usd{kind="chat"} 1234');
    expect(text).toMatch(/^process_memory_limit_bytes \d+/m);
    expect(text).toMatch(/^disk_used_ratio 0\.\d+/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('counts 429 answers as rate-limit hits, by route', async () => {
    const limited = await start({ WHITELISTED_IPS: '', RATE_LIMIT_MAX: '2' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await call(limited.base, 'GET', '/api/tracks')).status);
    expect(statuses).toContain(429);
    const hits = statuses.filter((s) => s === 429).length;
    expect(await scrape(limited.base)).toContain(`rate_limit_hits_total{route="/api/tracks"} ${hits}`);
  });
});

describe('operator endpoints', () => {
  it('GET /monitoring/dashboard answers admins with the seed 6.1 shape, and refuses others', async () => {
    const admin = await createUser(database.db, { role: 'admin' });
    const user = await createUser(database.db);
    expect((await call(api.base, 'GET', '/monitoring/dashboard')).status).toBe(401);
    expect((await call(api.base, 'GET', '/monitoring/dashboard', user.token)).status).toBe(403);
    const res = await call(api.base, 'GET', '/monitoring/dashboard', admin.token);
    expect(res.status).toBe(200);
    expect(res.body.system).toMatchObject({ platform: 'linux', nodeVersion: process.version });
    expect(res.body.system.memoryUsage.rss).toBeGreaterThan(0);
    expect(res.body.application).toMatchObject({ activeConnections: 0, queueDepth: 1 });
    expect(res.body.application.queues.generate.waiting).toBe(1);
    expect(typeof res.body.application.cacheSize).toBe('number');
    expect(Date.parse(res.body.timestamp)).not.toBeNaN();
  });

  it('the provider checks say "not configured" without keys, and S3 round-trips an object', async () => {
    const admin = await createUser(database.db, { role: 'admin' });
    expect((await call(api.base, 'POST', '/api/test/openai', admin.token, { test: true })).body).toEqual({
      status: 'not_configured',
      openai_available: false,
      message: 'OPENAI_API_KEY is not set',
    });
    expect((await call(api.base, 'POST', '/api/test/anthropic', admin.token, { test: true })).body).toMatchObject({
      status: 'not_configured',
      anthropic_available: false,
    });
    const s3check = await call(api.base, 'POST', '/api/test/s3', admin.token, { test: true });
    expect(s3check.body).toMatchObject({ status: 'success', s3_available: true });
    const object = await fetch(s3check.body.uploadedUrl as string);
    expect(object.status).toBe(200);
    expect(await object.text()).toMatch(/^dawg-ai s3 check /);
    expect(await scrape(api.base)).toMatch(
      /provider_request_duration_seconds_count\{provider="s3",operation="put",outcome="ok"\} 1/,
    );
    expect((await call(api.base, 'POST', '/api/test/s3', admin.token, { test: 'yes' })).body).toMatchObject({
      error: 'Validation failed',
      details: [{ path: ['test'] }],
    });
  });

  it('the provider checks list models through the real SDKs, and report a refused key', async () => {
    fake.respond('GET', '/v1/models', {
      body: {
        object: 'list',
        data: [
          { id: 'gpt-4o', object: 'model', created: 1, owned_by: 'openai' },
          { id: 'claude-sonnet-4-5', type: 'model', display_name: 'Claude', created_at: '2025-01-01T00:00:00Z' },
        ],
        has_more: false,
        first_id: 'gpt-4o',
        last_id: 'claude-sonnet-4-5',
      },
    });
    const keyed = await start({
      OPENAI_API_KEY: 'sk-test-ops',
      OPENAI_BASE_URL: `${fake.url}/v1`,
      ANTHROPIC_API_KEY: 'sk-ant-test-ops',
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODEL: 'claude-sonnet-4-5',
    });
    const admin = await createUser(database.db, { role: 'admin' });
    expect((await call(keyed.base, 'POST', '/api/test/openai', admin.token, { test: true })).body).toEqual({
      status: 'success',
      openai_available: true,
      model: 'gpt-4o',
    });
    expect((await call(keyed.base, 'POST', '/api/test/anthropic', admin.token, {})).body).toEqual({
      status: 'success',
      anthropic_available: true,
      model: 'claude-sonnet-4-5',
    });
    const auth = fake.requests.filter((r) => r.path === '/v1/models').map((r) => r.headers);
    expect(auth.some((h) => h.authorization === 'Bearer sk-test-ops')).toBe(true);
    expect(auth.some((h) => h.authorization === 'Bearer sk-ant-test-ops' || h['x-api-key'] === 'sk-ant-test-ops')).toBe(
      true,
    );

    fake.respond('GET', '/v1/models', { status: 401, body: { error: { message: 'invalid x-api-key' } } });
    const refused = await call(keyed.base, 'POST', '/api/test/anthropic', admin.token, { test: true });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ status: 'error', anthropic_available: false });
    expect(await scrape(keyed.base)).toContain('provider_errors_total{provider="anthropic",operation="models.list"} 1');
  });

  it('a scrape after all of the above is under 100 KB', async () => {
    const text = await scrape(api.base);
    expect(Buffer.byteLength(text)).toBeLessThan(100 * 1024);
  });
});
