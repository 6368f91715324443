/**
 * Migrations runner. The provider imports every migration module statically (no file glob), so it works from any
 * cwd, under tsx, vitest or a bundle. Kysely runs each migration in its own transaction under an advisory lock, so
 * several processes may call migrateToLatest at once.
 */
import type { Kysely } from 'kysely';
import { Migrator, NO_MIGRATIONS, type Migration, type MigrationResult } from 'kysely/migration';
import * as m0001 from './migrations/2026_11_25_0001_init';
import * as m0002 from './migrations/2026_11_25_0002_studio';
import * as m0003 from './migrations/2026_11_25_0003_billing';
import * as m0004 from './migrations/2026_11_25_0004_audit';
import * as m0100 from './migrations/2026_11_25_0100_project_edits';
import * as m0200 from './migrations/2026_11_25_0200_generation_stalls';
import * as m0300 from './migrations/2026_11_25_0300_chat_turns';
import * as m0400 from './migrations/2026_11_25_0400_budget_plan_default';
import * as m0500 from './migrations/2026_11_25_0500_mixdown_outputs';
import * as m0600 from './migrations/2026_11_25_0600_seed_compat_views';
import * as m0700 from './migrations/2026_11_25_0700_email_tokens';
import * as m0800 from './migrations/2026_11_25_0800_ephemeral_users';

/** Every migration by name, in order. Add new ones at the end. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '2026_11_25_0001_init': m0001,
  '2026_11_25_0002_studio': m0002,
  '2026_11_25_0003_billing': m0003,
  '2026_11_25_0004_audit': m0004,
  '2026_11_25_0100_project_edits': m0100,
  '2026_11_25_0200_generation_stalls': m0200,
  '2026_11_25_0300_chat_turns': m0300,
  '2026_11_25_0400_budget_plan_default': m0400,
  '2026_11_25_0500_mixdown_outputs': m0500,
  '2026_11_25_0600_seed_compat_views': m0600,
  '2026_11_25_0700_email_tokens': m0700,
  '2026_11_25_0800_ephemeral_users': m0800,
};

export class MigrationError extends Error {
  constructor(
    readonly results: readonly MigrationResult[],
    cause: unknown,
  ) {
    const failed = results.find((r) => r.status === 'Error');
    super(`migration ${failed ? `${failed.migrationName} (${failed.direction})` : ''} failed: ${String(cause)}`, {
      cause,
    });
    this.name = 'MigrationError';
  }
}

export function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) } });
}

function settle(set: { error?: unknown; results?: MigrationResult[] }): string[] {
  const results = set.results ?? [];
  if (set.error !== undefined) throw new MigrationError(results, set.error);
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Apply every pending migration; returns the names applied (empty when up to date). */

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  return settle(await createMigrator(db).migrateToLatest());
}

/**
 * Undo migrations: one step by default, `{ steps: n }` for n, `{ all: true }` down to an empty schema.
 * Returns the names reverted, newest first.
 */
export async function migrateDown(db: Kysely<any>, opts: { steps?: number; all?: boolean } = {}): Promise<string[]> {
  const migrator = createMigrator(db);
  if (opts.all) return settle(await migrator.migrateTo(NO_MIGRATIONS));
  const reverted: string[] = [];
  for (let i = 0; i < (opts.steps ?? 1); i++) {
    const names = settle(await migrator.migrateDown());
    if (names.length === 0) break;
    reverted.push(...names);
  }
  return reverted;
}

export interface MigrationStatusEntry {
  name: string;
  executedAt: Date | null;
}

/** Every known migration with the time it was applied (null = pending). */

export async function migrationStatus(db: Kysely<any>): Promise<MigrationStatusEntry[]> {
  const infos = await createMigrator(db).getMigrations();
  return infos.map((m) => ({ name: m.name, executedAt: m.executedAt ?? null }));
}
