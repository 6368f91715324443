/**
 * The dev orchestrator: starts the embedded services that the environment does not provide (PGlite over the wire
 * protocol, redis-server, s3rver), migrates and seeds the database, runs api, worker and the Vite dev server with
 * prefixed output, waits until they are healthy, and stops everything it started, in order, when asked or when one
 * of its children dies. `startDevStack` is the module a test drives; `scripts/dev.ts` wraps it for the terminal.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Writable } from 'node:stream';
import { apiEnvSchema, workerEnvSchema } from '@dawg/shared/env';
import {
  buildChildEnv,
  EMBEDDED_PG_MAX_CONNECTIONS,
  formatEnv,
  planDev,
  type DevArgs,
  type DevPlan,
  type ResolvedServices,
} from './config';
import { checkApiHealth, checkHttp, waitUntilHealthy } from './health';
import { cmdlineOf, leftovers, readPidFile, removePidFile, writePidFile, type PidRecord } from './pid-file';
import { startEmbeddedPostgres } from './pglite';
import { choosePort, freePort } from './ports';
import { createPrefixWriter, isAlive, spawnService, type ServiceProcess } from './processes';
import { findExecutable, RedisMissingError, startLocalRedis } from './redis';
import { startDevFakes } from './fakes';
import { startEmbeddedS3 } from './s3';

type Env = Readonly<Record<string, string | undefined>>;

export interface DevStackOptions {
  args: DevArgs;
  env: Env;
  repoRoot: string;
  out: Writable & { isTTY?: boolean };
  /** Aborting it during start-up stops what was started and rejects with the abort reason. */
  signal?: AbortSignal;
  /** How long api, worker and web get to become healthy (default 180 s: a first Vite start on 2 cores is slow). */
  healthTimeoutMs?: number;
  /** Told the pid of every process started, as it starts (so a caller can kill them even mid start-up). */
  onSpawn?: (pid: number) => void;
}

export interface DevStack {
  env: Record<string, string>;
  urls: { api: string; worker: string; web: string | null };
  /** Every process this stack started (the orchestrator itself excluded). */
  processes(): PidRecord[];
  /** Resolves once everything is stopped, with the exit code for `pnpm dev`: 0 when asked to stop, 1 on a failure. */
  done: Promise<number>;
  /** Stops everything (children first, then redis, S3 and PGlite). Idempotent. */
  stop(reason: string, code?: number): Promise<void>;
  /** Second Ctrl-C: SIGKILL every process group at once. */
  kill(): void;
}

/** Names of the variables printed by --print-env: what the app reads plus what the orchestrator decides. */
const PRINTED = [
  ...new Set([
    ...Object.keys(apiEnvSchema.shape),
    ...Object.keys(workerEnvSchema.shape),
    'WEB_PORT',
    'VITE_API_PROXY_TARGET',
    'VITE_API_URL',
  ]),
];

/** A thing to stop on the way down, newest first. */
interface Resource {
  name: string;
  stop(): Promise<void>;
}

export interface ResolvedPorts {
  api: number;
  worker: number;
  web: number | null;
  /** Embedded services, when embedded. */
  postgres: number | null;
  redis: number | null;
  s3: number | null;
  notes: string[];
}

/** Ports for every listener this run opens: api/worker/web by the "requested or default unless taken" rule. */
export async function resolvePorts(plan: DevPlan): Promise<ResolvedPorts> {
  const taken = new Set<number>();
  const notes: string[] = [];
  const pick = async (name: string, variable: string, p: { requested?: number; fallback: number }) => {
    const choice = await choosePort({ name, variable, requested: p.requested, fallback: p.fallback }, plan.host, taken);
    taken.add(choice.port);
    if (choice.note) notes.push(choice.note);
    return choice.port;
  };
  const api = await pick('api', 'PORT', plan.ports.api);
  const worker = await pick('worker', 'WORKER_PORT', plan.ports.worker);
  const web = plan.web ? await pick('web dev server', 'WEB_PORT', plan.ports.web) : null;
  const embedded = async (on: boolean) => {
    if (!on) return null;
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    return port;
  };
  return {
    api,
    worker,
    web,
    postgres: await embedded(plan.embedded.postgres),
    redis: await embedded(plan.embedded.redis),
    s3: await embedded(plan.embedded.s3),
    notes,
  };
}

