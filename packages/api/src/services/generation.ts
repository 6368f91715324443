/**
 * Generations: admission, reads and the REST status. Admission runs in ONE transaction that locks the user's row
 * (SELECT … FOR UPDATE), so concurrent requests of one user — on any api instance — are admitted one at a time:
 * the plan's monthly quota and the AI budget (spent + held + this estimate) are checked against what is committed,
 * the estimated cost is held, and the row is inserted `queued`. Only after the commit is the job enqueued (job id =
 * row id); if that fails the worker's sweeper enqueues the row later, so nothing is stuck or run twice.
 */
import { randomInt } from 'node:crypto';
import {
  canWriteProject,
  countQuotaGenerationsSince,
  createHold,
  findEphemeralAccount,
  findGenerationByIdempotencyKey,
  findGenerationOfOwner,
  insertGeneration,
  listGenerationsOfOwner,
  listTracksOfGenerations,
  lockUserForAdmission,
  markGenerationEnqueued,
  monthStart,
  type Database,
  type GenerationRow,
} from '@dawg/db';
import {
  AppError,
  type ApiEnv,
  type CreateGenerationOutput,
  type CreateGenerationRequest,
  DEFAULT_MUSIC_MODELS,
  estimateGenerationSeconds,
  estimateMusicCost,
  GENERATION_HOLD_TTL_MS,
  GENERATION_LIMITS,
  type GenerationParams,
  type GenerationStatusOutput,
  type GenerationView,
  getPlan,
  type ListGenerationsOutput,
  type MusicProviderId,
  type Role,
  toRestStatus,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { assertWithinBudget, noteBudgetRefusal } from './budget';
import type { DemoGenerationLimiter } from './demo';
import type { GenerationQueue } from './generation-queue';
import { presignGet, type Storage, toGenerationView } from './generation-view';

export interface GenerationDeps {
  db: Kysely<Database>;
  env: ApiEnv;
  log: FastifyBaseLogger;
  storage: Storage;
  generationQueue: GenerationQueue;
  /** Demo mode's per-address counter; without it, demo accounts cannot generate on this path. */
  demoLimiter?: DemoGenerationLimiter;
}

export interface Caller {
  id: string;
  role: Role;
}

/** MUSIC_PROVIDER=test is a test-environment setting: refused at start in production. */
export function assertMusicProviderConfig(env: Pick<ApiEnv, 'NODE_ENV' | 'MUSIC_PROVIDER'>): void {
  if (env.NODE_ENV === 'production' && env.MUSIC_PROVIDER === 'test') {
    throw new Error('MUSIC_PROVIDER=test is not allowed in production');
  }
}

/**
 * Who makes the music: an explicit request (only `test` outside production or for admins, `suno` when configured,
 * `local` always), else MUSIC_PROVIDER, else Suno when SUNO_API_KEY is set, else the local synth.
 */
export function chooseMusicProvider(
  env: Pick<ApiEnv, 'NODE_ENV' | 'MUSIC_PROVIDER' | 'SUNO_API_KEY'>,
  caller: Caller,
  requested: MusicProviderId | undefined,
): MusicProviderId {
  const production = env.NODE_ENV === 'production';
  if (requested === 'test' && production && caller.role !== 'admin') {
    throw new AppError('FORBIDDEN', 'The test provider is not available', {
      details: [{ path: ['provider'], message: 'not available' }],
    });
  }
  if (requested === 'suno' && !env.SUNO_API_KEY) {
    throw new AppError('BAD_REQUEST', 'Suno is not configured on this server', {
      details: [{ path: ['provider'], message: 'not configured' }],
    });
  }
  if (requested) return requested;
  if (env.MUSIC_PROVIDER && !(production && env.MUSIC_PROVIDER === 'test')) return env.MUSIC_PROVIDER;
  return env.SUNO_API_KEY ? 'suno' : 'local';
}

/** The `generations.params` of a request: everything the worker needs to reproduce it, the seed fixed. */
export function paramsOf(input: CreateGenerationRequest, seed: number): GenerationParams {
  const common = {
    instrumental: input.instrumental,
    durationSec: input.duration,
    seed,
    variants: input.variants,
    ...(input.genre !== undefined ? { genre: input.genre } : {}),
    ...(input.bpm !== undefined ? { bpm: input.bpm } : {}),
    ...(input.key !== undefined ? { key: input.key } : {}),
    ...(input.scale !== undefined ? { scale: input.scale } : {}),
  };
  if (input.mode === 'simple') return { mode: 'simple', prompt: input.prompt, ...common };
  return {
    mode: 'custom',
    ...(input.title ? { title: input.title } : {}),
    style: input.style,
    ...(input.lyrics ? { lyrics: input.lyrics } : {}),
    ...(input.writeLyrics ? { writeLyrics: true } : {}),
    ...(input.negativeTags ? { negativeTags: input.negativeTags } : {}),
    ...common,
  };
}

/** The row's `prompt` column: what the user asked for, in one line (custom mode: title and style). */
export function promptOf(input: CreateGenerationRequest): string {
  const text = input.mode === 'simple' ? input.prompt : input.title ? `${input.title} — ${input.style}` : input.style;
  return text.slice(0, 2000);
}

function answer(row: GenerationRow, estimatedTime: number): CreateGenerationOutput {
  return { jobId: row.id, status: row.status, estimatedTime };
}

/** What admission needs to know about a request, whatever procedure made it (create, extend). */
export interface AdmissionSpec {
  kind: 'song' | 'extend';
  provider: MusicProviderId;
  durationSec: number;
  variants: number;
  prompt: string;
  params: GenerationParams;
  projectId: string | null;
  idempotencyKey: string | null;
}

/**
 * The one admission path: quota, plan length, budget and the hold are checked under the user's row lock, the row is
 * inserted `queued`, then (after the commit) the job is enqueued.
 */
export async function admitGeneration(
  deps: GenerationDeps,
  caller: Caller,
  spec: AdmissionSpec,
  opts: { demoSample?: boolean } = {},
): Promise<CreateGenerationOutput> {
  const { db, log } = deps;
  const { provider } = spec;
  const model = DEFAULT_MUSIC_MODELS[provider];
  const estimate = estimateMusicCost({
    provider,
    model,
    durationSec: spec.durationSec,
    ...(provider === 'suno' ? {} : { clips: spec.variants }),
  });
  const estimatedTime = estimateGenerationSeconds(provider, spec.durationSec, spec.variants);
  if (spec.projectId && !(await canWriteProject(db, caller.id, spec.projectId))) {
    throw new AppError('NOT_FOUND', 'Project not found', { details: [{ path: ['projectId'], message: 'not found' }] });
  }
  const idempotencyKey = spec.idempotencyKey;
  const giveBack = await takeDemoGeneration(deps, caller, provider, opts.demoSample === true);

  const admission = db.transaction().execute(async (trx) => {
    const user = await lockUserForAdmission(trx, caller.id);
    if (!user || user.disabledAt) throw new AppError('FORBIDDEN', 'This account is disabled');
    if (idempotencyKey) {
      const existing = await findGenerationByIdempotencyKey(trx, caller.id, idempotencyKey);
      if (existing) return { row: existing, replay: true };
    }
    const plan = getPlan(user.plan);
    if (spec.durationSec > plan.maxSongSeconds) {
      throw new AppError(
        'PAYMENT_REQUIRED',
        `Your ${plan.name} plan makes songs up to ${plan.maxSongSeconds} seconds; upgrade for longer songs`,
        { details: [{ path: ['duration'], message: `at most ${plan.maxSongSeconds} on the ${plan.name} plan` }] },
      );
    }
    const since = monthStart();
    const used = await countQuotaGenerationsSince(trx, caller.id, since);
    if (used >= plan.generationsPerMonth) {
      const resetsAt = new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth() + 1, 1)).toISOString();
      throw new AppError(
        'PAYMENT_REQUIRED',
        `Monthly generation quota reached: your ${plan.name} plan includes ${plan.generationsPerMonth} ` +
          `generations per month and ${used} were used`,
        { extra: { quota: plan.generationsPerMonth, used, resetsAt } },
      );
    }
    if (estimate > 0) await assertWithinBudget(trx, caller.id, user.plan, estimate, 'this generation', { log });
    const row = await insertGeneration(trx, {
      ownerId: caller.id,
      projectId: spec.projectId,
      kind: spec.kind,
      prompt: spec.prompt,
      params: spec.params,
      provider,
      model,
      estimatedCostMicro: estimate,
      idempotencyKey,
    });
    await createHold(trx, {
      userId: caller.id,
      kind: 'music',
      amountMicro: estimate,
      generationId: row.id,
      expiresAt: new Date(Date.now() + GENERATION_HOLD_TTL_MS),
    });
    return { row, replay: false };
  });
  const admitted = await admission.catch(async (err: unknown) => {
    await giveBack();
    // A refusal for budget is the 100 % alert (written after the rollback, once per period).
    await noteBudgetRefusal(db, caller.id, err, log);
    throw err;
  });

  if (admitted.replay) {
    await giveBack();
    return answer(admitted.row, estimatedTime);
  }
  try {
    await deps.generationQueue.enqueue(admitted.row.id);
    await markGenerationEnqueued(db, admitted.row.id);
  } catch (err) {
    // Committed but not enqueued: the sweeper re-enqueues rows left queued without a job.
    log.warn({ err, generationId: admitted.row.id }, 'enqueue failed; the sweeper will pick the generation up');
  }
  return answer(admitted.row, estimatedTime);
}

