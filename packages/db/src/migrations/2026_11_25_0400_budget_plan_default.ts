/**
 * Migration 0400 — a budget row may follow the plan's default limit (monthly_limit_micro null) and exist only to
 * remember which alert already went out this period (last_alert_period / last_alert_pct), so recording an alert never
 * freezes the plan's default into a custom limit.
 * Frozen: never edit after release; write a new migration instead. Plain SQL only (runs on Postgres 15 and PGlite).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql.raw(`alter table budgets alter column monthly_limit_micro drop not null`).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Rows that only carried alert state fall back to "no row" (= the plan's default), which is what they meant.
  await sql.raw(`delete from budgets where monthly_limit_micro is null`).execute(db);
  await sql.raw(`alter table budgets alter column monthly_limit_micro set not null`).execute(db);
}
