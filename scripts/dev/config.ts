/**
 * What `pnpm dev` will run, decided from its flags and the caller's environment before anything starts: which
 * backing services are embedded (the variable is unset) or external (the variable is set), where their data lives,
 * and the environment every child process gets. Pure functions, so the rules are unit-tested.
 */
import { resolve } from 'node:path';
import { DEV_DEFAULTS } from '@dawg/shared/env';

export interface DevArgs {
  /** Start the Vite dev server (off with --no-web, i.e. `pnpm dev:unified`). */
  web: boolean;
  /** Print the environment the children would get, start nothing. */
  printEnv: boolean;
  help: boolean;
}

export const DEV_USAGE = `Usage: pnpm dev [--no-web] [--print-env]

Starts the whole DAWG AI stack on this machine: api, worker and the web dev server, plus an embedded
Postgres (PGlite), redis-server and an S3-compatible server for whichever of DATABASE_URL, REDIS_URL
and S3_ENDPOINT is unset. Ctrl-C stops everything it started.

  --no-web      api and worker only (pnpm dev:unified)
  --print-env   print the environment the processes would get and exit
  -h, --help    this text

Environment: PORT (api, default 3000), WORKER_PORT (default 3001), WEB_PORT (default 5173),
DAWG_DATA_DIR (embedded data, default ./.data), DATABASE_URL, REDIS_URL, S3_ENDPOINT, AWS_*.`;

export class DevUsageError extends Error {
  override name = 'DevUsageError';
}