function servicesFor(plan: DevPlan, ports: ResolvedPorts, env: Env): ResolvedServices {
  return {
    databaseUrl:
      ports.postgres === null ? (env.DATABASE_URL ?? '') : `postgres://postgres@127.0.0.1:${ports.postgres}/postgres`,
    redisUrl: ports.redis === null ? (env.REDIS_URL ?? '') : `redis://127.0.0.1:${ports.redis}`,
    s3Endpoint: ports.s3 === null ? (env.S3_ENDPOINT ?? '') : `http://127.0.0.1:${ports.s3}`,
    apiPort: ports.api,
    workerPort: ports.worker,
    webPort: ports.web,
  };
}

/** The --print-env output: the plan, as KEY=value lines, with comments saying what is embedded. */
export async function describeDevEnv(args: DevArgs, env: Env, repoRoot: string): Promise<string> {
  const plan = planDev(args, env, repoRoot);
  const ports = await resolvePorts(plan);
  const childEnv = buildChildEnv(plan, servicesFor(plan, ports, env), env);
  const embedded = Object.entries(plan.embedded)
    .filter(([, on]) => on)
    .map(([name]) => name);
  const header = [
    `# pnpm dev environment (data dir ${plan.dataDir})`,
    embedded.length
      ? `# embedded: ${embedded.join(', ')} (their ports are picked free at each start)`
      : '# embedded: none',
    ...ports.notes.map((n) => `# ${n}`),
  ];
  return `${header.join('\n')}\n${formatEnv(childEnv, env, PRINTED)}\n`;
}

export class DevStartError extends Error {
  override name = 'DevStartError';
}