/**
 * Demo accounts (demo mode) make music with the local synth only, and — except for their sample project — take one of
 * their address's generations for the day. Answers the function that gives it back (a refused or replayed admission).
 */
async function takeDemoGeneration(
  deps: GenerationDeps,
  caller: Caller,
  provider: MusicProviderId,
  sample: boolean,
): Promise<() => Promise<void>> {
  const nothing = () => Promise.resolve();
  const demo = await findEphemeralAccount(deps.db, caller.id);
  if (!demo) return nothing;
  if (provider !== 'local') {
    throw new AppError('FORBIDDEN', 'Demo accounts make music with the built-in synth only', {
      details: [{ path: ['provider'], message: 'only "local" in the demo' }],
    });
  }
  if (sample) return nothing;
  if (!deps.demoLimiter || !demo.ipKey) {
    throw new AppError('FORBIDDEN', 'Demo accounts cannot generate here; keep your work (create an account) first');
  }
  const giveBack = await deps.demoLimiter.take(demo.ipKey);
  return () => giveBack().catch((err: unknown) => deps.log.warn({ err }, 'giving back a demo generation failed'));
}

/** Demo accounts: the local synth whatever the server's default; another provider or paid lyrics are refused. */
async function demoProvider(deps: GenerationDeps, caller: Caller, input: CreateGenerationRequest) {
  if (!(await findEphemeralAccount(deps.db, caller.id))) return null;
  if (input.provider && input.provider !== 'local') {
    throw new AppError('FORBIDDEN', 'Demo accounts make music with the built-in synth only', {
      details: [{ path: ['provider'], message: 'only "local" in the demo' }],
    });
  }
  if (input.mode === 'custom' && input.writeLyrics) {
    throw new AppError('FORBIDDEN', 'Written lyrics are not part of the demo', {
      details: [{ path: ['writeLyrics'], message: 'not available in the demo' }],
    });
  }
  return 'local' as const;
}

