import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseDevArgs } from './config';
import { RedisMissingError } from './redis';
import { demoLogins, describeDevEnv, startDevStack } from './stack';

const repoRoot = join(import.meta.dirname, '../..');

describe('startDevStack preconditions', () => {
  it('stops before starting anything when redis-server is missing, saying how to get it', async () => {
    const dataDir = join(tmpdir(), `dawg-dev-noredis-${process.pid}`);
    const start = startDevStack({
      args: parseDevArgs(['--no-web']),
      env: { PATH: '/nonexistent', DAWG_DATA_DIR: dataDir },
      repoRoot,
      out: new PassThrough(),
    });
    await expect(start).rejects.toThrow(RedisMissingError);
    await expect(start).rejects.toThrow(/apt-get install redis-server.*REDIS_URL/);
    expect(existsSync(dataDir)).toBe(false);
  });
});

describe('--print-env', () => {
  it('prints embedded service URLs on free ports, never Postgres on 5432', async () => {
    const text = await describeDevEnv(
      parseDevArgs(['--print-env']),
      { PORT: '0', WORKER_PORT: '0', WEB_PORT: '0' },
      repoRoot,
    );
    expect(text).toMatch(/^# embedded: postgres, redis, s3/m);
    expect(text).toMatch(/^DATABASE_URL=postgres:\/\/postgres@127\.0\.0\.1:(?!5432\n)\d+\/postgres$/m);
    expect(text).toMatch(/^REDIS_URL=redis:\/\/127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^S3_ENDPOINT=http:\/\/127\.0\.0\.1:\d+$/m);
    expect(text).toMatch(/^DATABASE_MAX_CONNECTIONS=5$/m);
    const external = await describeDevEnv(
      parseDevArgs([]),
      {
        PORT: '0',
        WORKER_PORT: '0',
        WEB_PORT: '0',
        REDIS_URL: 'redis://cache:6379',
        OPENAI_API_KEY: 'sk-user-secret-value',
      },
      repoRoot,
    );
    expect(external).toMatch(/^# embedded: postgres, s3/m);
    expect(external).toMatch(/^REDIS_URL=redis:\/\/cache:6379$/m);
    expect(external).not.toContain('sk-user-secret-value');
  });
});

describe('demoLogins', () => {
  it("names the seed's default logins, or the SEED_* emails without echoing passwords", () => {
    expect(demoLogins({})).toEqual(['demo@dawg-ai.com / demo-password', 'admin@dawg-ai.com / admin-password (admin)']);
    expect(demoLogins({ SEED_DEMO_EMAIL: 'me@x.io', SEED_DEMO_PASSWORD: 'hunter22' })[0]).toBe(
      'me@x.io / (SEED_DEMO_PASSWORD)',
    );
  });
});
