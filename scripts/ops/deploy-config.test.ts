/**
 * The deployment configurations are valid and say what docs/deploy.md says: Railway services for api and worker
 * (Dockerfile builds, start commands, health checks, migrations before deploy, env lists naming only variables the
 * processes read), multi-stage non-root Dockerfiles built with `pnpm deploy`, and the web app's Vercel config (workspace
 * install, build, output, backend rewrites ahead of the SPA fallback, cache and security headers).
 */
import { existsSync, readFileSync } from 'node:fs';
import { SECURITY_HEADERS } from '@dawg/api/http/security';
import { apiEnvSchema, workerEnvSchema } from '@dawg/shared';
import { repoPath } from '@dawg/testing';
import { describe, expect, it } from 'vitest';
import { REQUIRED_PRODUCTION_VARS } from '../env-check';

const read = (p: string) => readFileSync(repoPath(p), 'utf8');
const json = (p: string) => JSON.parse(read(p)) as Record<string, any>;

function envList(p: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of read(p).split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    expect(m, `${p}: "${line}" is not NAME=value`).not.toBeNull();
    vars[m![1]!] = m![2]!;
  }
  return vars;
}

/** The `start` script of a server package. */
function startScript(service: 'api' | 'worker'): string {
  return (json(`packages/${service}/package.json`) as { scripts: { start: string } }).scripts.start;
}

describe('Railway', () => {
  for (const service of ['api', 'worker'] as const) {
    it(`${service}: Dockerfile build, start command, health check`, () => {
      const config = json(`deploy/railway/${service}.json`);
      expect(config.build.builder).toBe('DOCKERFILE');
      expect(existsSync(repoPath(config.build.dockerfilePath as string))).toBe(true);
      // The production build, started as the package's `start` script (what the RSS benchmark measures).
      expect(config.deploy.startCommand).toBe(startScript(service));
      expect(startScript(service)).toMatch(/^node (--\S+ )*dist\/main\.mjs$/);
      expect(config.deploy.healthcheckPath).toBe('/health');
      expect(config.deploy.restartPolicyType).toBe('ON_FAILURE');
      // Long enough for in-flight work to finish after SIGTERM (SHUTDOWN_TIMEOUT_MS defaults to 25 s).
      expect(config.deploy.drainingSeconds).toBeGreaterThan(25);
    });
  }

  it('api: migrations run before a deploy goes live', () => {
    const config = json('deploy/railway/api.json');
    expect(config.deploy.preDeployCommand.join(' ')).toMatch(/@dawg\/db\/src\/cli\.ts migrate$/);
    expect(existsSync(repoPath('packages/db/src/cli.ts'))).toBe(true);
  });

  it('env lists name only variables the processes read, and every production requirement', () => {
    const api = envList('deploy/railway/api.env.example');
    const worker = envList('deploy/railway/worker.env.example');
    const apiKeys = new Set(Object.keys(apiEnvSchema.shape));
    const workerKeys = new Set([...Object.keys(workerEnvSchema.shape), 'PORT']); // PORT: Railway's health-check port
    expect(Object.keys(api).filter((k) => !apiKeys.has(k))).toEqual([]);
    expect(Object.keys(worker).filter((k) => !workerKeys.has(k))).toEqual([]);
    expect(REQUIRED_PRODUCTION_VARS.filter((k) => !(k in api))).toEqual([]);
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'AWS_S3_BUCKET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
      expect(worker, k).toHaveProperty(k);
    }
    expect(worker.PORT).toBe(worker.WORKER_PORT);
    // Secrets are never filled in.
    for (const k of ['JWT_SECRET', 'SESSION_SECRET', 'STRIPE_SECRET_KEY', 'AWS_SECRET_ACCESS_KEY', 'DATABASE_URL']) {
      expect(api[k], k).toBe('');
    }
  });
});