export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const { args, env, repoRoot } = options;
  const signal = options.signal ?? new AbortController().signal;
  const plan = planDev(args, env, repoRoot);
  const writer = createPrefixWriter(options.out, ['dev', 'redis', 'seed', 'api', 'worker', 'web']);
  const say = (text: string) => writer.line('dev', text);

  // Before anything starts: a missing redis-server is a set-up problem with a one-line fix.
  const redisBinary = plan.embedded.redis ? findExecutable('redis-server', env.PATH ?? '') : undefined;
  if (plan.embedded.redis && redisBinary === undefined) throw new RedisMissingError();

  mkdirSync(plan.dataDir, { recursive: true });
  claimDataDir(plan.dataDir, say);

  const resources: Resource[] = [];
  const children: ServiceProcess[] = [];
  const records: PidRecord[] = [];
  const recordPids = () => writePidFile(plan.dataDir, { pid: process.pid, startedAt, processes: records });
  const startedAt = new Date().toISOString();
  recordPids();

  const track = (proc: ServiceProcess) => {
    children.push(proc);
    options.onSpawn?.(proc.pid);
    records.push({ name: proc.name, pid: proc.pid, cmdline: cmdlineOf(proc.pid) });
    recordPids();
    resources.push({ name: proc.name, stop: () => proc.stop() });
  };

  let stopping: Promise<void> | undefined;
  let exitCode = 0;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));

  const stopAll = (reason: string, code = 0): Promise<void> =>
    (stopping ??= (async () => {
      exitCode = code;
      say(`stopping (${reason})`);
      // Children (api, worker, web) first and together: they close their pools against the services below.
      const apps = resources.filter((r) => ['api', 'worker', 'web', 'seed'].includes(r.name));
      await Promise.all(apps.map((r) => r.stop().catch((err: unknown) => say(`${r.name}: ${String(err)}`))));
      for (const r of [...resources].reverse()) {
        if (apps.includes(r)) continue;
        try {
          await r.stop();
        } catch (err) {
          say(`could not stop ${r.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      removePidFile(plan.dataDir);
      say(code === 0 ? 'stopped, exit 0' : `stopped after a failure, exit ${code}`);
      resolveDone(exitCode);
    })());

  // A child that dies on its own takes the stack down; during start-up it also aborts the health wait.
  const failure = new AbortController();
  const watch = (proc: ServiceProcess) => {
    void proc.exited.then(({ code, signal: sig }) => {
      if (stopping) return;
      const how = sig ? `was killed by ${sig}` : `exited with code ${code ?? '?'}`;
      const message = `${proc.name} ${how}; stopping the whole stack`;
      failure.abort(new DevStartError(message));
      void stopAll(message, 1);
    });
  };
  const startup = AbortSignal.any([signal, failure.signal]);

  try {
    const ports = await resolvePorts(plan);
    for (const note of ports.notes) say(note);

    if (ports.postgres !== null) {
      const dir = join(plan.dataDir, 'pglite');
      const pg = await startEmbeddedPostgres({
        dataDir: dir,
        port: ports.postgres,
        maxConnections: EMBEDDED_PG_MAX_CONNECTIONS,
      });
      resources.push({ name: 'postgres', stop: () => pg.stop() });
      say(`postgres: embedded PGlite at ${pg.url} (data ${dir})`);
    }
    startup.throwIfAborted();

    if (ports.redis !== null) {
      const redis = await startLocalRedis({
        dataDir: join(plan.dataDir, 'redis'),
        port: ports.redis,
        writer,
        binary: redisBinary,
      });
      track(redis.process);
      watch(redis.process);
      say(`redis: redis-server at ${redis.url}`);
    }
    startup.throwIfAborted();

    if (ports.s3 !== null) {
      const dir = join(plan.dataDir, 's3');
      const s3 = await startEmbeddedS3({ directory: dir, bucket: plan.s3.bucket, port: ports.s3 });
      resources.push({ name: 's3', stop: () => s3.stop() });
      say(`s3: embedded s3rver at ${s3.endpoint}, bucket ${s3.bucket} (data ${dir})`);
    }
    startup.throwIfAborted();

    const services = servicesFor(plan, ports, env);
    const childEnv = buildChildEnv(plan, services, env);
    resources.push(...(await startDevFakes(env.DEV_FAKES, childEnv, say)));
    const node = nodeArgs(repoRoot);

    say('migrating the database');
    await migrate(childEnv.DATABASE_URL ?? '', say);
    startup.throwIfAborted();

    const seed = spawnService({
      name: 'seed',
      command: process.execPath,
      args: [...node, join(repoRoot, 'packages/db/src/cli.ts'), 'seed'],
      cwd: repoRoot,
      env: childEnv,
      writer,
    });
    track(seed);
    const seeded = await Promise.race([
      seed.exited,
      new Promise<never>((_, reject) =>
        startup.addEventListener('abort', () => reject(startup.reason as Error), { once: true }),
      ),
    ]);
    if (seeded.code !== 0) throw new DevStartError(`seeding failed (exit ${seeded.code ?? seeded.signal})`);

    const loopback = plan.host === '0.0.0.0' || plan.host === '::' ? '127.0.0.1' : plan.host;
    const urls = {
      api: `http://${loopback}:${ports.api}`,
      worker: `http://${loopback}:${ports.worker}`,
      web: ports.web === null ? null : `http://${loopback === '127.0.0.1' ? 'localhost' : loopback}:${ports.web}`,
    };

    const launch = (name: string, args: string[], cwd = repoRoot) => {
      const proc = spawnService({ name, command: process.execPath, args, cwd, env: childEnv, writer });
      track(proc);
      watch(proc);
      return proc;
    };
    launch('api', [...node, join(repoRoot, 'packages/api/src/main.ts')]);
    launch('worker', [...node, join(repoRoot, 'packages/worker/src/main.ts')]);
    if (ports.web !== null) {
      const webDir = join(repoRoot, 'packages/web');
      launch(
        'web',
        [...node, viteBin(webDir), '--port', String(ports.web), '--strictPort', '--host', plan.host],
        webDir,
      );
    }

    const timeoutMs = options.healthTimeoutMs ?? 180_000;
    const wait = { timeoutMs, signal: startup };
    const [health] = await Promise.all([
      waitUntilHealthy('api /health', () => checkApiHealth(urls.api), wait),
      waitUntilHealthy('worker /health', () => checkHttp(`${urls.worker}/health`), wait),
      urls.web === null
        ? Promise.resolve(undefined)
        : waitUntilHealthy('web dev server', () => checkHttp(`http://${loopback}:${ports.web}/`), wait),
    ]);

    // Some programs retitle themselves after start (redis-server does): record what /proc says now.
    for (const r of records) r.cmdline = cmdlineOf(r.pid) || r.cmdline;
    recordPids();
    const connections = Object.entries(health.body?.connections ?? {}).map(([k, v]) => `${k} ${v ? 'up' : 'down'}`);
    say(`api /health: ${health.body?.status ?? 'ok'} (${connections.join(', ')})`);
    printBanner(say, { plan, urls, services, env: childEnv });

    return {
      env: childEnv,
      urls,
      processes: () => [...records],
      done,
      stop: (reason, code) => stopAll(reason, code),
      kill: () => {
        for (const c of children) if (!c.hasExited()) killGroup(c.pid);
      },
    };
  } catch (err) {
    const reason = startup.aborted ? startup.reason : err;
    const message = reason instanceof Error ? reason.message : String(reason);
    // Ctrl-C during start-up is a normal way to stop; anything else is a failure.
    await stopAll(`start-up did not finish: ${message}`, signal.aborted ? 0 : 1);
    throw reason instanceof Error ? reason : new DevStartError(message);
  }
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Refuses a data dir that a live orchestrator owns; stops processes a dead one left behind. */
function claimDataDir(dataDir: string, say: (text: string) => void): void {
  const previous = readPidFile(dataDir);
  if (previous === undefined) return;
  if (previous.pid !== process.pid && isAlive(previous.pid) && cmdlineOf(previous.pid).includes('dev')) {
    throw new DevStartError(
      `another pnpm dev (pid ${previous.pid}) is using ${dataDir}; stop it, or set DAWG_DATA_DIR to another directory`,
    );
  }
  for (const p of leftovers(previous)) {
    say(`stopping ${p.name} (pid ${p.pid}) left running by an earlier pnpm dev`);
    try {
      process.kill(-p.pid, 'SIGTERM');
    } catch {
      try {
        process.kill(p.pid, 'SIGTERM');
      } catch {
        // gone meanwhile
      }
    }
  }
  removePidFile(dataDir);
}

/**
 * Node flags of every Node child: TypeScript through tsx's loader in the same process (no wrapper process between
 * the orchestrator and the app), and the parent watch preloaded.
 */
function nodeArgs(repoRoot: string): string[] {
  const require = createRequire(join(repoRoot, 'package.json'));
  const tsx = pathToFileURL(require.resolve('tsx')).href;
  const guard = pathToFileURL(join(repoRoot, 'scripts/dev/parent-watch.ts')).href;
  return ['--import', tsx, '--import', guard];
}

function viteBin(webDir: string): string {
  return join(webDir, 'node_modules/vite/bin/vite.js');
}

async function migrate(databaseUrl: string, say: (text: string) => void): Promise<void> {
  const { createDb, migrateToLatest } = await import('@dawg/db');
  const db = createDb({ connectionString: databaseUrl, max: 1 });
  try {
    const applied = await migrateToLatest(db);
    say(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await db.destroy();
  }
}

/**
 * The logins `pnpm db:seed` creates: its defaults outside production (packages/db/src/cli.ts), or the SEED_*
 * variables when set (their passwords are not echoed).
 */
export function demoLogins(env: Env): string[] {
  const demo = env.SEED_DEMO_EMAIL || 'demo@dawg-ai.com';
  const admin = env.SEED_ADMIN_EMAIL || 'admin@dawg-ai.com';
  const password = (variable: string, fallback: string) => (env[variable] ? `(${variable})` : fallback);
  return [
    `${demo} / ${password('SEED_DEMO_PASSWORD', 'demo-password')}`,
    `${admin} / ${password('SEED_ADMIN_PASSWORD', 'admin-password')} (admin)`,
  ];
}

function printBanner(
  say: (text: string) => void,
  info: {
    plan: DevPlan;
    urls: DevStack['urls'];
    services: ResolvedServices;
    env: Env;
  },
): void {
  const { plan, urls, services } = info;
  const kind = (embedded: boolean) => (embedded ? 'embedded' : 'external');
  const lines = [
    '',
    'DAWG AI is running',
    ...(urls.web ? [`  app        ${urls.web}`] : []),
    `  api        ${urls.api}  (health ${urls.api}/health, tRPC ${urls.api}/trpc)`,
    `  worker     ${urls.worker}/health`,
    `  postgres   ${kind(plan.embedded.postgres)}  ${redact(services.databaseUrl)}`,
    `  redis      ${kind(plan.embedded.redis)}  ${redact(services.redisUrl)}`,
    `  s3         ${kind(plan.embedded.s3)}  ${services.s3Endpoint} bucket ${plan.s3.bucket}`,
    `  data dir   ${plan.dataDir}`,
    ...demoLogins(info.env).map((login, i) => `  ${i === 0 ? 'login     ' : '          '} ${login}`),
    '',
    'Ctrl-C stops everything.',
  ];
  say(lines.join('\n'));
}

/** URLs may carry passwords; the banner shows where, not how. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '****';
    return u.toString();
  } catch {
    return url;
  }
}
