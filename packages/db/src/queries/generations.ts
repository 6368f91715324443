/**
 * Generation rows: admission (user lock, quota count, insert), owner-scoped reads and cursor paging for the api, and
 * the worker's state machine. Every worker write names the attempt it belongs to (`attempts` is bumped when a run
 * starts), so a late write from an abandoned attempt (handed back at shutdown, stalled) cannot overwrite a newer one,
 * and terminal rows never move again.
 */
import type { GenerationKind, GenerationStage, GenerationStatus, PlanId, Provider, Role } from '@dawg/shared';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { json, type Database, type GenerationsTable, type JsonObject } from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type GenerationRow = Selectable<GenerationsTable>;

/** Statuses that use up a month's quota (failed and canceled work is refunded and does not count). */
export const QUOTA_STATUSES = ['queued', 'running', 'succeeded'] as const satisfies readonly GenerationStatus[];

/**
 * Locks the user's row for the rest of the transaction (SELECT … FOR UPDATE): admissions of one user run one at a
 * time, so the quota and budget they check cannot change before they insert.
 */
export async function lockUserForAdmission(
  trx: Transaction<Database>,
  userId: string,
): Promise<{ id: string; plan: PlanId; role: Role; disabledAt: Date | null } | undefined> {
  const row = await trx
    .selectFrom('users')
    .select(['id', 'plan', 'role', 'disabled_at'])
    .where('id', '=', userId)
    .forUpdate()
    .executeTakeFirst();
  return row ? { id: row.id, plan: row.plan, role: row.role, disabledAt: row.disabled_at } : undefined;
}

