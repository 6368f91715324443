/**
 * Migration 0003 — money: the usage ledger (idempotent by key), per-user budgets with alert state, budget holds
 * (money reserved by queued work), Stripe subscriptions, and processed Stripe events (idempotency by event id).
 * All amounts are integer micro-dollars (1e-6 USD).
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

async function run(db: Kysely<any>, statements: string[]): Promise<void> {
  for (const statement of statements) await sql.raw(statement).execute(db);
}

const updatedAtTrigger = (table: string) =>
  `create trigger ${table}_set_updated_at before update on ${table} for each row execute function set_updated_at()`;

const PROVIDERS = `('anthropic', 'openai', 'google', 'suno', 'local', 'test')`;
const USAGE_KINDS = `('chat', 'lyrics', 'music', 'voice', 'transcription', 'analysis', 'other')`;

export async function up(db: Kysely<any>): Promise<void> {
  await run(db, [
    // Append-only ledger. idempotency_key (e.g. "generation:<id>:music") makes a retried write a no-op.
    `create table usage_events (
       id uuid primary key default gen_random_uuid(),
       user_id uuid not null references users (id) on delete cascade,
       provider text not null check (provider in ${PROVIDERS}),
       model text not null,
       kind text not null check (kind in ${USAGE_KINDS}),
       units jsonb not null check (jsonb_typeof(units) = 'object'),
       cost_micro bigint not null check (cost_micro >= 0),
       generation_id uuid references generations (id) on delete set null,
       conversation_id uuid references conversations (id) on delete set null,
       idempotency_key text not null unique,
       occurred_at timestamptz not null default now(),
       created_at timestamptz not null default now()
     )`,
    `create index usage_events_user_id_occurred_at_idx on usage_events (user_id, occurred_at)`,
    `create index usage_events_occurred_at_idx on usage_events (occurred_at)`,
    `create index usage_events_generation_id_idx on usage_events (generation_id)`,
    `create index usage_events_conversation_id_idx on usage_events (conversation_id)`,

    // No row = the plan's default budget. last_alert_* remember which threshold was already announced this period.
    `create table budgets (
       user_id uuid primary key references users (id) on delete cascade,
       monthly_limit_micro bigint not null check (monthly_limit_micro >= 0),
       alert_threshold_pct integer not null default 80 check (alert_threshold_pct between 1 and 100),
       hard_limit boolean not null default true,
       last_alert_period text check (last_alert_period ~ '^[0-9]{4}-[0-9]{2}$'),
       last_alert_pct integer check (last_alert_pct between 1 and 100),
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now()
     )`,
    updatedAtTrigger('budgets'),

    // Reserved money: spent + active holds must stay within the budget. expires_at bounds a hold whose job vanished.
    `create table budget_holds (
       id uuid primary key default gen_random_uuid(),
       user_id uuid not null references users (id) on delete cascade,
       kind text not null check (kind in ${USAGE_KINDS}),
       amount_micro bigint not null check (amount_micro >= 0),
       status text not null default 'active' check (status in ('active', 'settled', 'released')),
       generation_id uuid unique references generations (id) on delete cascade,
       conversation_id uuid references conversations (id) on delete cascade,
       expires_at timestamptz not null,
       resolved_at timestamptz,
       created_at timestamptz not null default now(),
       check ((status = 'active') = (resolved_at is null))
     )`,
    `create index budget_holds_user_id_active_idx on budget_holds (user_id) where status = 'active'`,
    `create index budget_holds_expires_at_active_idx on budget_holds (expires_at) where status = 'active'`,
    `create index budget_holds_conversation_id_idx on budget_holds (conversation_id)`,

    // last_event_at = created time of the newest Stripe event applied, so an older event arriving late is ignored.
    `create table subscriptions (
       id uuid primary key default gen_random_uuid(),
       user_id uuid not null references users (id) on delete cascade,
       stripe_customer_id text not null,
       stripe_subscription_id text not null unique,
       stripe_price_id text,
       plan text not null check (plan in ('free', 'pro', 'studio')),
       status text not null check (status in
         ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')),
       current_period_start timestamptz,
       current_period_end timestamptz,
       cancel_at_period_end boolean not null default false,
       canceled_at timestamptz,
       last_event_at timestamptz,
       created_at timestamptz not null default now(),
       updated_at timestamptz not null default now()
     )`,
    `create index subscriptions_user_id_idx on subscriptions (user_id)`,
    `create index subscriptions_stripe_customer_id_idx on subscriptions (stripe_customer_id)`,
    updatedAtTrigger('subscriptions'),

    `create table stripe_events (
       id text primary key check (id ~ '^evt_'),
       type text not null,
       livemode boolean not null default false,
       stripe_created_at timestamptz not null,
       payload jsonb not null,
       attempts integer not null default 0 check (attempts >= 0),
       received_at timestamptz not null default now(),
       processed_at timestamptz,
       error text
     )`,
    `create index stripe_events_type_idx on stripe_events (type, stripe_created_at)`,
    `create index stripe_events_unprocessed_idx on stripe_events (received_at) where processed_at is null`,
  ]);
}

export async function down(db: Kysely<any>): Promise<void> {
  await run(db, [
    `drop table stripe_events`,
    `drop table subscriptions`,
    `drop table budget_holds`,
    `drop table budgets`,
    `drop table usage_events`,
  ]);
}
