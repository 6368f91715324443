/**
 * Demo mode (DEMO_MODE; the web app's VITE_DEMO_MODE): a visitor who is not signed in gets an ephemeral account of
 * their own — never a shared demo user — with a normal session and a sample project (two short local-synth takes on
 * two lanes, rendered by the worker like any generation). Demo accounts generate with the local synth only, a few
 * times per address per day (a Redis counter per address and UTC day); "keep my work" turns the account into a normal
 * one in place (sign-up's fields and checks), so its projects and tracks stay. Accounts not kept are removed with their
 * objects by the worker's `purge-expired-demo-accounts` job.
 */
import { randomUUID } from 'node:crypto';
import {
  convertEphemeralUser,
  createEphemeralUser,
  createSession,
  findEphemeralAccount,
  hashPassword,
  insertProject,
  invalidateUserSessions,
  type PublicUser,
} from '@dawg/db';
import {
  AppError,
  type ApiEnv,
  type ArrangementOp,
  createGenerationInputSchema,
  DEMO_SAMPLE,
  type DemoStatus,
  isTerminalStatus,
  type KeepDemoWorkInput,
} from '@dawg/shared';
import type { Redis } from 'ioredis';
import type { Context } from '../trpc';
import { ipLimitKey } from '../perimeter/rate-limit';
import { audit, type CallMeta } from './audit';
import { type SignedIn } from './auth';
import { admitGeneration, getGeneration, paramsOf, type GenerationDeps } from './generation';
import { assertPasswordNotEmail } from './password-policy';
import type { ProgressHub } from './progress-hub';
import { applyArrangement } from './studio';

export type DemoDeps = Pick<Context, 'db' | 'env' | 'log' | 'redis' | 'redisKey' | 'revocations'> &
  GenerationDeps & { progress: ProgressHub };

const DAY_SECONDS = 24 * 60 * 60;

export function demoStatus(env: ApiEnv): DemoStatus {
  return {
    enabled: env.DEMO_MODE,
    generationsPerDay: env.DEMO_GENERATIONS_PER_IP,
    accountHours: env.DEMO_ACCOUNT_TTL_HOURS,
  };
}

export function assertDemoMode(env: Pick<ApiEnv, 'DEMO_MODE'>): void {
  if (!env.DEMO_MODE) throw new AppError('FORBIDDEN', 'Demo mode is off on this server; sign up to use the studio');
}