export function parseDevArgs(argv: readonly string[]): DevArgs {
  const args: DevArgs = { web: true, printEnv: false, help: false };
  for (const arg of argv) {
    if (arg === '--no-web') args.web = false;
    else if (arg === '--print-env') args.printEnv = true;
    else if (arg === '-h' || arg === '--help') args.help = true;
    // `pnpm dev -- --no-web` forwards the separator itself.
    else if (arg === '--') continue;
    else throw new DevUsageError(`unknown argument ${arg}\n\n${DEV_USAGE}`);
  }
  return args;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Empty counts as unset, as in @dawg/shared's parseEnv. */
function read(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function readPort(env: Env, name: string): number | undefined {
  const raw = read(env, name);
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DevUsageError(`${name}=${raw} is not a port`);
  return port;
}

export interface DevPlan {
  repoRoot: string;
  /** Embedded services keep their files here (DAWG_DATA_DIR, default <repo>/.data). */
  dataDir: string;
  /**
   * api and web bind here (HOST, default loopback: the dev stack has demo credentials, so not on the LAN unless
   * asked). Embedded services always bind 127.0.0.1.
   */
  host: string;
  web: boolean;
  embedded: { postgres: boolean; redis: boolean; s3: boolean };
  ports: {
    api: { requested?: number; fallback: number };
    worker: { requested?: number; fallback: number };
    web: { requested?: number; fallback: number };
  };
  s3: { bucket: string; region: string };
}

export function planDev(args: DevArgs, env: Env, repoRoot: string): DevPlan {
  if (read(env, 'NODE_ENV') === 'production') {
    throw new DevUsageError('NODE_ENV=production: pnpm dev runs development defaults and embedded services only');
  }
  const dataDir = resolve(repoRoot, read(env, 'DAWG_DATA_DIR') ?? '.data');
  return {
    repoRoot,
    dataDir,
    host: read(env, 'HOST') ?? '127.0.0.1',
    web: args.web,
    embedded: {
      postgres: read(env, 'DATABASE_URL') === undefined,
      redis: read(env, 'REDIS_URL') === undefined,
      s3: read(env, 'S3_ENDPOINT') === undefined,
    },
    ports: {
      api: { requested: readPort(env, 'PORT'), fallback: 3000 },
      worker: { requested: readPort(env, 'WORKER_PORT'), fallback: 3001 },
      web: { requested: readPort(env, 'WEB_PORT'), fallback: 5173 },
    },
    s3: {
      bucket: read(env, 'AWS_S3_BUCKET') ?? DEV_DEFAULTS.AWS_S3_BUCKET ?? 'dawg-ai-audio-dev',
      region: read(env, 'AWS_REGION') ?? DEV_DEFAULTS.AWS_REGION ?? 'us-east-1',
    },
  };
}

/** Credentials s3rver accepts (it checks signatures against these). */
export const EMBEDDED_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/**
 * PGlite runs one query at a time behind the socket server's multiplexer, and the server refuses connections past
 * its maximum; the api and worker pools together must stay below it, with room for `pnpm db:*` commands.
 */
export const EMBEDDED_PG_MAX_CONNECTIONS = 16;
export const EMBEDDED_PG_POOL_PER_PROCESS = 5;

export interface ResolvedServices {
  databaseUrl: string;
  redisUrl: string;
  s3Endpoint: string;
  apiPort: number;
  workerPort: number;
  /** null with --no-web. */
  webPort: number | null;
}

/** Variables inherited from a test runner that would change how the children behave. */
const DROPPED = /^(VITEST|VITEST_.*|INIT_CWD|npm_.*|PNPM_SCRIPT_SRC_DIR)$/;

/**
 * The environment of api, worker, web and the seed command: the caller's environment (so real keys pass through),
 * then the addresses of the services this run decided on.
 */
export function buildChildEnv(plan: DevPlan, services: ResolvedServices, env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && !DROPPED.test(key)) out[key] = value;

  const loopback = plan.host === '0.0.0.0' || plan.host === '::' ? '127.0.0.1' : plan.host;
  out.NODE_ENV = read(env, 'NODE_ENV') ?? 'development';
  out.DATABASE_URL = services.databaseUrl;
  out.REDIS_URL = services.redisUrl;
  out.S3_ENDPOINT = services.s3Endpoint;
  out.AWS_S3_BUCKET = plan.s3.bucket;
  out.AWS_REGION = plan.s3.region;
  if (plan.embedded.s3) {
    out.AWS_ACCESS_KEY_ID = EMBEDDED_S3_CREDENTIALS.accessKeyId;
    out.AWS_SECRET_ACCESS_KEY = EMBEDDED_S3_CREDENTIALS.secretAccessKey;
  }
  if (plan.embedded.postgres) {
    const asked = Number(read(env, 'DATABASE_MAX_CONNECTIONS') ?? EMBEDDED_PG_POOL_PER_PROCESS);
    out.DATABASE_MAX_CONNECTIONS = String(Math.min(asked, EMBEDDED_PG_POOL_PER_PROCESS));
  }
  // The seed's production limits (100/200 requests per 15 min) would throttle one developer clicking through the
  // studio; loopback is exempt unless the developer sets their own list.
  out.WHITELISTED_IPS = read(env, 'WHITELISTED_IPS') ?? '127.0.0.1,::1,::ffff:127.0.0.1';
  out.HOST = plan.host;
  out.PORT = String(services.apiPort);
  out.WORKER_PORT = String(services.workerPort);
  out.WORKER_HEALTH_URL = read(env, 'WORKER_HEALTH_URL') ?? `http://${loopback}:${services.workerPort}/health`;
  const apiUrl = `http://${loopback}:${services.apiPort}`;
  out.VITE_API_PROXY_TARGET = read(env, 'VITE_API_PROXY_TARGET') ?? apiUrl;
  if (services.webPort !== null) {
    out.WEB_PORT = String(services.webPort);
    out.CORS_ORIGINS =
      read(env, 'CORS_ORIGINS') ?? `http://localhost:${services.webPort},http://127.0.0.1:${services.webPort}`;
  }
  return out;
}

const SECRET_NAME = /(SECRET|PASSWORD|TOKEN|_KEY$|_KEY_ID$|DSN)/;

/** `KEY=value` lines of the variables `pnpm dev` decides or that the app reads; secrets the user set are masked. */
export function formatEnv(childEnv: Record<string, string>, callerEnv: Env, names: readonly string[]): string {
  const lines: string[] = [];
  for (const name of [...names].sort()) {
    const value = childEnv[name];
    if (value === undefined) continue;
    const fromCaller = read(callerEnv, name) === value;
    const shown = fromCaller && SECRET_NAME.test(name) && value !== DEV_DEFAULTS[name] ? mask(value) : value;
    lines.push(`${name}=${shown}`);
  }
  return lines.join('\n');
}

function mask(value: string): string {
  return value.length <= 8 ? '****' : `${value.slice(0, 4)}…(${value.length} chars)`;
}
