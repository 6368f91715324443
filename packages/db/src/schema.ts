/**
 * The Kysely `Database` interface, and COLUMNS: a runtime description of every column that the type system forces
 * to agree with the interface (same tables, same columns, same nullability, a type class that fits the TypeScript
 * type, and "has a default" iff the column is Generated). `test/schema.int.test.ts` compares COLUMNS with the
 * migrated schema, so the types cannot drift from the migrations in either direction.
 *
 * Conventions: timestamptz → Date; bigint → number (createDb parses int8 as a number: ids are uuids and money is
 * micro-dollars, far below 2^53); jsonb columns are written as JSON strings (pg would turn a JS array into a
 * Postgres array literal), use `json()`.
 */
import type { ColumnType, Generated, InsertType, SelectType } from 'kysely';
import type {
  BudgetHoldStatus,
  ChatTurnStatus,
  EmailTokenKind,
  GenerationKind,
  GenerationStage,
  GenerationStatus,
  MessageRole,
  MixdownFormat,
  NotificationKind,
  PlanId,
  ProjectMemberRole,
  Provider,
  Role,
  SubscriptionStatus,
  TrackSource,
  TrackStatus,
  UsageKind,
  UsageUnits,
} from '@dawg/shared';

/** A timestamp the database fills in on insert and that never changes. */
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** A timestamp with a default that may be written later (updated_at, last_seen_at). */
export type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
export type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;
/** jsonb, written as a JSON string (see `json()`). */
export type Json<T> = ColumnType<T, string, string>;
export type JsonWithDefault<T> = ColumnType<T, string | undefined, string>;
export type NullableJson<T> = ColumnType<T | null, string | null, string | null>;

export type JsonObject = Record<string, unknown>;

export interface UsersTable {
  id: Generated<string>;
  email: string;
  password_hash: string | null;
  name: string | null;
  role: Generated<Role>;
  plan: Generated<PlanId>;
  stripe_customer_id: string | null;
  email_verified_at: NullableTimestamp;
  last_login_at: NullableTimestamp;
  disabled_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
  /** Demo mode: an account made for one visitor, removed with its objects after `ephemeral_expires_at`. */
  ephemeral: Generated<boolean>;
  ephemeral_expires_at: NullableTimestamp;
  /** Rate-limit key of the address the demo account was made from (its generations are limited per address). */
  ephemeral_ip: string | null;
}

export interface SessionsTable {
  /** SHA-256 hex of the session token; the token itself is never stored. */
  id: string;
  user_id: string;
  expires_at: Timestamp;
  created_at: CreatedAt;
  last_seen_at: DefaultTimestamp;
  user_agent: string | null;
  ip: string | null;
}

