/**
 * Idempotent seed: an admin, a demo user and the demo user's demo project (three lanes). Running it again changes
 * nothing: existing users keep their passwords, an existing demo project is left alone. Serialised by an advisory
 * lock so two concurrent seeds cannot both create the project.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema';
import { hashPassword } from './passwords';
import { normalizeEmail } from './queries/users';

export interface SeedOptions {
  adminEmail: string;
  /** null leaves a newly created admin without a password (it cannot log in until one is set). */
  adminPassword: string | null;
  demoEmail: string;
  demoPassword: string | null;
}

export interface SeedResult {
  adminId: string;
  demoUserId: string;
  demoProjectId: string;
  created: { admin: boolean; demoUser: boolean; demoProject: boolean };
}

export const DEMO_PROJECT_NAME = 'Demo Project';

const DEMO_LANES = [
  { name: 'Drums', color: '#f97316' },
  { name: 'Bass', color: '#22c55e' },
  { name: 'Keys', color: '#3b82f6' },
];

export async function seed(db: Kysely<Database>, opts: SeedOptions): Promise<SeedResult> {
  // Hash outside the transaction: argon2id is slow on purpose and would hold the lock.
  const adminHash = opts.adminPassword ? await hashPassword(opts.adminPassword) : null;
  const demoHash = opts.demoPassword ? await hashPassword(opts.demoPassword) : null;

  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('dawg:seed'))`.execute(trx);

    const ensureUser = async (email: string, passwordHash: string | null, role: 'admin' | 'user', name: string) => {
      const existing = await trx
        .selectFrom('users')
        .select(['id', 'role'])
        .where((eb) => eb(eb.fn('lower', ['email']), '=', normalizeEmail(email)))
        .executeTakeFirst();
      if (existing) {
        if (existing.role !== role)
          await trx.updateTable('users').set({ role }).where('id', '=', existing.id).execute();
        return { id: existing.id, created: false };
      }
      const row = await trx
        .insertInto('users')
        .values({
          email: normalizeEmail(email),
          password_hash: passwordHash,
          role,
          name,
          email_verified_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: row.id, created: true };
    };

    const admin = await ensureUser(opts.adminEmail, adminHash, 'admin', 'Admin');
    const demo = await ensureUser(opts.demoEmail, demoHash, 'user', 'Demo User');

    let project = await trx
      .selectFrom('projects')
      .select('id')
      .where('owner_id', '=', demo.id)
      .where('name', '=', DEMO_PROJECT_NAME)
      .executeTakeFirst();
    const demoProject = !project;
    if (!project) {
      project = await trx
        .insertInto('projects')
        .values({ owner_id: demo.id, name: DEMO_PROJECT_NAME, bpm: 120, key: 'A minor' })
        .returning('id')
        .executeTakeFirstOrThrow();
      const projectId = project.id;
      await trx
        .insertInto('lanes')
        .values(DEMO_LANES.map((lane, position) => ({ ...lane, project_id: projectId, position })))
        .execute();
    }

    return {
      adminId: admin.id,
      demoUserId: demo.id,
      demoProjectId: project.id,
      created: { admin: admin.created, demoUser: demo.created, demoProject },
    };
  });
}