/** `2026-12-07`: the per-day counters roll over at midnight UTC. */
function utcDay(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/**
 * Takes one unit of a per-address daily counter; answers the function that gives it back, or throws 429 with the
 * sentence a visitor reads when the day's allowance is used up.
 */
async function takeDaily(redis: Redis, key: string, limit: number, refusal: string): Promise<() => Promise<void>> {
  const results = await redis
    .multi()
    .incr(key)
    .expire(key, 2 * DAY_SECONDS)
    .exec();
  const count = Number(results?.[0]?.[1] ?? Number.NaN);
  if (!Number.isFinite(count)) throw new AppError('SERVICE_UNAVAILABLE', 'The demo is unavailable right now');
  if (count > limit) {
    await redis.decr(key);
    throw new AppError('TOO_MANY_REQUESTS', refusal, { extra: { limit, retryAfter: 'tomorrow (UTC)' } });
  }
  let given = false;
  return async () => {
    if (given) return;
    given = true;
    await redis.decr(key);
  };
}

/** Takes one of the address's demo generations for today (the counter behind DEMO_GENERATIONS_PER_IP). */
export interface DemoGenerationLimiter {
  take(ipKey: string): Promise<() => Promise<void>>;
}

export function createDemoGenerationLimiter(deps: Pick<DemoDeps, 'redis' | 'redisKey' | 'env'>): DemoGenerationLimiter {
  return {
    take: (ipKey) =>
      takeDaily(
        deps.redis,
        deps.redisKey('demo', 'generations', ipKey, utcDay()),
        deps.env.DEMO_GENERATIONS_PER_IP,
        `Demo accounts can make ${deps.env.DEMO_GENERATIONS_PER_IP} generations per day from one address, and ` +
          'they are used up. Keep your work (create an account) to generate more.',
      ),
  };
}

/** How long starting a demo waits for the sample takes before answering with whatever is ready. */
function sampleWaitMs(env: Pick<ApiEnv, 'REQUEST_TIMEOUT_MS'>): number {
  return Math.max(0, Math.min(25_000, env.REQUEST_TIMEOUT_MS - 3_000));
}

/** Resolves when every generation has ended or the time is up (through the process's progress reader). */
async function waitForGenerations(deps: DemoDeps, userId: string, ids: string[], timeoutMs: number): Promise<void> {
  const pending = new Set(ids);
  let wake: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribes = await Promise.all(
    ids.map((id) =>
      deps.progress.subscribe(id, (entry) => {
        if (!isTerminalStatus(entry.event.status)) return;
        pending.delete(id);
        if (pending.size === 0) wake();
      }),
    ),
  );
  const timer = setTimeout(wake, timeoutMs);
  try {
    // Subscribed first, read second: an end that came before the subscription is seen here.
    for (const id of ids) {
      const view = await getGeneration(deps, userId, id);
      if (isTerminalStatus(view.status)) pending.delete(id);
    }
    if (pending.size > 0) await done;
  } finally {
    clearTimeout(timer);
    for (const unsubscribe of unsubscribes) unsubscribe();
  }
}

/**
 * The sample project: the project row, one local-synth generation per lane (not counted against the address's
 * demo generations), then — when they have finished — the lanes with a clip of each take, as one undoable edit.
 * A take that is not ready in time still lands in the project's library; the lanes are there either way.
 */
async function createSampleProject(deps: DemoDeps, user: PublicUser): Promise<string> {
  const project = await insertProject(deps.db, user.id, {
    name: DEMO_SAMPLE.projectName,
    bpm: DEMO_SAMPLE.bpm,
    key: DEMO_SAMPLE.key,
  });
  const caller = { id: user.id, role: user.role };
  const generationIds: (string | null)[] = [];
  for (const [index, lane] of DEMO_SAMPLE.lanes.entries()) {
    const request = createGenerationInputSchema.parse({
      mode: 'simple',
      prompt: lane.prompt,
      duration: DEMO_SAMPLE.durationSec,
      bpm: DEMO_SAMPLE.bpm,
      instrumental: true,
      projectId: project.id,
    });
    try {
      const admitted = await admitGeneration(
        deps,
        caller,
        {
          kind: 'song',
          provider: 'local',
          durationSec: request.duration,
          variants: 1,
          prompt: lane.prompt,
          params: paramsOf(request, index + 1),
          projectId: project.id,
          idempotencyKey: `demo-sample-${index + 1}`,
        },
        { demoSample: true },
      );
      generationIds.push(admitted.jobId);
    } catch (err) {
      deps.log.warn({ err, userId: user.id }, 'demo sample generation was not admitted');
      generationIds.push(null);
    }
  }
  const started = generationIds.filter((id): id is string => id !== null);
  if (started.length > 0) await waitForGenerations(deps, user.id, started, sampleWaitMs(deps.env));

  const ops: ArrangementOp[] = [];
  for (const [index, lane] of DEMO_SAMPLE.lanes.entries()) {
    const laneId = randomUUID();
    ops.push({ type: 'addLane', lane: { id: laneId, name: lane.name, gainDb: index === 0 ? 0 : -3 } });
    const generationId = generationIds[index];
    if (!generationId) continue;
    const view = await getGeneration(deps, user.id, generationId);
    const track = view.status === 'succeeded' ? view.tracks[0] : undefined;
    if (track) ops.push({ type: 'addClip', clip: { laneId, trackId: track.id, startSec: 0 } });
  }
  await applyArrangement(deps, user.id, { projectId: project.id, expectedVersion: project.version, ops });
  return project.id;
}

/**
 * Starts a demo for a visitor who is not signed in: an ephemeral account of their own, a session (the caller sets the
 * cookie) and the sample project. At most DEMO_ACCOUNTS_PER_IP accounts per address per day.
 */
export async function startDemo(
  deps: DemoDeps,
  current: { id: string } | null,
  meta: CallMeta,
): Promise<SignedIn & { projectId: string }> {
  assertDemoMode(deps.env);
  if (current) throw new AppError('CONFLICT', 'You are already signed in; sign out to start a demo');
  const ipKey = ipLimitKey(meta.ip);
  await takeDaily(
    deps.redis,
    deps.redisKey('demo', 'accounts', ipKey, utcDay()),
    deps.env.DEMO_ACCOUNTS_PER_IP,
    'Too many demos were started from this address today; try again tomorrow or create an account.',
  );
  const expiresAt = new Date(Date.now() + deps.env.DEMO_ACCOUNT_TTL_HOURS * 60 * 60 * 1000);
  const user = await createEphemeralUser(deps.db, {
    // A placeholder that can never receive mail (.invalid is reserved); "keep my work" replaces it.
    email: `demo-${randomUUID()}@demo.invalid`,
    name: 'Demo visitor',
    expiresAt,
    ipKey,
  });
  const { token, session } = await createSession(deps.db, user.id, { userAgent: meta.userAgent, ip: meta.ip });
  await audit(deps, meta, { userId: user.id, action: 'demo.start', statusCode: 200 });
  const projectId = await createSampleProject(deps, user);
  return { user, token, session, projectId };
}

/**
 * "Keep my work": the caller's ephemeral account becomes a normal one with this address, name and password (the
 * sign-up policy; an address already registered is a CONFLICT on `email`). Its projects and tracks stay; the demo
 * columns are cleared; the session is replaced by a fresh one (the caller sets the new cookie).
 */
export async function keepDemoWork(
  deps: DemoDeps,
  user: PublicUser,
  input: KeepDemoWorkInput,
  meta: CallMeta,
): Promise<SignedIn> {
  // Not gated on DEMO_MODE: switching demo mode off must not strand the work of visitors already in a demo.
  const demo = await findEphemeralAccount(deps.db, user.id);
  if (!demo) throw new AppError('CONFLICT', 'This account is not a demo account; its work is already kept');
  assertPasswordNotEmail(input.password, input.email, 'password');
  const passwordHash = await hashPassword(input.password);
  const kept = await convertEphemeralUser(deps.db, user.id, {
    email: input.email,
    passwordHash,
    name: input.name ?? null,
  });
  if (!kept) throw new AppError('CONFLICT', 'This demo has expired; its work is being removed');
  await invalidateUserSessions(deps.db, user.id);
  await deps.revocations.revoke({ kind: 'user', userId: user.id });
  const { token, session } = await createSession(deps.db, user.id, { userAgent: meta.userAgent, ip: meta.ip });
  await audit(deps, meta, { userId: user.id, action: 'demo.keep', statusCode: 200 });
  return { user: kept, token, session };
}

/** The same refusal for a caller whose row is at hand (ctx.user). */
export function refuseDemoAccount(user: Pick<PublicUser, 'ephemeral'>, what: string): void {
  if (user.ephemeral) {
    throw new AppError('FORBIDDEN', `${what} is not part of the demo; keep your work (create an account) to use it`);
  }
}

/** Refuses paid features to demo accounts (the AI producer's paid providers, voice, billing, API keys). */
export async function assertNotDemoAccount(db: DemoDeps['db'], userId: string, what: string): Promise<void> {
  if (await findEphemeralAccount(db, userId)) {
    throw new AppError('FORBIDDEN', `${what} is not part of the demo; keep your work (create an account) to use it`);
  }
}