/** Generations of a user created since `since` that count against the monthly quota. */
export async function countQuotaGenerationsSince(db: DbOrTx, ownerId: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('generations')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('owner_id', '=', ownerId)
    .where('created_at', '>=', since)
    .where('status', 'in', [...QUOTA_STATUSES])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findGenerationByIdempotencyKey(
  db: DbOrTx,
  ownerId: string,
  key: string,
): Promise<GenerationRow | undefined> {
  return db
    .selectFrom('generations')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

export interface NewGeneration {
  ownerId: string;
  projectId: string | null;
  kind: GenerationKind;
  prompt: string;
  params: JsonObject;
  provider: Provider;
  model: string;
  estimatedCostMicro: number;
  idempotencyKey: string | null;
}

export async function insertGeneration(db: DbOrTx, g: NewGeneration): Promise<GenerationRow> {
  return db
    .insertInto('generations')
    .values({
      owner_id: g.ownerId,
      project_id: g.projectId,
      kind: g.kind,
      prompt: g.prompt,
      params: json(g.params),
      provider: g.provider,
      model: g.model,
      estimated_cost_micro: g.estimatedCostMicro,
      idempotency_key: g.idempotencyKey,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Whether the user may put work into the project: its owner or an editor. */
export async function canWriteProject(db: DbOrTx, userId: string, projectId: string): Promise<boolean> {
  const row = await db
    .selectFrom('projects')
    .select('projects.id')
    .where('projects.id', '=', projectId)
    .where((eb) =>
      eb.or([
        eb('projects.owner_id', '=', userId),
        eb.exists(
          eb
            .selectFrom('project_members')
            .select(sql.lit(1).as('one'))
            .whereRef('project_members.project_id', '=', 'projects.id')
            .where('project_members.user_id', '=', userId)
            .where('project_members.role', '=', 'editor'),
        ),
      ]),
    )
    .executeTakeFirst();
  return row !== undefined;
}

/** Any owner's row: for the worker, which acts on ids it was given by the api. */
export async function findGeneration(db: DbOrTx, id: string): Promise<GenerationRow | undefined> {
  return db.selectFrom('generations').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findGenerationOfOwner(
  db: DbOrTx,
  ownerId: string,
  id: string,
): Promise<GenerationRow | undefined> {
  return db
    .selectFrom('generations')
    .selectAll()
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .executeTakeFirst();
}

/**
 * A page of the owner's generations, newest first. The cursor is the id of the last row of the previous page; the
 * comparison uses that row's exact (created_at, id), so rows created in the same millisecond are neither skipped nor
 * repeated.
 */
export async function listGenerationsOfOwner(
  db: DbOrTx,
  ownerId: string,
  opts: { limit: number; cursor?: string; projectId?: string; status?: GenerationStatus },
): Promise<{ rows: GenerationRow[]; nextCursor: string | null }> {
  let query = db
    .selectFrom('generations')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(opts.limit + 1);
  if (opts.projectId) query = query.where('project_id', '=', opts.projectId);
  if (opts.status) query = query.where('status', '=', opts.status);
  if (opts.cursor) {
    const cursor = opts.cursor;
    query = query.where(({ eb, refTuple, selectFrom }) =>
      eb(
        refTuple('created_at', 'id'),
        '<',
        selectFrom('generations as c')
          .select(['c.created_at', 'c.id'])
          .where('c.id', '=', cursor)
          .where('c.owner_id', '=', ownerId)
          .$asTuple('created_at', 'id'),
      ),
    );
  }
  const rows = await query.execute();
  const more = rows.length > opts.limit;
  const page = more ? rows.slice(0, opts.limit) : rows;
  return { rows: page, nextCursor: more ? (page[page.length - 1]?.id ?? null) : null };
}

export async function markGenerationEnqueued(db: DbOrTx, id: string): Promise<void> {
  await db.updateTable('generations').set({ enqueued_at: new Date() }).where('id', '=', id).execute();
}

/**
 * Unfinished rows untouched since before `before` (queued or running; every stage write touches `updated_at`),
 * oldest first: the sweeper checks each one's job.
 */
export async function findStaleGenerations(
  db: DbOrTx,
  before: Date,
  limit: number,
): Promise<{ id: string; status: 'queued' | 'running' }[]> {
  const rows = await db
    .selectFrom('generations')
    .select(['id', 'status'])
    .where('status', 'in', ['queued', 'running'])
    .where('updated_at', '<', before)
    .orderBy('updated_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id, status: r.status as 'queued' | 'running' }));
}

/** running → queued for a row whose job vanished (its worker died and the job is gone): it will run again. */
export async function requeueOrphanedGeneration(db: DbOrTx, id: string): Promise<boolean> {
  const result = await db
    .updateTable('generations')
    .set((eb) => ({ status: 'queued', stage: 'queued', progress: 0, stalls: eb('stalls', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Starts a run: queued (or running, when a stalled run is taken over) → running, attempts + 1. Undefined when the
 * row is gone or already terminal.
 */
export async function startGenerationAttempt(
  db: DbOrTx,
  id: string,
  stage: GenerationStage,
  progress: number,
): Promise<GenerationRow | undefined> {
  return db
    .updateTable('generations')
    .set((eb) => ({
      status: 'running',
      stage,
      progress,
      error: null,
      error_code: null,
      attempts: eb('attempts', '+', 1),
      // Taking over a row that is still `running` means its last attempt was lost (dead or stalled worker).
      stalls: sql<number>`stalls + case when status = 'running' then 1 else 0 end`,
      started_at: eb.fn.coalesce('started_at', sql<Date>`now()`),
    }))
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'running'])
    .returningAll()
    .executeTakeFirst();
}

/** Records a stage of the current attempt; false when the attempt is no longer the row's. */
export async function setGenerationStage(
  db: DbOrTx,
  id: string,
  attempt: number,
  stage: GenerationStage,
  progress: number,
): Promise<boolean> {
  const result = await db
    .updateTable('generations')
    .set({ stage, progress })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('attempts', '=', attempt)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** running → queued: the attempt failed but another will follow (BullMQ retry or hand-back). */
export async function requeueGeneration(db: DbOrTx, id: string, attempt: number, reason: string): Promise<boolean> {
  const result = await db
    .updateTable('generations')
    .set({ status: 'queued', stage: 'queued', progress: 0, error: reason })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('attempts', '=', attempt)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Locks the row of an attempt for its final transaction; undefined when that attempt is no longer current. */
export async function lockGenerationAttempt(
  trx: Transaction<Database>,
  id: string,
  attempt: number | null,
): Promise<GenerationRow | undefined> {
  let query = trx
    .selectFrom('generations')
    .selectAll()
    .where('id', '=', id)
    .where('status', 'in', ['queued', 'running'])
    .forUpdate();
  if (attempt !== null) query = query.where('attempts', '=', attempt);
  return query.executeTakeFirst();
}

export async function markGenerationSucceeded(
  trx: Transaction<Database>,
  id: string,
  result: { actualCostMicro: number; durationMs: number },
): Promise<void> {
  await trx
    .updateTable('generations')
    .set({
      status: 'succeeded',
      stage: 'done',
      progress: 100,
      error: null,
      error_code: null,
      actual_cost_micro: result.actualCostMicro,
      duration_ms: result.durationMs,
      completed_at: new Date(),
    })
    .where('id', '=', id)
    .execute();
}

export async function markGenerationFailed(
  trx: Transaction<Database>,
  id: string,
  failure: { error: string; errorCode: string; durationMs: number | null },
): Promise<void> {
  await trx
    .updateTable('generations')
    .set({
      status: 'failed',
      error: failure.error,
      error_code: failure.errorCode,
      duration_ms: failure.durationMs,
      completed_at: new Date(),
    })
    .where('id', '=', id)
    .execute();
}

export type CancelOutcome =
  | { outcome: 'not_found' }
  | { outcome: 'finished'; status: GenerationStatus }
  | { outcome: 'canceled' }
  | { outcome: 'requested' };

/**
 * A user cancels their generation, in one transaction on the locked row: a queued one is `canceled` at once with its
 * hold released (no worker has it; a job that still fires finds it terminal); a running one records
 * `cancel_requested_at` (its worker stops it, refunds and cleans up); a finished one is left as it is.
 */
export async function cancelGenerationOfOwner(
  trx: Transaction<Database>,
  ownerId: string,
  id: string,
): Promise<CancelOutcome> {
  const row = await trx
    .selectFrom('generations')
    .select(['id', 'status'])
    .where('id', '=', id)
    .where('owner_id', '=', ownerId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) return { outcome: 'not_found' };
  if (row.status === 'queued') {
    await trx
      .updateTable('generations')
      .set({
        status: 'canceled',
        error: 'Canceled',
        error_code: 'canceled',
        cancel_requested_at: new Date(),
        completed_at: new Date(),
      })
      .where('id', '=', id)
      .execute();
    await trx
      .updateTable('budget_holds')
      .set({ status: 'released', resolved_at: new Date() })
      .where('generation_id', '=', id)
      .where('status', '=', 'active')
      .execute();
    return { outcome: 'canceled' };
  }
  if (row.status === 'running') {
    await trx
      .updateTable('generations')
      .set((eb) => ({ cancel_requested_at: eb.fn.coalesce('cancel_requested_at', sql<Date>`now()`) }))
      .where('id', '=', id)
      .execute();
    return { outcome: 'requested' };
  }
  return { outcome: 'finished', status: row.status };
}

/** The worker's end of a cancel: the row (locked by lockGenerationAttempt) becomes `canceled`. */
export async function markGenerationCanceled(
  trx: Transaction<Database>,
  id: string,
  result: { durationMs: number | null },
): Promise<void> {
  await trx
    .updateTable('generations')
    .set((eb) => ({
      status: 'canceled',
      error: 'Canceled',
      error_code: 'canceled',
      duration_ms: result.durationMs,
      completed_at: new Date(),
      cancel_requested_at: eb.fn.coalesce('cancel_requested_at', sql<Date>`now()`),
    }))
    .where('id', '=', id)
    .execute();
}

/** Whether the user asked to cancel the generation (the worker checks between steps). */
export async function isGenerationCancelRequested(db: DbOrTx, id: string): Promise<boolean> {
  const row = await db.selectFrom('generations').select('cancel_requested_at').where('id', '=', id).executeTakeFirst();
  return row?.cancel_requested_at != null;
}

/** Remembers the provider's task id, so a retried attempt resumes polling it instead of paying for a new task. */
export async function setGenerationProviderTask(
  db: DbOrTx,
  id: string,
  attempt: number,
  taskId: string,
): Promise<void> {
  await db
    .updateTable('generations')
    .set({ provider_task_id: taskId })
    .where('id', '=', id)
    .where('attempts', '=', attempt)
    .execute();
}

/**
 * Records a stage of the current attempt and reads, in the same statement, whether the user asked to cancel:
 * `stale` when the attempt is no longer the row's. The commit does not wait for the WAL flush
 * (`synchronous_commit = off` for this statement's transaction only): a stage is a view of progress, and a crash of
 * Postgres could at worst lose the last fraction of a second of stage changes, never an attempt, a result or money,
 * so a stage costs one round trip and no disk flush.
 */
export async function setGenerationStageChecked(
  db: DbOrTx,
  id: string,
  attempt: number,
  stage: GenerationStage,
  progress: number,
): Promise<'ok' | 'stale' | 'cancel'> {
  // set_config(…, true) lasts until the end of the statement's own transaction, whose commit it then governs.
  const row = await db
    .updateTable('generations')
    .set({ stage, progress })
    .where('id', '=', id)
    .where('status', '=', 'running')
    .where('attempts', '=', attempt)
    .where(sql<boolean>`(select set_config('synchronous_commit', 'off', true)) = 'off'`)
    .returning('cancel_requested_at')
    .executeTakeFirst();
  if (!row) return 'stale';
  return row.cancel_requested_at ? 'cancel' : 'ok';
}

/**
 * The owner's finished songs of one provider and model created since `since`, newest first: the candidates of the
 * generation cache (compared in the api on their normalised params).
 */
export async function listReusableGenerations(
  db: DbOrTx,
  ownerId: string,
  opts: { since: Date; provider: Provider; model: string; limit: number },
): Promise<GenerationRow[]> {
  return db
    .selectFrom('generations')
    .selectAll()
    .where('owner_id', '=', ownerId)
    .where('status', '=', 'succeeded')
    .where('provider', '=', opts.provider)
    .where('model', '=', opts.model)
    .where('created_at', '>=', opts.since)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(opts.limit)
    .execute();
}