describe('Dockerfiles', () => {
  for (const service of ['api', 'worker'] as const) {
    it(`${service}: multi-stage, pnpm deploy, non-root, health check`, () => {
      const text = read(`deploy/docker/${service}.Dockerfile`);
      const stages = [...text.matchAll(/^FROM\s+\S+(?:\s+AS\s+(\w+))?/gm)].map((m) => m[1]);
      expect(stages.length).toBeGreaterThanOrEqual(3);
      expect(text).toContain('--frozen-lockfile');
      expect(text).toMatch(new RegExp(`pnpm --filter @dawg/${service} deploy --prod /out`));
      const runtime = text.slice(text.lastIndexOf('\nFROM '));
      expect(runtime).toMatch(/^USER node$/m);
      expect(runtime).toContain('COPY --from=build --chown=node:node /out /app');
      expect(runtime).toMatch(/^HEALTHCHECK .*\n.*\/health/m);
      // Built in the build stage, started as the package's `start` script.
      expect(text).toContain(`node scripts/build-server.mjs ${service} --outdir /out/dist`);
      const cmd = /^CMD (\[.*\])$/m.exec(runtime)?.[1];
      expect(JSON.parse(cmd ?? 'null')).toEqual(startScript(service).split(' '));
      // The tsx version of the image is the repository's.
      const tsx = /tsx@(\d+\.\d+\.\d+)/.exec(runtime)?.[1];
      expect(read('pnpm-lock.yaml')).toContain(`tsx@${tsx}`);
      for (const [, src] of text.matchAll(/^COPY (?!--from)(\S+)/gm)) {
        expect(existsSync(repoPath(src!)), `COPY ${src}`).toBe(true);
      }
    });
  }

  it('the worker image has ffmpeg', () => {
    expect(read('deploy/docker/worker.Dockerfile')).toMatch(/apt-get install .*ffmpeg/);
  });
});

describe('Vercel (packages/web/vercel.json)', () => {
  const config = json('packages/web/vercel.json');
  const rewrites = config.rewrites as { source: string; destination: string }[];

  /** Vercel sources are path-to-regexp patterns; the ones used here are `:path*`, plain paths and a raw group. */
  function matches(source: string, path: string): boolean {
    const pattern = source.replace(/:path\*/, '(.*)');
    return new RegExp(`^${pattern}$`).test(path);
  }
  const target = (path: string) => rewrites.find((r) => matches(r.source, path))?.destination;

  it('installs the workspace and builds the web app into dist', () => {
    expect(config.installCommand).toMatch(/cd \.\.\/\.\. && .*pnpm install --frozen-lockfile/);
    expect(config.buildCommand).toBe('cd ../.. && pnpm --filter @dawg/web build');
    expect(config.outputDirectory).toBe('dist');
    expect(read('packages/web/vite.config.ts')).toContain("outDir ?? 'dist'");
  });

  it('sends /api, /trpc and /health to the backend, and everything else that is not a file to the SPA', () => {
    expect(target('/api/generate')).toBe('https://api.dawg-ai.com/api/:path*');
    expect(target('/api/cost-monitoring/usage')).toBe('https://api.dawg-ai.com/api/:path*');
    expect(target('/trpc/project.list,track.list')).toBe('https://api.dawg-ai.com/trpc/:path*');
    expect(target('/health')).toBe('https://api.dawg-ai.com/health');
    // The SPA fallback must not shadow the backend even if Vercel evaluated it first.
    const fallback = rewrites.find((r) => r.destination === '/index.html')!;
    expect(rewrites.at(-1)).toBe(fallback);
    for (const path of ['/api/generate', '/api', '/trpc/x', '/health', '/assets/index-abc123.js']) {
      expect(matches(fallback.source, path), path).toBe(false);
    }
    for (const path of ['/', '/studio/8a9c', '/login', '/healthy-habits', '/apiary']) {
      expect(matches(fallback.source, path), path).toBe(true);
    }
  });

  it('caches hashed assets for a year and revalidates HTML, with the security headers everywhere', () => {
    const headersFor = (path: string) =>
      Object.fromEntries(
        (config.headers as { source: string; headers: { key: string; value: string }[] }[])
          .filter((h) => matches(h.source, path))
          .flatMap((h) => h.headers.map((x) => [x.key.toLowerCase(), x.value])),
      );
    expect(headersFor('/assets/index-abc123.js')['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const page of ['/', '/index.html', '/studio/8a9c']) {
      const h = headersFor(page);
      expect(h['cache-control'], page).toBe('public, max-age=0, must-revalidate');
      expect(h['strict-transport-security']).toBe(SECURITY_HEADERS['strict-transport-security']);
      expect(h['x-frame-options']).toBe('DENY');
      expect(h['referrer-policy']).toBe(SECURITY_HEADERS['referrer-policy']);
      expect(h['x-content-type-options']).toBe('nosniff');
      // The api's CSP, with the audio origins the studio fetches from (S3 / CloudFront) added to connect-src.
      const csp = h['content-security-policy'] as string;
      for (const directive of SECURITY_HEADERS['content-security-policy']!.split(';')) {
        if (directive.startsWith('connect-src')) continue;
        expect(csp.split(';'), directive).toContain(directive);
      }
      expect(csp).toMatch(/connect-src 'self' https:\/\/api\.dawg-ai\.com wss:\/\/api\.dawg-ai\.com .*amazonaws\.com/);
    }
  });
});