export interface ApiKeysTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  last_used_at: NullableTimestamp;
  expires_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface ProjectsTable {
  id: Generated<string>;
  owner_id: string;
  name: string;
  bpm: Generated<number>;
  key: string | null;
  time_signature: Generated<string>;
  master_gain_db: Generated<number>;
  settings: JsonWithDefault<JsonObject>;
  /** Optimistic concurrency: writers update `where version = expected` and increment. */
  version: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ProjectMembersTable {
  project_id: string;
  user_id: string;
  role: ProjectMemberRole;
  invited_by: string | null;
  created_at: CreatedAt;
}

export interface LanesTable {
  id: Generated<string>;
  project_id: string;
  name: string;
  color: Generated<string>;
  gain_db: Generated<number>;
  pan: Generated<number>;
  mute: Generated<boolean>;
  solo: Generated<boolean>;
  position: number;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ConversationsTable {
  id: Generated<string>;
  user_id: string;
  project_id: string | null;
  title: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface MessagesTable {
  id: Generated<string>;
  conversation_id: string;
  /** Identity column: the order of messages in a conversation. */
  seq: ColumnType<number, never, never>;
  role: MessageRole;
  content: Generated<string>;
  tool_calls: NullableJson<unknown[]>;
  tool_results: NullableJson<unknown[]>;
  provider: Provider | null;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cost_micro: number | null;
  created_at: CreatedAt;
  /** The assistant turn the message belongs to (migration 0300). */
  turn_id: string | null;
}

/** One assistant turn of the AI producer (migration 0300). */
export interface ChatTurnsTable {
  id: Generated<string>;
  conversation_id: string;
  user_id: string;
  status: Generated<ChatTurnStatus>;
  error: string | null;
  input_tokens: Generated<number>;
  output_tokens: Generated<number>;
  cost_micro: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
  finished_at: NullableTimestamp;
}

export interface AiMemoriesTable {
  id: Generated<string>;
  user_id: string;
  project_id: string | null;
  key: string | null;
  content: string;
  category: Generated<string>;
  importance: Generated<number>;
  source_conversation_id: string | null;
  last_used_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface GenerationsTable {
  id: Generated<string>;
  owner_id: string;
  project_id: string | null;
  conversation_id: string | null;
  kind: Generated<GenerationKind>;
  prompt: string;
  params: JsonWithDefault<JsonObject>;
  status: Generated<GenerationStatus>;
  stage: Generated<GenerationStage>;
  progress: Generated<number>;
  error: string | null;
  error_code: string | null;
  provider: Provider;
  model: string;
  provider_task_id: string | null;
  estimated_cost_micro: Generated<number>;
  actual_cost_micro: number | null;
  attempts: Generated<number>;
  idempotency_key: string | null;
  duration_ms: number | null;
  enqueued_at: NullableTimestamp;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  cancel_requested_at: NullableTimestamp;
  /** Attempts lost to a dead or stalled worker and taken over by another (migration 0200). */
  stalls: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface TracksTable {
  id: Generated<string>;
  owner_id: string;
  project_id: string | null;
  generation_id: string | null;
  parent_track_id: string | null;
  clip_index: number | null;
  source: TrackSource;
  status: Generated<TrackStatus>;
  title: string;
  mp3_key: string | null;
  wav_key: string | null;
  peaks_key: string | null;
  original_key: string | null;
  content_type: string | null;
  size_bytes: number | null;
  duration_sec: number | null;
  loudness_lufs: number | null;
  bpm: number | null;
  musical_key: string | null;
  sample_rate: number | null;
  channels: number | null;
  provider: Provider | null;
  model: string | null;
  prompt: string | null;
  lyrics: string | null;
  params: JsonWithDefault<JsonObject>;
  seed: number | null;
  error: string | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
  deleted_at: NullableTimestamp;
}

export interface ClipsTable {
  id: Generated<string>;
  project_id: string;
  lane_id: string;
  track_id: string;
  start_sec: number;
  offset_sec: Generated<number>;
  length_sec: number;
  fade_in: Generated<number>;
  fade_out: Generated<number>;
  gain_db: Generated<number>;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface ProjectEditsTable {
  id: Generated<string>;
  project_id: string;
  /** 1, 2, ... per project: the order of edits. */
  seq: number;
  user_id: string | null;
  /** ArrangementOp[] (written with `json()`). */
  forward_ops: Json<unknown[]>;
  inverse_ops: Json<unknown[]>;
  /** Set while the edit is undone (the redo tail). */
  undone_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface MixdownsTable {
  id: Generated<string>;
  project_id: string;
  owner_id: string;
  status: Generated<GenerationStatus>;
  progress: Generated<number>;
  format: Generated<MixdownFormat>;
  project_version: number;
  track_id: string | null;
  error: string | null;
  started_at: NullableTimestamp;
  completed_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
  /** Stems (one WAV per lane, zipped) were asked for (migration 0500). */
  stems: Generated<boolean>;
  stems_key: string | null;
  duration_sec: number | null;
}

export interface UsageEventsTable {
  id: Generated<string>;
  user_id: string;
  provider: Provider;
  model: string;
  kind: UsageKind;
  units: Json<UsageUnits>;
  cost_micro: number;
  generation_id: string | null;
  conversation_id: string | null;
  idempotency_key: string;
  occurred_at: DefaultTimestamp;
  created_at: CreatedAt;
}

export interface BudgetsTable {
  user_id: string;
  /** null = the plan's default limit (the row then only carries alert state; migration 0400). */
  monthly_limit_micro: number | null;
  alert_threshold_pct: Generated<number>;
  hard_limit: Generated<boolean>;
  /** 'YYYY-MM' of the last period an alert went out for. */
  last_alert_period: string | null;
  last_alert_pct: number | null;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface BudgetHoldsTable {
  id: Generated<string>;
  user_id: string;
  kind: UsageKind;
  amount_micro: number;
  status: Generated<BudgetHoldStatus>;
  generation_id: string | null;
  conversation_id: string | null;
  expires_at: Timestamp;
  resolved_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface SubscriptionsTable {
  id: Generated<string>;
  user_id: string;
  stripe_customer_id: string;
  stripe_subscription_id: string;
  stripe_price_id: string | null;
  plan: PlanId;
  status: SubscriptionStatus;
  current_period_start: NullableTimestamp;
  current_period_end: NullableTimestamp;
  cancel_at_period_end: Generated<boolean>;
  canceled_at: NullableTimestamp;
  last_event_at: NullableTimestamp;
  created_at: CreatedAt;
  updated_at: DefaultTimestamp;
}

export interface StripeEventsTable {
  id: string;
  type: string;
  livemode: Generated<boolean>;
  stripe_created_at: Timestamp;
  payload: Json<JsonObject>;
  attempts: Generated<number>;
  received_at: CreatedAt;
  processed_at: NullableTimestamp;
  error: string | null;
}

export interface AuditLogsTable {
  id: Generated<string>;
  user_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  user_agent: string | null;
  status_code: number | null;
  duration_ms: number | null;
  metadata: JsonWithDefault<JsonObject>;
  created_at: CreatedAt;
}

export interface NotificationsTable {
  id: Generated<string>;
  user_id: string;
  kind: NotificationKind;
  title: string;
  body: Generated<string>;
  payload: JsonWithDefault<JsonObject>;
  read_at: NullableTimestamp;
  created_at: CreatedAt;
}

/** Single-use emailed links (migration 0700); only the token's SHA-256 is stored. */
export interface EmailTokensTable {
  id: Generated<string>;
  user_id: string;
  kind: EmailTokenKind;
  token_hash: string;
  email: string;
  expires_at: Timestamp;
  used_at: NullableTimestamp;
  created_at: CreatedAt;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  lanes: LanesTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  chat_turns: ChatTurnsTable;
  ai_memories: AiMemoriesTable;
  generations: GenerationsTable;
  tracks: TracksTable;
  clips: ClipsTable;
  project_edits: ProjectEditsTable;
  mixdowns: MixdownsTable;
  usage_events: UsageEventsTable;
  budgets: BudgetsTable;
  budget_holds: BudgetHoldsTable;
  subscriptions: SubscriptionsTable;
  stripe_events: StripeEventsTable;
  audit_logs: AuditLogsTable;
  notifications: NotificationsTable;
  email_tokens: EmailTokensTable;
}

export type TableName = keyof Database;

/** Serialise a value for a jsonb column. */
export function json<T>(value: T): string {
  return JSON.stringify(value);
}

// ---- COLUMNS: the runtime mirror of Database, checked by the compiler -------------------------------------------

/** Postgres type classes (information_schema.columns.data_type, grouped). */
export type TypeClass = 'uuid' | 'text' | 'int' | 'bigint' | 'float' | 'bool' | 'timestamptz' | 'jsonb';

/** Which classes may hold a TypeScript select type. Tuples stop literal unions from distributing. */
type ClassesFor<T> = [T] extends [Date]
  ? 'timestamptz'
  : [T] extends [boolean]
    ? 'bool'
    : [T] extends [number]
      ? 'int' | 'bigint' | 'float'
      : [T] extends [string]
        ? 'uuid' | 'text'
        : 'jsonb';

/** Inserts may omit the column (Generated), or must (`never`: identity columns). */
type HasDefault<C> = undefined extends InsertType<C> ? true : [InsertType<C>] extends [never] ? true : false;

/**
 * `<class>[?][=]`: `?` iff the select type admits null, `=` iff inserts may omit the column (it must then have a
 * database default or be an identity). E.g. `'uuid='` for a generated id, `'timestamptz?'` for a nullable date.
 */
export type ColumnSpec<C> =
  `${ClassesFor<NonNullable<SelectType<C>>>}${null extends SelectType<C> ? '?' : ''}${HasDefault<C> extends true ? '=' : ''}`;

export type ColumnSpecs = { [T in keyof Database]: { [C in keyof Database[T]]-?: ColumnSpec<Database[T][C]> } };

export const COLUMNS = {
  users: {
    id: 'uuid=',
    email: 'text',
    password_hash: 'text?',
    name: 'text?',
    role: 'text=',
    plan: 'text=',
    stripe_customer_id: 'text?',
    email_verified_at: 'timestamptz?',
    last_login_at: 'timestamptz?',
    disabled_at: 'timestamptz?',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
    ephemeral: 'bool=',
    ephemeral_expires_at: 'timestamptz?',
    ephemeral_ip: 'text?',
  },
  sessions: {
    id: 'text',
    user_id: 'uuid',
    expires_at: 'timestamptz',
    created_at: 'timestamptz=',
    last_seen_at: 'timestamptz=',
    user_agent: 'text?',
    ip: 'text?',
  },
  api_keys: {
    id: 'uuid=',
    user_id: 'uuid',
    name: 'text',
    prefix: 'text',
    key_hash: 'text',
    last_used_at: 'timestamptz?',
    expires_at: 'timestamptz?',
    revoked_at: 'timestamptz?',
    created_at: 'timestamptz=',
  },
  projects: {
    id: 'uuid=',
    owner_id: 'uuid',
    name: 'text',
    bpm: 'float=',
    key: 'text?',
    time_signature: 'text=',
    master_gain_db: 'float=',
    settings: 'jsonb=',
    version: 'int=',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
  },
  project_members: {
    project_id: 'uuid',
    user_id: 'uuid',
    role: 'text',
    invited_by: 'uuid?',
    created_at: 'timestamptz=',
  },
  lanes: {
    id: 'uuid=',
    project_id: 'uuid',
    name: 'text',
    color: 'text=',
    gain_db: 'float=',
    pan: 'float=',
    mute: 'bool=',
    solo: 'bool=',
    position: 'int',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
  },
  conversations: {
    id: 'uuid=',
    user_id: 'uuid',
    project_id: 'uuid?',
    title: 'text?',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
  },
  messages: {
    id: 'uuid=',
    conversation_id: 'uuid',
    seq: 'bigint=',
    role: 'text',
    content: 'text=',
    tool_calls: 'jsonb?',
    tool_results: 'jsonb?',
    provider: 'text?',
    model: 'text?',
    input_tokens: 'int?',
    output_tokens: 'int?',
    cost_micro: 'bigint?',
    created_at: 'timestamptz=',
    turn_id: 'uuid?',
  },
  chat_turns: {
    id: 'uuid=',
    conversation_id: 'uuid',
    user_id: 'uuid',
    status: 'text=',
    error: 'text?',
    input_tokens: 'int=',
    output_tokens: 'int=',
    cost_micro: 'bigint=',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
    finished_at: 'timestamptz?',
  },
  ai_memories: {
    id: 'uuid=',
    user_id: 'uuid',
    project_id: 'uuid?',
    key: 'text?',
    content: 'text',
    category: 'text=',
    importance: 'int=',
    source_conversation_id: 'uuid?',
    last_used_at: 'timestamptz?',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
  },
  generations: {
    id: 'uuid=',
    owner_id: 'uuid',
    project_id: 'uuid?',
    conversation_id: 'uuid?',
    kind: 'text=',
    prompt: 'text',
    params: 'jsonb=',
    status: 'text=',
    stage: 'text=',
    progress: 'int=',
    error: 'text?',
    error_code: 'text?',
    provider: 'text',
    model: 'text',
    provider_task_id: 'text?',
    estimated_cost_micro: 'bigint=',
    actual_cost_micro: 'bigint?',
    attempts: 'int=',
    idempotency_key: 'text?',
    duration_ms: 'int?',
    enqueued_at: 'timestamptz?',
    started_at: 'timestamptz?',
    completed_at: 'timestamptz?',
    cancel_requested_at: 'timestamptz?',
    stalls: 'int=',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
  },
  tracks: {
    id: 'uuid=',
    owner_id: 'uuid',
    project_id: 'uuid?',
    generation_id: 'uuid?',
    parent_track_id: 'uuid?',
    clip_index: 'int?',
    source: 'text',
    status: 'text=',
    title: 'text',
    mp3_key: 'text?',
    wav_key: 'text?',
    peaks_key: 'text?',
    original_key: 'text?',
    content_type: 'text?',
    size_bytes: 'bigint?',
    duration_sec: 'float?',
    loudness_lufs: 'float?',
    bpm: 'float?',
    musical_key: 'text?',
    sample_rate: 'int?',
    channels: 'int?',
    provider: 'text?',
    model: 'text?',
    prompt: 'text?',
    lyrics: 'text?',
    params: 'jsonb=',
    seed: 'bigint?',
    error: 'text?',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
    deleted_at: 'timestamptz?',
  },
  clips: {
    id: 'uuid=',
    project_id: 'uuid',
    lane_id: 'uuid',
    track_id: 'uuid',
    start_sec: 'float',
    offset_sec: 'float=',
    length_sec: 'float',
    fade_in: 'float=',
    fade_out: 'float=',
    gain_db: 'float=',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
  },
  project_edits: {
    id: 'uuid=',
    project_id: 'uuid',
    seq: 'int',
    user_id: 'uuid?',
    forward_ops: 'jsonb',
    inverse_ops: 'jsonb',
    undone_at: 'timestamptz?',
    created_at: 'timestamptz=',
  },
  mixdowns: {
    id: 'uuid=',
    project_id: 'uuid',
    owner_id: 'uuid',
    status: 'text=',
    progress: 'int=',
    format: 'text=',
    project_version: 'int',
    track_id: 'uuid?',
    error: 'text?',
    started_at: 'timestamptz?',
    completed_at: 'timestamptz?',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
    stems: 'bool=',
    stems_key: 'text?',
    duration_sec: 'float?',
  },
  usage_events: {
    id: 'uuid=',
    user_id: 'uuid',
    provider: 'text',
    model: 'text',
    kind: 'text',
    units: 'jsonb',
    cost_micro: 'bigint',
    generation_id: 'uuid?',
    conversation_id: 'uuid?',
    idempotency_key: 'text',
    occurred_at: 'timestamptz=',
    created_at: 'timestamptz=',
  },
  budgets: {
    user_id: 'uuid',
    monthly_limit_micro: 'bigint?',
    alert_threshold_pct: 'int=',
    hard_limit: 'bool=',
    last_alert_period: 'text?',
    last_alert_pct: 'int?',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
  },
  budget_holds: {
    id: 'uuid=',
    user_id: 'uuid',
    kind: 'text',
    amount_micro: 'bigint',
    status: 'text=',
    generation_id: 'uuid?',
    conversation_id: 'uuid?',
    expires_at: 'timestamptz',
    resolved_at: 'timestamptz?',
    created_at: 'timestamptz=',
  },
  subscriptions: {
    id: 'uuid=',
    user_id: 'uuid',
    stripe_customer_id: 'text',
    stripe_subscription_id: 'text',
    stripe_price_id: 'text?',
    plan: 'text',
    status: 'text',
    current_period_start: 'timestamptz?',
    current_period_end: 'timestamptz?',
    cancel_at_period_end: 'bool=',
    canceled_at: 'timestamptz?',
    last_event_at: 'timestamptz?',
    created_at: 'timestamptz=',
    updated_at: 'timestamptz=',
  },
  stripe_events: {
    id: 'text',
    type: 'text',
    livemode: 'bool=',
    stripe_created_at: 'timestamptz',
    payload: 'jsonb',
    attempts: 'int=',
    received_at: 'timestamptz=',
    processed_at: 'timestamptz?',
    error: 'text?',
  },
  audit_logs: {
    id: 'uuid=',
    user_id: 'uuid?',
    action: 'text',
    target_type: 'text?',
    target_id: 'text?',
    ip: 'text?',
    user_agent: 'text?',
    status_code: 'int?',
    duration_ms: 'int?',
    metadata: 'jsonb=',
    created_at: 'timestamptz=',
  },
  notifications: {
    id: 'uuid=',
    user_id: 'uuid',
    kind: 'text',
    title: 'text',
    body: 'text=',
    payload: 'jsonb=',
    read_at: 'timestamptz?',
    created_at: 'timestamptz=',
  },
  email_tokens: {
    id: 'uuid=',
    user_id: 'uuid',
    kind: 'text',
    token_hash: 'text',
    email: 'text',
    expires_at: 'timestamptz',
    used_at: 'timestamptz?',
    created_at: 'timestamptz=',
  },
} as const satisfies ColumnSpecs;

export const TABLE_NAMES = Object.keys(COLUMNS) as TableName[];

/** Parse a COLUMNS entry. */
export function parseColumnSpec(spec: string): { type: TypeClass; nullable: boolean; hasDefault: boolean } {
  const m = /^([a-z]+)(\?)?(=)?$/.exec(spec);
  if (!m) throw new Error(`bad column spec: ${spec}`);
  return { type: m[1] as TypeClass, nullable: m[2] === '?', hasDefault: m[3] === '=' };
}
