/**
 * Migration 0002 — the studio: projects (optimistic `version`), members, lanes, clips, tracks (audio assets),
 * generations (the job rows), mixdowns, and the AI producer's conversations, messages and memories.
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

async function run(db: Kysely<any>, statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

const updatedAtTrigger = (table: string) =>
  `create trigger ${table}_set_updated_at before update on ${table} for each row execute function set_updated_at()`;

const PROVIDERS = `('anthropic', 'openai', 'google', 'suno', 'local', 'test')`;
const JOB_STATUSES = `('queued', 'running', 'succeeded', 'failed', 'canceled')`;

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    `create table projects (
       id uuid primary key default gen_random_uuid(),
       owner_id uuid not null references users (id) on delete cascade,
       name text not null check (length(name) between 1 and 100),
       bpm double precision not null default 120 check (bpm between 40 and 240),
       key text check (key ~ '^[A-G](#|b)? (major|minor)$'),
       time_signature text not null default '4/4' check (time_signature ~ '^[0-9]{1,2}/(1|2|4|8|16|32)$'),
       master_gain_db double precision not null default 0 check (master_gain_db between -120 and 24),
       settings jsonb not null default '{}' check (jsonb_typeof(settings) = 'object'),
       version integer not null default 1 check (version >= 1),
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now()
     )`,
    `create index projects_owner_id_updated_at_idx on projects (owner_id, updated_at desc)`,
    updatedAtTrigger('projects'),

    `create table project_members (
       project_id uuid not null references projects (id) on delete cascade,
       user_id uuid not null references users (id) on delete cascade,
       role text not null check (role in ('editor', 'viewer')),
       invited_by uuid references users (id) on delete set null,
       created_at timestamptz not null default now(),
       primary key (project_id, user_id)
     )`,
    `create index project_members_user_id_idx on project_members (user_id)`,
    `create index project_members_invited_by_idx on project_members (invited_by)`,

    `create table lanes (
       id uuid primary key default gen_random_uuid(),
       project_id uuid not null references projects (id) on delete cascade,
       name text not null check (length(name) between 1 and 60),
       color text not null default '#3b82f6' check (color ~ '^#[0-9a-fA-F]{6}$'),
       gain_db double precision not null default 0 check (gain_db between -120 and 24),
       pan double precision not null default 0 check (pan between -1 and 1),
       mute boolean not null default false,
       solo boolean not null default false,
       position integer not null check (position >= 0),
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now()
     )`,
    `create index lanes_project_id_position_idx on lanes (project_id, position)`,
    updatedAtTrigger('lanes'),

    `create table conversations (
       id uuid primary key default gen_random_uuid(),
       user_id uuid not null references users (id) on delete cascade,
       project_id uuid references projects (id) on delete set null,
       title text,
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now()
     )`,
    `create index conversations_user_id_updated_at_idx on conversations (user_id, updated_at desc)`,
    `create index conversations_project_id_idx on conversations (project_id)`,
    updatedAtTrigger('conversations'),

    // seq orders messages: created_at is equal for every row written in one transaction.
    `create table messages (
       id uuid primary key default gen_random_uuid(),
       conversation_id uuid not null references conversations (id) on delete cascade,
       seq bigint generated always as identity,
       role text not null check (role in ('user', 'assistant', 'system', 'tool')),
       content text not null default '',
       tool_calls jsonb check (tool_calls is null or jsonb_typeof(tool_calls) = 'array'),
       tool_results jsonb check (tool_results is null or jsonb_typeof(tool_results) = 'array'),
       provider text check (provider in ${PROVIDERS}),
       model text,
       input_tokens integer check (input_tokens >= 0),
       output_tokens integer check (output_tokens >= 0),
       cost_micro bigint check (cost_micro >= 0),
       created_at timestamptz not null default now()
     )`,
    `create index messages_conversation_id_seq_idx on messages (conversation_id, seq)`,

    `create table ai_memories (
       id uuid primary key default gen_random_uuid(),
       user_id uuid not null references users (id) on delete cascade,
       project_id uuid references projects (id) on delete cascade,
       key text,
       content text not null check (length(content) between 1 and 1000),
       category text not null default 'general',
       importance smallint not null default 5 check (importance between 0 and 10),
       source_conversation_id uuid references conversations (id) on delete set null,
       last_used_at timestamptz,
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now()
     )`,
    `create index ai_memories_user_id_idx on ai_memories (user_id)`,
    `create unique index ai_memories_user_id_key_key on ai_memories (user_id, key) where key is not null`,
    `create index ai_memories_project_id_idx on ai_memories (project_id)`,
    `create index ai_memories_source_conversation_id_idx on ai_memories (source_conversation_id)`,
    updatedAtTrigger('ai_memories'),

    // The job row of one generation. Money is integer micro-dollars. duration_ms is the wall time of the run
    // (the seed's monitoring query averages it). A failed row always says why; a succeeded one is at stage done.
    `create table generations (
       id uuid primary key default gen_random_uuid(),
       owner_id uuid not null references users (id) on delete cascade,
       project_id uuid references projects (id) on delete set null,
       conversation_id uuid references conversations (id) on delete set null,
       kind text not null default 'song' check (kind in ('song', 'loop', 'extend')),
       prompt text not null check (length(prompt) between 1 and 2000),
       params jsonb not null default '{}' check (jsonb_typeof(params) = 'object'),
       status text not null default 'queued' check (status in ${JOB_STATUSES}),
       stage text not null default 'queued'
         check (stage in ('queued', 'writing_lyrics', 'generating', 'first_audio', 'processing', 'uploading', 'done')),
       progress integer not null default 0 check (progress between 0 and 100),
       error text,
       error_code text,
       provider text not null check (provider in ${PROVIDERS}),
       model text not null,
       provider_task_id text,
       estimated_cost_micro bigint not null default 0 check (estimated_cost_micro >= 0),
       actual_cost_micro bigint check (actual_cost_micro >= 0),
       attempts integer not null default 0 check (attempts >= 0),
       idempotency_key text,
       duration_ms integer check (duration_ms >= 0),
       enqueued_at timestamptz,
       started_at timestamptz,
       completed_at timestamptz,
       cancel_requested_at timestamptz,
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now(),
       check (status <> 'succeeded' or stage = 'done'),
       check (status <> 'failed' or error is not null)
     )`,
    `create index generations_owner_id_created_at_idx on generations (owner_id, created_at desc)`,
    `create index generations_active_idx on generations (status, created_at) where status in ('queued', 'running')`,
    `create index generations_created_at_idx on generations (created_at)`,
    `create index generations_project_id_idx on generations (project_id)`,
    `create index generations_conversation_id_idx on generations (conversation_id)`,
    `create unique index generations_owner_id_idempotency_key_key on generations (owner_id, idempotency_key)`,
    updatedAtTrigger('generations'),

    // Audio assets. (generation_id, clip_index) is unique so a retried generation job upserts, never duplicates.
    `create table tracks (
       id uuid primary key default gen_random_uuid(),
       owner_id uuid not null references users (id) on delete cascade,
       project_id uuid references projects (id) on delete set null,
       generation_id uuid references generations (id) on delete set null,
       parent_track_id uuid references tracks (id) on delete set null,
       clip_index integer check (clip_index >= 0),
       source text not null check (source in ('generated', 'uploaded', 'mixdown')),
       status text not null default 'ready' check (status in ('pending', 'processing', 'ready', 'failed')),
       title text not null check (length(title) between 1 and 200),
       mp3_key text,
       wav_key text,
       peaks_key text,
       original_key text,
       content_type text,
       size_bytes bigint check (size_bytes >= 0),
       duration_sec double precision check (duration_sec >= 0),
       loudness_lufs double precision,
       bpm double precision check (bpm > 0),
       musical_key text,
       sample_rate integer check (sample_rate > 0),
       channels integer check (channels between 1 and 8),
       provider text check (provider in ${PROVIDERS}),
       model text,
       prompt text,
       lyrics text,
       params jsonb not null default '{}' check (jsonb_typeof(params) = 'object'),
       seed bigint,
       error text,
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now(),
       deleted_at timestamptz
     )`,
    `create index tracks_owner_id_created_at_idx on tracks (owner_id, created_at desc) where deleted_at is null`,
    `create index tracks_project_id_idx on tracks (project_id)`,
    `create unique index tracks_generation_id_clip_index_key on tracks (generation_id, clip_index)`,
    `create index tracks_parent_track_id_idx on tracks (parent_track_id)`,
    `create index tracks_deleted_at_idx on tracks (deleted_at) where deleted_at is not null`,
    updatedAtTrigger('tracks'),

    // project_id is denormalised from the lane so a project's arrangement loads (and is scoped) in one query.
    `create table clips (
       id uuid primary key default gen_random_uuid(),
       project_id uuid not null references projects (id) on delete cascade,
       lane_id uuid not null references lanes (id) on delete cascade,
       track_id uuid not null references tracks (id) on delete cascade,
       start_sec double precision not null check (start_sec >= 0),
       offset_sec double precision not null default 0 check (offset_sec >= 0),
       length_sec double precision not null check (length_sec > 0),
       fade_in double precision not null default 0 check (fade_in >= 0),
       fade_out double precision not null default 0 check (fade_out >= 0),
       gain_db double precision not null default 0 check (gain_db between -120 and 24),
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now(),
       check (fade_in + fade_out <= length_sec)
     )`,
    `create index clips_project_id_idx on clips (project_id)`,
    `create index clips_lane_id_idx on clips (lane_id)`,
    `create index clips_track_id_idx on clips (track_id)`,
    updatedAtTrigger('clips'),

    `create table mixdowns (
       id uuid primary key default gen_random_uuid(),
       project_id uuid not null references projects (id) on delete cascade,
       owner_id uuid not null references users (id) on delete cascade,
       status text not null default 'queued' check (status in ${JOB_STATUSES}),
       progress integer not null default 0 check (progress between 0 and 100),
       format text not null default 'wav' check (format in ('wav', 'mp3')),
       project_version integer not null check (project_version >= 1),
       track_id uuid references tracks (id) on delete set null,
       error text,
       started_at timestamptz,
       completed_at timestamptz,
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now()
     )`,
    `create index mixdowns_project_id_idx on mixdowns (project_id, created_at desc)`,
    `create index mixdowns_owner_id_idx on mixdowns (owner_id)`,
    `create index mixdowns_track_id_idx on mixdowns (track_id)`,
    `create index mixdowns_active_idx on mixdowns (status) where status in ('queued', 'running')`,
    updatedAtTrigger('mixdowns'),
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await run(db, [
    `drop table mixdowns`,
    `drop table clips`,
    `drop table tracks`,
    `drop table generations`,
    `drop table ai_memories`,
    `drop table messages`,
    `drop table conversations`,
    `drop table lanes`,
    `drop table project_members`,
    `drop table projects`,
  ]);
}
