/**
 * The environment of each deployable, validated once at start (nothing else reads process.env).
 * Names follow the seed's Appendix A; PORT, WORKER_PORT and REDIS_QUEUE_DB as in the foundation issue.
 * Dev defaults apply only when NODE_ENV is not "production": in production a missing URL or secret is an error.
 */
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

const postgresUrl = z
  .string()
  .url()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// or postgresql:// URL');

const redisUrl = z
  .string()
  .url()
  .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL');

const csv = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

const secret = z.string().min(32, 'must be at least 32 characters');

/** Variables both deployables read. */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: postgresUrl,
  DATABASE_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(500).default(10),
  DATABASE_CONNECTION_TIMEOUT: z.coerce.number().int().min(100).default(20_000),

  REDIS_URL: redisUrl,
  /** Queues live in their own Redis database so a cache flush never touches jobs. */
  REDIS_QUEUE_DB: z.coerce.number().int().min(0).max(15).default(1),
  /** Prefix of every Redis key and BullMQ queue (tests give each file its own). */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_-]+$/, 'letters, digits, ":", "_" and "-" only')
    .default('dawg'),

  AWS_S3_BUCKET: z.string().min(3).max(63),
  AWS_ACCESS_KEY_ID: z.string().min(1),
  AWS_SECRET_ACCESS_KEY: z.string().min(1),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1'),
  AWS_CLOUDFRONT_URL: z.string().url().optional(),
  /** S3-compatible endpoint (path-style); unset means AWS itself. */
  S3_ENDPOINT: z.string().url().optional(),

  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.string().url().optional(),
  GOOGLE_AI_API_KEY: z.string().min(1).optional(),
  SUNO_API_KEY: z.string().min(1).optional(),
  SUNO_BASE_URL: z.string().url().optional(),
  /**
   * Public URL of the api's Suno callback route (`…/api/suno/callback`); with SUNO_CALLBACK_SECRET, Suno's callbacks
   * wake the worker's polling early (the status is still read from Suno). Unset: polling only.
   */
  SUNO_CALLBACK_URL: z.string().url().optional(),
  SUNO_CALLBACK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Music provider of new generations; unset = suno when SUNO_API_KEY is set, else the local synth. */
  MUSIC_PROVIDER: z.enum(['local', 'suno', 'test']).optional(),
  /**
   * Test-only fault injection in the generate job: `render` makes the render fail, `finalize` fails after the audio
   * was uploaded (before the result is committed), `pause_processing` holds the job at the `processing` stage until
   * it is aborted (to kill a worker mid-job). Ignored when NODE_ENV is production.
   */
  GENERATION_FAULT: z.enum(['render', 'finalize', 'pause_processing']).optional(),

  ENABLE_METRICS: bool.default(true),
  SENTRY_DSN: z.string().url().optional(),

  FEATURE_CHAT_TO_CREATE: bool.default(true),
  FEATURE_COLLABORATION: bool.default(true),
  FEATURE_AI_MIXING: bool.default(true),

  SMTP_HOST: z.string().min(1).optional(),
  SMTP_PORT: port.optional(),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  EMAIL_FROM: z.string().min(3).default('DAWG AI <noreply@dawg-ai.com>'),

  /** Alerts (operations notifier): each channel is on when its variables are set. */
  ALERT_EMAIL_TO: csv.optional(),
  SLACK_WEBHOOK_URL: z.string().url().optional(),
  PAGERDUTY_INTEGRATION_KEY: z.string().min(1).optional(),
  PAGERDUTY_EVENTS_URL: z.string().url().default('https://events.pagerduty.com/v2/enqueue'),
  /** How often each api process probes Postgres, Redis and S3 and alerts on a change (0 = never). */
  SELF_CHECK_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),

  /** Grace period for in-flight work on SIGTERM. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(25_000),
});

export const apiEnvSchema = baseEnvSchema.extend({
  PORT: port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  JWT_SECRET: secret,
  SESSION_SECRET: secret,
  CORS_ORIGINS: csv.default(['http://localhost:5173', 'http://127.0.0.1:5173']),
  /** Whether X-Forwarded-For is believed (set behind Railway/Vercel). */
  TRUST_PROXY: bool.default(false),
  RATE_LIMIT_MAX: z.coerce.number().int().min(1).default(100),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(1000).default(15 * 60 * 1000),
  WHITELISTED_IPS: csv.default([]),
  /** Per-route request timer (seed hardening 5.3): 408 after this long. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(10).default(30_000),
  /** Seed hardening 5.2: 10 MB request bodies. */
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(10 * 1024 * 1024),
  COOKIE_DOMAIN: z.string().optional(),
  PUBLIC_URL: z.string().url().optional(),
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_/, 'must start with sk_test_, sk_live_ or rk_').optional(),
  STRIPE_PUBLISHABLE_KEY: z.string().regex(/^pk_(test|live)_/, 'must start with pk_test_ or pk_live_').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_/, 'must start with whsec_').optional(),
  STRIPE_API_HOST: z.string().optional(),
  /** A local Stripe-compatible server (`http://127.0.0.1:12111`), parsed into the SDK's host, port and protocol. */
  STRIPE_API_BASE_URL: z.string().url().optional(),
  WORKER_HEALTH_URL: z.string().url().optional(),
  /** The AI producer's model (Anthropic Messages API) when ANTHROPIC_API_KEY is set. */
  ANTHROPIC_MODEL: z.string().min(1).default('claude-haiku-4-5'),
  /** A provider stream that sends nothing for this long ends the turn with a timeout error. */
  ANTHROPIC_TIMEOUT_MS: z.coerce.number().int().min(100).default(60_000),
  /** Retries of a refused provider call (429, 529, connection errors) by the SDK, with its backoff. */
  ANTHROPIC_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  /** Chat failover (with GOOGLE_AI_API_KEY): the Gemini model answering when Anthropic is down or refusing. */
  GEMINI_MODEL: z.string().min(1).default('gemini-2.5-flash'),
  /** A local Gemini-compatible server (the SDK's `httpOptions.baseUrl`); unset = Google's. */
  GOOGLE_AI_BASE_URL: z.string().url().optional(),
  /**
   * Chat failover: a provider that is down, overloaded or refusing hands the turn to the next — Anthropic, then Gemini
   * (GOOGLE_AI_API_KEY), then the offline producer. Off: a provider failure ends the turn with its error.
   */
  CHAT_FAILOVER: bool.default(true),
  /** Chat circuit breaker: consecutive failures that open a provider's circuit, and how long it stays open. */
  CHAT_BREAKER_FAILURES: z.coerce.number().int().min(1).max(100).default(3),
  CHAT_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).default(30_000),
  /** Optional expert music-analysis service (seed 3.1 "Expert Music AI"); its `/health` shows in the api's /health. */
  EXPERT_MUSIC_AI_URL: z.string().url().optional(),
  /** Realtime voice (`/voice`): the OpenAI Realtime model, with OPENAI_API_KEY. */
  OPENAI_REALTIME_MODEL: z.string().min(1).default('gpt-realtime'),
  /** The Realtime endpoint (`wss://…/v1/realtime`); unset = derived from OPENAI_BASE_URL (or OpenAI's). */
  OPENAI_REALTIME_URL: z
    .string()
    .url()
    .refine((u) => u.startsWith('wss://'), 'must start with wss://')
    .optional(),
  /** A PEM file of an extra CA trusted for the Realtime connection only (a private gateway, the test fake). */
  OPENAI_REALTIME_CA_FILE: z.string().min(1).optional(),
  /** Speech-to-text of the user's side of a voice session (billed per minute); empty = no user transcript. */
  OPENAI_TRANSCRIBE_MODEL: z.string().default('gpt-4o-mini-transcribe'),
  /** Voice sessions one user may have open at once (per api instance). */
  VOICE_MAX_SESSIONS_PER_USER: z.coerce.number().int().min(1).max(20).default(2),
  /** A voice session ends after this long. */
  VOICE_MAX_SESSION_MS: z.coerce.number().int().min(1000).default(30 * 60 * 1000),
  /**
   * Demo mode (the web app's VITE_DEMO_MODE): a visitor who is not signed in gets an ephemeral account of their own
   * with a sample project. Off: the demo procedures refuse.
   */
  DEMO_MODE: bool.default(false),
  /** How long an ephemeral account lives before the worker removes it with its objects. */
  DEMO_ACCOUNT_TTL_HOURS: z.coerce.number().min(0.01).max(24 * 30).default(24),
  /** Local-synth generations demo accounts may make per address per day (the sample project's do not count). */
  DEMO_GENERATIONS_PER_IP: z.coerce.number().int().min(0).max(1000).default(3),
  /** Demo accounts one address may start per day. */
  DEMO_ACCOUNTS_PER_IP: z.coerce.number().int().min(1).max(10_000).default(10),
});

