/**
 * Generation rows: admission (user lock, quota count, insert), owner-scoped reads and cursor paging for the api, and
 * the worker's state machine. Every worker write names the attempt it belongs to (`attempts` is bumped when a run
 * starts), so a late write from an abandoned attempt (handed back at shutdown, stalled) cannot overwrite a newer one,
 * and terminal rows never move again.
 */
import {
  STAGE_PROGRESS,
  type GenerationKind,
  type GenerationStage,
  type GenerationStatus,
  type PlanId,
  type Provider,
  type Role,
} from '@dawg/shared';
import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { COLUMNS, json, type Database, type GenerationsTable, type JsonObject, type TypeClass } from '../schema';
import { usageValues, type UsageInput } from './ledger';
import { generatedTrackValues, OVERWRITTEN_ON_RETRY, type GeneratedTrackInput } from './tracks';

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

export type AttemptClaim =
  | { outcome: 'claimed'; row: GenerationRow }
  | { outcome: 'missing' }
  /** Terminal (or, in a race, no longer runnable): no attempt was started. */
  | { outcome: 'not_runnable'; status: GenerationStatus };

/**
 * The generate job's start, in ONE statement: reads the row and, when it is queued (or running, taken over from a
 * lost attempt: a stall is counted), starts a run: `running`, attempts + 1, error cleared, `started_at` kept from the
 * first run. The first stage comes from the row's own params: `writing_lyrics` when a custom request asks for lyrics it does not have, else `generating`
 * (the job derives the same from the parsed params and rewrites the stage if they ever disagree).
 */
export async function claimGenerationAttempt(db: Kysely<Database>, id: string): Promise<AttemptClaim> {
  const { rows } = await db.executeQuery<GenerationRow & { previous_status: GenerationStatus }>(
    CompiledQuery.raw(CLAIM_STATEMENT, [id, STAGE_PROGRESS.writing_lyrics, STAGE_PROGRESS.generating]),
  );
  const first = rows[0];
  if (!first) return { outcome: 'missing' };
  const { previous_status: previous, ...row } = first;
  if (row.id === null) return { outcome: 'not_runnable', status: previous };
  return { outcome: 'claimed', row: row as GenerationRow };
}

/** The row's params ask for lyrics to be written first (generateJob's `needsLyrics`, in SQL). */
const WRITES_LYRICS = `params->>'mode' = 'custom' and params->'writeLyrics' = 'true'::jsonb and coalesce(params->>'lyrics', '') = ''`;

const CLAIM_STATEMENT = `with previous as (
  select status from generations where id = $1
), claimed as (
  update generations
  set status = 'running',
    stage = case when ${WRITES_LYRICS} then 'writing_lyrics' else 'generating' end,
    progress = case when ${WRITES_LYRICS} then $2::integer else $3::integer end,
    error = null, error_code = null, attempts = attempts + 1,
    stalls = stalls + case when status = 'running' then 1 else 0 end,
    started_at = coalesce(started_at, now())
  where id = $1 and status in ('queued', 'running')
  returning *
)
select previous.status as previous_status, claimed.* from previous left join claimed on true`;

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

const SQL_TYPES: Record<TypeClass, string> = {
  uuid: 'uuid',
  text: 'text',
  int: 'integer',
  bigint: 'bigint',
  float: 'double precision',
  bool: 'boolean',
  timestamptz: 'timestamptz',
  jsonb: 'jsonb',
};

/** `jsonb_to_recordset($n::jsonb) as r(<column> <type>, …)`: rows as ONE parameter, typed by the table's columns. */
function recordset(table: 'tracks' | 'usage_events', columns: readonly string[], param: number): string {
  const specs = COLUMNS[table] as Record<string, string>;
  const defs = columns.map((c) => {
    const spec = specs[c];
    if (!spec) throw new Error(`${table} has no column ${c}`);
    return `${c} ${SQL_TYPES[spec.replace(/[?=]/g, '') as TypeClass]}`;
  });
  return `jsonb_to_recordset($${param}::jsonb) as r(${defs.join(', ')})`;
}