export async function createGeneration(
  deps: GenerationDeps,
  caller: Caller,
  input: CreateGenerationRequest,
): Promise<CreateGenerationOutput> {
  const provider = (await demoProvider(deps, caller, input)) ?? chooseMusicProvider(deps.env, caller, input.provider);
  const seed = input.seed ?? randomInt(0, GENERATION_LIMITS.SEED_MAX);
  return admitGeneration(deps, caller, {
    kind: 'song',
    provider,
    durationSec: input.duration,
    variants: input.variants,
    prompt: promptOf(input),
    params: paramsOf(input, seed),
    projectId: input.projectId ?? null,
    idempotencyKey: input.idempotencyKey ?? null,
  });
}

async function ownedRow(deps: Pick<GenerationDeps, 'db'>, ownerId: string, id: string): Promise<GenerationRow> {
  const row = await findGenerationOfOwner(deps.db, ownerId, id);
  // Another user's generation is "not found", never "forbidden": ids are not probeable.
  if (!row) throw new AppError('NOT_FOUND', 'Generation not found');
  return row;
}

export async function generationView(deps: Pick<GenerationDeps, 'db' | 'storage'>, row: GenerationRow) {
  const tracks = await listTracksOfGenerations(deps.db, row.owner_id, [row.id]);
  return toGenerationView(deps.storage, row, tracks);
}

export async function getGeneration(
  deps: Pick<GenerationDeps, 'db' | 'storage'>,
  ownerId: string,
  id: string,
): Promise<GenerationView> {
  return generationView(deps, await ownedRow(deps, ownerId, id));
}

export async function listGenerations(
  deps: Pick<GenerationDeps, 'db' | 'storage'>,
  ownerId: string,
  input: {
    limit: number;
    cursor?: string | undefined;
    projectId?: string | undefined;
    status?: GenerationRow['status'];
  },
): Promise<ListGenerationsOutput> {
  const { rows, nextCursor } = await listGenerationsOfOwner(deps.db, ownerId, {
    limit: input.limit,
    ...(input.cursor ? { cursor: input.cursor } : {}),
    ...(input.projectId ? { projectId: input.projectId } : {}),
    ...(input.status ? { status: input.status } : {}),
  });
  const tracks = await listTracksOfGenerations(
    deps.db,
    ownerId,
    rows.map((r) => r.id),
  );
  return { items: await Promise.all(rows.map((r) => toGenerationView(deps.storage, r, tracks))), nextCursor };
}

/** The seed's status answer: `completed` on success, with a presigned URL of the first take's MP3. */
export async function generationStatus(
  deps: Pick<GenerationDeps, 'db' | 'storage'>,
  ownerId: string,
  id: string,
): Promise<GenerationStatusOutput> {
  const row = await ownedRow(deps, ownerId, id);
  let audioUrl: string | null = null;
  if (row.status === 'succeeded') {
    const [first] = await listTracksOfGenerations(deps.db, ownerId, [row.id]);
    audioUrl = await presignGet(deps.storage, first?.mp3_key ?? null);
  }
  return {
    jobId: row.id,
    status: toRestStatus(row.status),
    stage: row.stage,
    progress: row.progress,
    audioUrl,
    ...(row.error && row.status === 'failed' ? { error: row.error } : {}),
  };
}