export const workerEnvSchema = baseEnvSchema.extend({
  WORKER_PORT: port.default(3001),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** The billing job re-reads subscriptions from Stripe (same values as the api's). */
  STRIPE_SECRET_KEY: z.string().regex(/^(sk|rk)_(test|live)_/, 'must start with sk_test_, sk_live_ or rk_').optional(),
  STRIPE_API_HOST: z.string().optional(),
  STRIPE_API_BASE_URL: z.string().url().optional(),
  /** A generation running longer than this fails (hold released, nothing kept). */
  GENERATION_TIMEOUT_MS: z.coerce.number().int().min(100).default(15 * 60 * 1000),
  /**
   * BullMQ job lock: a worker that stops renewing it (killed, frozen) loses its job to another worker after about
   * this long (the stalled-job check runs at the same interval).
   */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(500).default(30_000),
  /** First pause between Suno `record-info` polls; never under 334 ms (3 requests/s), backing off to 15 s. */
  SUNO_POLL_INTERVAL_MS: z.coerce.number().int().min(334).default(2_000),
  /** Chat model that writes lyrics and titles when OPENAI_API_KEY is set. */
  OPENAI_LYRICS_MODEL: z.string().min(1).default('gpt-4o-mini'),
});

export type ApiEnv = z.infer<typeof apiEnvSchema>;
export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** Applied only outside production, so `pnpm dev` and the tests work on a fresh machine. */
export const DEV_DEFAULTS: Readonly<Record<string, string>> = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  REDIS_URL: 'redis://127.0.0.1:6379',
  AWS_S3_BUCKET: 'dawg-ai-audio-dev',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REGION: 'us-east-1',
  S3_ENDPOINT: 'http://127.0.0.1:4569',
  JWT_SECRET: 'dev-only-jwt-secret-0123456789abcdef0123456789abcdef',
  SESSION_SECRET: 'dev-only-session-secret-0123456789abcdef0123456789ab',
};

export class EnvError extends Error {
  constructor(readonly issues: { variable: string; reason: string }[]) {
    super(
      'Invalid environment:\n' + issues.map((i) => `  ${i.variable}: ${i.reason}`).join('\n'),
    );
    this.name = 'EnvError';
  }
}

/** Parse an environment; throws EnvError naming every bad variable. Empty strings count as unset. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const cleaned: Record<string, string> = {};
  const production = env.NODE_ENV === 'production';
  if (!production) Object.assign(cleaned, DEV_DEFAULTS);
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((i) => ({
        variable: i.path.join('.') || '(root)',
        reason: i.message,
      })),
    );
  }
  return result.data;
}
