/**
 * Values the global setup provides to test files (vitest `provide` / `inject`), typed for both sides.
 */
import type {} from 'vitest';

declare module 'vitest' {
  interface ProvidedContext {
    /** Name of the migrated template database that createTestDatabase() clones. */
    templateDatabase: string;
    /** Admin connection URL of the test Postgres server (TEST_DATABASE_ADMIN_URL or the default). */
    testDatabaseAdminUrl: string;
    /** Id of this test run; names of its per-file databases carry it. */
    testRunId: string;
  }
}

export {};
