/**
 * Database CLI: `migrate`, `rollback [--steps N | --all]`, `status`, `seed`, and `set-plan <email> <plan>` (an
 * admin sets a user's plan, e.g. where Stripe is not configured). Reads DATABASE_URL with parseEnv's
 * rules (dev defaults outside production; in production a missing variable is an error naming it).
 */
import { baseEnvSchema, EnvError, parseEnv, planIdSchema } from '@dawg/shared';
import { z } from 'zod';
import { createDb } from './index';
import { migrateDown, migrateToLatest, migrationStatus } from './migrate';
import { findUserByEmail, setUserPlan } from './queries/users';
import { seed } from './seed';

const cliEnvSchema = baseEnvSchema
  .pick({ NODE_ENV: true, DATABASE_URL: true, DATABASE_CONNECTION_TIMEOUT: true })
  .extend({
    SEED_ADMIN_EMAIL: z.email().default('admin@dawg-ai.com'),
    SEED_ADMIN_PASSWORD: z.string().min(8).optional(),
    SEED_DEMO_EMAIL: z.email().default('demo@dawg-ai.com'),
    SEED_DEMO_PASSWORD: z.string().min(8).optional(),
  });

const USAGE =
  'usage: tsx src/cli.ts <migrate | rollback [--steps N | --all] | status | seed | set-plan <email> <free|pro|studio>>';

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || !['migrate', 'rollback', 'status', 'seed', 'set-plan'].includes(command)) {
    console.error(USAGE);
    return 2;
  }

  let env: z.infer<typeof cliEnvSchema>;
  try {
    env = parseEnv(cliEnvSchema, process.env);
  } catch (err) {
    if (err instanceof EnvError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }

  const db = createDb({
    connectionString: env.DATABASE_URL,
    max: 2,
    connectionTimeoutMillis: env.DATABASE_CONNECTION_TIMEOUT,
  });
  try {
    switch (command) {
      case 'migrate': {
        const applied = await migrateToLatest(db);
        if (applied.length === 0) console.log('Database schema is up to date!');
        else console.log(`Applied ${applied.length} migration(s):\n${applied.map((n) => `  └─ ${n}`).join('\n')}`);
        return 0;
      }
      case 'rollback': {
        const all = rest.includes('--all');
        const stepsArg = rest[rest.indexOf('--steps') + 1];
        const steps = rest.includes('--steps') ? Number(stepsArg) : 1;
        if (!Number.isInteger(steps) || steps < 1) {
          console.error(USAGE);
          return 2;
        }
        const reverted = await migrateDown(db, all ? { all } : { steps });
        console.log(
          reverted.length ? `Reverted:\n${reverted.map((n) => `  └─ ${n}`).join('\n')}` : 'Nothing to roll back.',
        );
        return 0;
      }
      case 'status': {
        for (const m of await migrationStatus(db)) {
          console.log(
            `${m.executedAt ? '✅' : '⏳'} ${m.name}${m.executedAt ? `  ${m.executedAt.toISOString()}` : '  (pending)'}`,
          );
        }
        return 0;
      }
      case 'set-plan': {
        const [email, planArg] = rest;
        const plan = planIdSchema.safeParse(planArg);
        if (!email || !plan.success) {
          console.error(USAGE);
          return 2;
        }
        const user = await findUserByEmail(db, email);
        if (!user) {
          console.error(`No user with email ${email}`);
          return 1;
        }
        await setUserPlan(db, user.id, plan.data);
        console.log(`${user.email}: plan ${user.plan} → ${plan.data}`);
        return 0;
      }
      default: {
        const production = env.NODE_ENV === 'production';
        if (production && (!env.SEED_ADMIN_PASSWORD || !env.SEED_DEMO_PASSWORD)) {
          console.error('In production, set SEED_ADMIN_PASSWORD and SEED_DEMO_PASSWORD (at least 8 characters).');
          return 1;
        }
        const result = await seed(db, {
          adminEmail: env.SEED_ADMIN_EMAIL,
          adminPassword: env.SEED_ADMIN_PASSWORD ?? 'admin-password',
          demoEmail: env.SEED_DEMO_EMAIL,
          demoPassword: env.SEED_DEMO_PASSWORD ?? 'demo-password',
        });
        const says = (created: boolean) => (created ? 'created' : 'exists');
        console.log(`admin ${env.SEED_ADMIN_EMAIL}: ${says(result.created.admin)}`);
        console.log(`demo ${env.SEED_DEMO_EMAIL}: ${says(result.created.demoUser)}`);
        console.log(`demo project ${result.demoProjectId}: ${says(result.created.demoProject)}`);
        return 0;
      }
    }
  } finally {
    await db.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
