import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { buildChildEnv, DevUsageError, formatEnv, parseDevArgs, planDev, type ResolvedServices } from './config';
import { choosePort, PortInUseError } from './ports';

const services: ResolvedServices = {
  databaseUrl: 'postgres://postgres@127.0.0.1:40001/postgres',
  redisUrl: 'redis://127.0.0.1:40002',
  s3Endpoint: 'http://127.0.0.1:40003',
  apiPort: 3000,
  workerPort: 3001,
  webPort: 5173,
};

describe('parseDevArgs', () => {
  it('reads the flags and rejects unknown ones', () => {
    expect(parseDevArgs([])).toEqual({ web: true, printEnv: false, help: false });
    expect(parseDevArgs(['--', '--no-web', '--print-env'])).toEqual({ web: false, printEnv: true, help: false });
    expect(() => parseDevArgs(['--nope'])).toThrow(DevUsageError);
  });
});

describe('planDev', () => {
  it('embeds exactly the services whose variable is unset (empty counts as unset)', () => {
    const plan = planDev(parseDevArgs([]), { DATABASE_URL: '', REDIS_URL: 'redis://10.0.0.1:6379' }, '/repo');
    expect(plan.embedded).toEqual({ postgres: true, redis: false, s3: true });
    expect(plan.dataDir).toBe('/repo/.data');
    expect(plan.host).toBe('127.0.0.1');
  });

  it('takes the data dir and ports from the env and refuses production', () => {
    const plan = planDev(parseDevArgs([]), { DAWG_DATA_DIR: '/tmp/x', PORT: '4000', WEB_PORT: '4001' }, '/repo');
    expect(plan.dataDir).toBe('/tmp/x');
    expect(plan.ports.api).toEqual({ requested: 4000, fallback: 3000 });
    expect(plan.ports.web).toEqual({ requested: 4001, fallback: 5173 });
    expect(plan.ports.worker).toEqual({ requested: undefined, fallback: 3001 });
    expect(() => planDev(parseDevArgs([]), { PORT: 'eighty' }, '/repo')).toThrow(/PORT=eighty/);
    expect(() => planDev(parseDevArgs([]), { NODE_ENV: 'production' }, '/repo')).toThrow(/production/);
  });
});

describe('buildChildEnv', () => {
  it('points the apps at the embedded services and caps the pool for PGlite', () => {
    const env = { PATH: '/usr/bin', VITEST: 'true', npm_package_version: '0.0.0', OPENAI_API_KEY: 'sk-user' };
    const plan = planDev(parseDevArgs([]), env, '/repo');
    const out = buildChildEnv(plan, services, env);
    expect(out).toMatchObject({
      NODE_ENV: 'development',
      DATABASE_URL: services.databaseUrl,
      DATABASE_MAX_CONNECTIONS: '5',
      REDIS_URL: services.redisUrl,
      S3_ENDPOINT: services.s3Endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_S3_BUCKET: 'dawg-ai-audio-dev',
      PORT: '3000',
      WORKER_PORT: '3001',
      WORKER_HEALTH_URL: 'http://127.0.0.1:3001/health',
      VITE_API_PROXY_TARGET: 'http://127.0.0.1:3000',
      CORS_ORIGINS: 'http://localhost:5173,http://127.0.0.1:5173',
      PATH: '/usr/bin',
      OPENAI_API_KEY: 'sk-user',
    });
    expect(out.VITEST).toBeUndefined();
    expect(out.npm_package_version).toBeUndefined();
  });

  it('keeps external services and their credentials as given', () => {
    const env = {
      DATABASE_URL: 'postgres://u:p@db:5432/app',
      DATABASE_MAX_CONNECTIONS: '40',
      S3_ENDPOINT: 'https://s3.example',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'real-secret-value',
    };
    const plan = planDev(parseDevArgs(['--no-web']), env, '/repo');
    const out = buildChildEnv(
      plan,
      { ...services, databaseUrl: env.DATABASE_URL, s3Endpoint: env.S3_ENDPOINT, webPort: null },
      env,
    );
    expect(out.DATABASE_MAX_CONNECTIONS).toBe('40');
    expect(out.AWS_ACCESS_KEY_ID).toBe('AKIAEXAMPLE');
    expect(out.CORS_ORIGINS).toBeUndefined();
    expect(out.WEB_PORT).toBeUndefined();
    // --print-env masks secrets that came from the caller, but shows the dev defaults it chose itself.
    const printed = formatEnv(out, env, ['AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'DATABASE_URL', 'PORT']);
    expect(printed).toContain('AWS_SECRET_ACCESS_KEY=real…(17 chars)');
    expect(printed).not.toContain('real-secret-value');
    expect(printed).toContain('PORT=3000');
  });
});

describe('choosePort', () => {
  let busy: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
    busy = undefined;
  });

  const occupy = () =>
    new Promise<number>((resolve) => {
      busy = createServer().listen(0, '127.0.0.1', () => {
        const address = busy?.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });

  it('keeps a free default, replaces a busy default with a note, refuses a busy requested port', async () => {
    const port = await occupy();
    const free = await choosePort({ name: 'api', variable: 'PORT', fallback: port + 1 });
    expect(free.note).toBeUndefined();

    const moved = await choosePort({ name: 'api', variable: 'PORT', fallback: port });
    expect(moved.port).not.toBe(port);
    expect(moved.note).toMatch(new RegExp(`port ${port} is taken.*PORT`));

    await expect(choosePort({ name: 'api', variable: 'PORT', requested: port, fallback: 3000 })).rejects.toThrow(
      PortInUseError,
    );
    const excluded = await choosePort(
      { name: 'web', variable: 'WEB_PORT', fallback: moved.port },
      '127.0.0.1',
      new Set([moved.port]),
    );
    expect(excluded.port).not.toBe(moved.port);
  });
});
