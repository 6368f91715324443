import { defineConfig } from 'vitest/config';

/**
 * One vitest run across packages, three projects:
 * - unit: pure logic, no servers (`*.test.ts`)
 * - integration: real Postgres, Redis and an S3-protocol server (`*.int.test.ts`)
 * - e2e: Debian Chromium driven by playwright-core against a stack the test starts (`*.e2e.test.ts`)
 * Every test file gets its own database and Redis prefix (see @dawg/testing), so files run in parallel.
 */
const shared = {
  exclude: ['**/node_modules/**', '**/dist/**'],
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'scripts/**/*.test.ts'],
          exclude: [...shared.exclude, '**/*.int.test.ts', '**/*.e2e.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['packages/*/src/**/*.int.test.ts', 'packages/*/test/**/*.int.test.ts', 'scripts/**/*.int.test.ts'],
          globalSetup: ['packages/testing/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          ...shared,
          name: 'e2e',
          include: ['packages/*/e2e/**/*.e2e.test.ts', 'scripts/**/*.e2e.test.ts'],
          globalSetup: ['packages/testing/src/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