/**
 * The text of commitGenerationSuccess's statement for these track and ledger columns. Built once per column set
 * (in practice once): a query builder would rebuild and recompile this CTE for every job.
 */
const successStatements = new Map<string, string>();
function successStatement(trackColumns: readonly string[], usageColumns: readonly string[]): string {
  const cacheKey = `${trackColumns.join(',')}|${usageColumns.join(',')}`;
  let text = successStatements.get(cacheKey);
  if (!text) {
    const list = (columns: readonly string[]) => columns.join(', ');
    text = `with done as (
  update generations
  set status = 'succeeded', stage = 'done', progress = 100, error = null, error_code = null,
    actual_cost_micro = $3, duration_ms = $4, completed_at = $5
  where id = $1 and status = 'running' and attempts = $2 and cancel_requested_at is null
  returning id
), settled as (
  update budget_holds set status = 'settled', resolved_at = $5
  where generation_id = $1 and status = 'active' and exists (select from done)
  returning id
), billed as (
  insert into usage_events (${list(usageColumns)})
  select ${list(usageColumns)} from ${recordset('usage_events', usageColumns, 6)} where exists (select from done)
  on conflict (idempotency_key) do nothing
  returning id
), written as (
  insert into tracks (${list(trackColumns)})
  select ${list(trackColumns)} from ${recordset('tracks', trackColumns, 7)} where exists (select from done)
  on conflict (generation_id, clip_index) do update set
    ${[...OVERWRITTEN_ON_RETRY.map((c) => `${c} = excluded.${c}`), 'deleted_at = null'].join(', ')}
  returning id, clip_index
)
select id, clip_index from written order by clip_index`;
    successStatements.set(cacheKey, text);
  }
  return text;
}

export interface GenerationSuccess {
  /** The attempt that produced the result: only while it is still the row's current, uncanceled run. */
  attempt: number;
  tracks: readonly GeneratedTrackInput[];
  /** Ledger records (idempotent by key: a retried commit adds nothing). */
  usage: readonly UsageInput[];
  actualCostMicro: number;
  durationMs: number;
}

export type GenerationCommit =
  | { outcome: 'committed'; trackIds: string[] }
  /** A newer attempt owns the row, or it is no longer running. */
  | { outcome: 'stale' }
  /** The user asked to cancel before the result landed. */
  | { outcome: 'canceled' };

/**
 * The success of an attempt in ONE statement (one round trip, one commit): the row `succeeded` — only when it is
 * still `running` under this attempt with no cancel requested — and, gated on that row update, the tracks upserted
 * per clip (a retry overwrites), the ledger records inserted (idempotent by key) and the active hold settled. The
 * row update takes the row lock (a concurrent cancel or sweeper holding it makes this wait, then re-check the row);
 * a statement is atomic, so all of it lands or none. When nothing matched, a second read says whether it was a
 * cancel. Tracks and ledger records travel as one jsonb parameter each, so the statement text never changes.
 */
export async function commitGenerationSuccess(
  db: Kysely<Database>,
  id: string,
  result: GenerationSuccess,
): Promise<GenerationCommit> {
  if (result.tracks.length === 0) throw new Error('a generation succeeds with at least one track');
  const tracks = result.tracks.map(generatedTrackValues);
  const usage = result.usage.map(usageValues);
  const text = successStatement(Object.keys(tracks[0]!), usage.length > 0 ? Object.keys(usage[0]!) : ['user_id']);
  const { rows } = await db.executeQuery<{ id: string; clip_index: number }>(
    CompiledQuery.raw(text, [
      id,
      result.attempt,
      result.actualCostMicro,
      result.durationMs,
      new Date(),
      json(usage),
      json(tracks),
    ]),
  );
  if (rows.length > 0) return { outcome: 'committed', trackIds: rows.map((r) => r.id) };
  const row = await db
    .selectFrom('generations')
    .select(['status', 'attempts', 'cancel_requested_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  const current = row?.status === 'running' && row.attempts === result.attempt;
  return current && row.cancel_requested_at ? { outcome: 'canceled' } : { outcome: 'stale' };
}
