/**
 * The environment a test gives to the api and worker processes it starts (or to buildServer/createWorkerApp through
 * parseEnv): test mode, quiet logs, this file's database, Redis prefix and S3 server.
 */
import { adminUrl } from './pg-admin';
import { defaultRedisUrl, uniqueRedisPrefix, DEFAULT_QUEUE_DB } from './redis';

export interface TestEnvOptions {
  /** DATABASE_URL, normally createTestDatabase().url; defaults to the admin database (fine for health checks only). */
  databaseUrl?: string;
  /** The handle of startS3Server() (or any object with these fields). */
  s3?: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string; region: string };
  /** REDIS_KEY_PREFIX; a fresh uniqueRedisPrefix() when omitted. */
  redisPrefix?: string;
  redisUrl?: string;
}

/** A complete env record (strings only) for apiEnvSchema / workerEnvSchema; `overrides` win over everything. */
export function testEnv(options: TestEnvOptions = {}, overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: options.databaseUrl ?? adminUrl(),
    DATABASE_MAX_CONNECTIONS: '5',
    REDIS_URL: options.redisUrl ?? defaultRedisUrl(),
    REDIS_QUEUE_DB: String(DEFAULT_QUEUE_DB),
    REDIS_KEY_PREFIX: options.redisPrefix ?? uniqueRedisPrefix(),
    HOST: '127.0.0.1',
    PORT: '0',
    WORKER_PORT: '0',
    JWT_SECRET: 'test-only-jwt-secret-0123456789abcdef0123456789abcdef',
    SESSION_SECRET: 'test-only-session-secret-0123456789abcdef0123456789ab',
    CORS_ORIGINS: 'http://localhost:5173,http://127.0.0.1:5173',
    ENABLE_METRICS: 'true',
    SHUTDOWN_TIMEOUT_MS: '10000',
    WORKER_CONCURRENCY: '2',
  };
  if (options.s3) {
    env.S3_ENDPOINT = options.s3.endpoint;
    env.AWS_S3_BUCKET = options.s3.bucket;
    env.AWS_ACCESS_KEY_ID = options.s3.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = options.s3.secretAccessKey;
    env.AWS_REGION = options.s3.region;
  } else {
    // Valid values so the env parses; nothing answers there unless the test starts an S3 server.
    env.S3_ENDPOINT = 'http://127.0.0.1:9';
    env.AWS_S3_BUCKET = 'dawg-test';
    env.AWS_ACCESS_KEY_ID = 'S3RVER';
    env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    env.AWS_REGION = 'us-east-1';
  }
  return { ...env, ...overrides };
}
