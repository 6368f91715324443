import { defineConfig } from 'vitest/config';

// vitest 5 declares Node >= 22; on Node 20 its error reporter calls Map.groupBy, which Node 20 lacks, and a failing
// test then reports "Map.groupBy is not a function" instead of its assertion. The config runs in the main process.
if (typeof (Map as { groupBy?: unknown }).groupBy !== 'function') {
  Object.defineProperty(Map, 'groupBy', {
    configurable: true,
    writable: true,
    value<K, T>(items: Iterable<T>, key: (item: T, index: number) => K): Map<K, T[]> {
      const groups = new Map<K, T[]>();
      let i = 0;
      for (const item of items) {
        const k = key(item, i++);
        const g = groups.get(k);
        if (g) g.push(item);
        else groups.set(k, [item]);
      }
      return groups;
    },
  });
}

/**
 * One vitest run across packages, four projects:
 * - unit: pure logic, no servers (`*.test.ts`)
 * - integration: real Postgres, Redis and an S3-protocol server (`*.int.test.ts`)
 * - faults: processes killed and services cut under a running stack (`*.faults.test.ts`, `pnpm test:faults`)
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
          exclude: [...shared.exclude, '**/*.int.test.ts', '**/*.e2e.test.ts', '**/*.faults.test.ts'],
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
        // `pnpm test:faults`: processes killed, Redis restarted, services cut (one file at a time: they are heavy).
        test: {
          ...shared,
          name: 'faults',
          include: ['packages/*/test/**/*.faults.test.ts'],
          globalSetup: ['packages/testing/src/global-setup.ts'],
          // Generous: a test that is slow on a loaded machine still ends green or red, never cut off mid-assertion.
          testTimeout: 600_000,
          hookTimeout: 180_000,
          fileParallelism: false,
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
