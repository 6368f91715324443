/**
 * @dawg/testing: the harness every package's tests use (real Postgres, Redis, S3-protocol server, processes, browser).
 * The vitest globalSetup itself is `@dawg/testing/global-setup` (configured in the root vitest.config.ts).
 */
export * from './browser';
export * from './database';
export * from './env';
export * from './fakes/anthropic';
export * from './fakes/gemini';
export * from './fakes/openai';
export * from './fakes/openai-realtime';
export * from './fakes/suno';
export * from './fault-proxy';
export * from './fixtures';
export * from './launcher';
export * from './pg-admin';
export * from './ports';
export * from './redis';
export * from './redis-server';
export * from './repo';
export * from './s3';
export { ensureTemplateDatabase, dropLeakedTestDatabases, migrationsHash } from './global-setup';
export * from './fakes/stripe';
