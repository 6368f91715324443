/**
 * The admin command that sets a user's plan where Stripe is not configured:
 * `pnpm --filter @dawg/db set-plan <email> <plan>` (src/cli.ts), run as a real process against the file's database.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestDatabase, createUser, repoPath, type TestDatabase } from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

async function cli(...args: string[]) {
  return run(repoPath('node_modules', '.bin', 'tsx'), ['src/cli.ts', ...args], {
    cwd: repoPath('packages', 'db'),
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: database.url },
  }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

describe('set-plan', () => {
  it("sets a user's plan by email and refuses an unknown plan or user", async () => {
    const { user } = await createUser(database.db, { email: 'Plan.Setter@test.dawg.local' });
    const ok = await cli('set-plan', 'plan.setter@test.dawg.local', 'studio');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('plan free → studio');
    const row = await database.db.selectFrom('users').select('plan').where('id', '=', user.id).executeTakeFirst();
    expect(row?.plan).toBe('studio');

    expect((await cli('set-plan', 'plan.setter@test.dawg.local', 'platinum')).code).toBe(2);
    expect((await cli('set-plan', 'nobody@test.dawg.local', 'pro')).code).toBe(1);
  });
});
