/**
 * The operator check scripts run as processes against real api servers (and a fake provider API): API keys, CORS,
 * the rate limit, and the WebSocket load test. Each passes on a correct setup and fails, naming the problem, on a
 * wrong one. Latency thresholds are the scripts' business: these tests check counts and outcomes, never timings.
 */
import { buildServer, type ApiServer } from '@dawg/api/server';
import { apiEnvSchema, parseEnv } from '@dawg/shared';
import { createTestDatabase, testEnv, type TestDatabase } from '@dawg/testing';
import { startFakeWebhookServer, type FakeWebhookServer } from '@dawg/testing/fakes/webhook';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScript } from './run-script';

const WEB = 'http://localhost:5173';
let database: TestDatabase;
let fake: FakeWebhookServer;
const servers: ApiServer[] = [];

async function start(overrides: Record<string, string>): Promise<string> {
  const env = parseEnv(
    apiEnvSchema,
    testEnv({ databaseUrl: database.url }, { CORS_ORIGINS: WEB, SELF_CHECK_INTERVAL_MS: '0', ...overrides }),
  );
  const server = await buildServer({ env, logger: false });
  servers.push(server);
  return server.listen();
}

beforeAll(async () => {
  [database, fake] = await Promise.all([createTestDatabase(), startFakeWebhookServer()]);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all([database?.drop(), fake?.close()]);
});

describe('--help', () => {
  it.each(['api-keys-check', 'cors-check', 'rate-limit-check', 'load-http', 'load-ws', 'scale-out', 'cache-flush'])(
    '%s prints its usage and exits 0',
    async (name) => {
      const { code, stdout } = await runScript(`scripts/ops/${name}.ts`, ['--help']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage: pnpm ops:/);
      expect(stdout).toContain('Exit codes:');
    },
  );

  it('an unknown option is a usage error (exit 2)', async () => {
    const { code, stderr } = await runScript('scripts/ops/cors-check.ts', ['--nope']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown option --nope');
  });
});

describe('ops:api-keys-check', () => {
  it('says "not configured" without keys and exits 0', async () => {
    const { code, stdout } = await runScript('scripts/ops/api-keys-check.ts', []);
    expect(code).toBe(0);
    expect(stdout).toContain('⚪ openai: not configured (OPENAI_API_KEY is not set)');
    expect(stdout).toContain('⚪ anthropic: not configured (ANTHROPIC_API_KEY is not set)');
  });

  it('fails a missing key named in --require', async () => {
    const { code, stdout } = await runScript('scripts/ops/api-keys-check.ts', ['--require', 'openai']);
    expect(code).toBe(1);
    expect(stdout).toContain('❌ openai: not configured');
  });

  it('lists models with working keys, and fails a refused one', async () => {
    fake.respond('GET', '/v1/models', { body: { data: [{ id: 'gpt-4o' }, { id: 'claude-sonnet-4-5' }] } });
    const env = {
      OPENAI_API_KEY: 'sk-check',
      OPENAI_BASE_URL: `${fake.url}/v1`,
      ANTHROPIC_API_KEY: 'sk-ant-check',
      ANTHROPIC_BASE_URL: fake.url,
    };
    const good = await runScript('scripts/ops/api-keys-check.ts', [], env);
    expect(good.stdout).toContain('✅ openai: gpt-4o');
    expect(good.stdout).toContain('✅ anthropic: gpt-4o');
    expect(good.code).toBe(0);
    const sent = fake.requests.filter((r) => r.path === '/v1/models').map((r) => r.headers);
    expect(sent.some((h) => h.authorization === 'Bearer sk-check')).toBe(true);
    expect(sent.some((h) => h['x-api-key'] === 'sk-ant-check' && h['anthropic-version'] === '2023-06-01')).toBe(true);

    fake.respond('GET', '/v1/models', { status: 401, body: { error: { message: 'invalid api key' } } });
    const bad = await runScript('scripts/ops/api-keys-check.ts', [], env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/❌ openai: HTTP 401/);
  });
});

describe('ops:cors-check', () => {
  it('passes for the web origin and fails naming the header for an origin the api does not allow', async () => {
    const base = await start({ WHITELISTED_IPS: '127.0.0.1' });
    const ok = await runScript('scripts/ops/cors-check.ts', ['--base-url', base, '--origin', WEB]);
    expect(ok.stdout).toContain('cors: ok');
    expect(ok.code).toBe(0);
    const wrong = await runScript('scripts/ops/cors-check.ts', ['--base-url', base, '--origin', 'https://dawg-ai.com']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('✗ Access-Control-Allow-Origin is missing, expected https://dawg-ai.com');
  });
});

describe('ops:rate-limit-check', () => {
  it("passes when the limit holds at the seed's 100, and fails for a whitelisted caller", async () => {
    const limited = await start({ RATE_LIMIT_MAX: '100', WHITELISTED_IPS: '' });
    const ok = await runScript('scripts/ops/rate-limit-check.ts', ['--base-url', limited, '--origin', WEB]);
    expect(ok.stdout).toContain('first 429 at request 101');
    expect(ok.stdout).toContain('100× 401, 10× 429');
    expect(ok.code).toBe(0);

    const open = await start({ RATE_LIMIT_MAX: '100', WHITELISTED_IPS: '127.0.0.1' });
    const bad = await runScript('scripts/ops/rate-limit-check.ts', ['--base-url', open, '--origin', WEB]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('no 429 in 110 requests');
  });
});

describe('ops:load-ws', () => {
  it('opens the sockets and gets every pong; sockets above the per-IP cap are reported as failed', async () => {
    const base = await start({ WHITELISTED_IPS: '127.0.0.1' });
    const run = await runScript('scripts/ops/load-ws.ts', [
      '--base-url',
      base,
      '--connections',
      '10',
      '--pings',
      '5',
      '--json',
    ]);
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as Record<string, unknown>;
    expect(report).toMatchObject({ connections: 10, opened: 10, failed: 0, pings: 50, pongs: 50 });
    expect(run.code).toBe(report.withinThresholds ? 0 : 1);

    // Spread over two loopback source addresses, 20 sockets fit under the cap of 10 per IP; 12 from one IP do not.
    const spread = await runScript('scripts/ops/load-ws.ts', [
      '--base-url',
      base,
      '--connections',
      '20',
      '--pings',
      '2',
      '--local-addresses',
      '127.0.0.1,127.0.0.2',
      '--json',
    ]);
    expect(JSON.parse(spread.stdout.slice(spread.stdout.indexOf('{')))).toMatchObject({ opened: 20, failed: 0 });
    const capped = await runScript('scripts/ops/load-ws.ts', [
      '--base-url',
      base,
      '--connections',
      '12',
      '--pings',
      '50',
    ]);
    expect(capped.code).toBe(1);
    expect(capped.stdout).toContain('failed=2');
    expect(capped.stdout).toContain('upgrade refused with 429');
  });
});
