/**
 * `pnpm env:check`: the seed's pre-deployment check (section 1.1) of the PRODUCTION environment, made stricter:
 * every required variable must be present AND well-formed by the same zod schemas the api and worker parse at start,
 * plus production-only rules (no dev secrets, distinct secrets, explicit CORS origins). Prints one line per variable
 * (`✅ Found`, `❌ Missing`, `❌ Malformed (reason)`), never a value, and exits 1 if anything is missing or malformed.
 */
import { pathToFileURL } from 'node:url';
import { DEV_DEFAULTS, EnvError, apiEnvSchema, parseEnv, workerEnvSchema } from '@dawg/shared';

/** Seed 1.1's required list, in its order. */
const SEED_REQUIRED = [
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'GOOGLE_AI_API_KEY',
  'DATABASE_URL',
  'REDIS_URL',
  'AWS_S3_BUCKET',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
  'JWT_SECRET',
  'SESSION_SECRET',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
] as const;

/** What seed 1.3 sets on Railway beyond 1.1 and has no safe default in production. */
export const REQUIRED_PRODUCTION_VARS = [
  'NODE_ENV',
  'PORT',
  ...SEED_REQUIRED,
  'CORS_ORIGINS',
  'STRIPE_PUBLISHABLE_KEY',
] as const;

type Env = Record<string, string | undefined>;

const allShapes = { ...workerEnvSchema.shape, ...apiEnvSchema.shape };
const shapes: Partial<Record<string, (typeof allShapes)[keyof typeof allShapes]>> = allShapes;

/** Rules that hold only in production; each returns a reason when broken. */
const PRODUCTION_RULES: Record<string, (value: string, env: Env) => string | undefined> = {
  NODE_ENV: (v) => (v === 'production' ? undefined : 'must be "production" (otherwise dev defaults apply silently)'),
  ANTHROPIC_API_KEY: (v) => (v.startsWith('sk-ant-') ? undefined : 'must start with sk-ant-'),
  OPENAI_API_KEY: (v) => (v.startsWith('sk-') ? undefined : 'must start with sk-'),
  JWT_SECRET: (v) => (v === DEV_DEFAULTS.JWT_SECRET ? 'is the development default' : undefined),
  SESSION_SECRET: (v, env) =>
    v === DEV_DEFAULTS.SESSION_SECRET
      ? 'is the development default'
      : v === env.JWT_SECRET
        ? 'must differ from JWT_SECRET'
        : undefined,
  CORS_ORIGINS: (v) => {
    const origins = v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (origins.length === 0) return 'must list at least one origin';
    const bad = origins.find((o) => {
      if (o === '*') return true;
      try {
        const url = new URL(o);
        return !['http:', 'https:'].includes(url.protocol) || url.origin !== o;
      } catch {
        return true;
      }
    });
    return bad === undefined ? undefined : `"${bad}" is not an origin like https://dawg-ai.com (no "*", no path)`;
  },
};

export interface EnvCheckResult {
  ok: boolean;
  lines: string[];
  missing: string[];
  malformed: { name: string; reason: string }[];
}

function fieldReason(name: string, value: string, env: Env): string | undefined {
  const schema = shapes[name];
  if (schema) {
    const parsed = schema.safeParse(value);
    if (!parsed.success) return parsed.error.issues.map((i) => i.message).join('; ');
  }
  return PRODUCTION_RULES[name]?.(value, env);
}

/** Check an environment as production would see it. Empty strings count as unset (as parseEnv treats them). */
export function checkEnvironment(env: Env): EnvCheckResult {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  const lines: string[] = ['🔍 Verifying Environment Variables...', ''];
  const missing: string[] = [];
  const malformed: { name: string; reason: string }[] = [];

  for (const name of REQUIRED_PRODUCTION_VARS) {
    const v = value(name);
    if (v === undefined) {
      missing.push(name);
      lines.push(`❌ Missing: ${name}`);
      continue;
    }
    const reason = fieldReason(name, v, env);
    if (reason) {
      malformed.push({ name, reason });
      lines.push(`❌ Malformed: ${name} (${reason})`);
    } else {
      lines.push(`✅ Found: ${name}`);
    }
  }

  // Optional variables are not required, but one that is set must be well-formed.
  const required = new Set<string>(REQUIRED_PRODUCTION_VARS);
  const optional = Object.keys(shapes)
    .filter((n) => !required.has(n) && value(n) !== undefined)
    .sort();
  if (optional.length > 0) lines.push('', 'Optional (set):');
  for (const name of optional) {
    const reason = fieldReason(name, value(name)!, env);
    if (reason) {
      malformed.push({ name, reason });
      lines.push(`❌ Malformed: ${name} (${reason})`);
    } else {
      lines.push(`✅ Found: ${name}`);
    }
  }

  // The deployables' own parse is the final word: report anything it rejects that the per-variable pass missed.
  const reported = new Set([...missing, ...malformed.map((m) => m.name)]);
  for (const schema of [apiEnvSchema, workerEnvSchema]) {
    try {
      parseEnv(schema, { ...env, NODE_ENV: 'production' });
    } catch (err) {
      if (!(err instanceof EnvError)) throw err;
      for (const issue of err.issues) {
        if (reported.has(issue.variable)) continue;
        reported.add(issue.variable);
        malformed.push({ name: issue.variable, reason: issue.reason });
        lines.push(`❌ Malformed: ${issue.variable} (${issue.reason})`);
      }
    }
  }

  const ok = missing.length === 0 && malformed.length === 0;
  lines.push('');
  if (ok) {
    lines.push('✅ All required environment variables are set!');
  } else {
    const parts = [
      missing.length ? `Missing ${missing.length} required variable${missing.length === 1 ? '' : 's'}` : '',
      malformed.length ? `${malformed.length} malformed` : '',
    ].filter(Boolean);
    lines.push(`⚠️  ${parts.join(', ')}!`);
  }
  return { ok, lines, missing, malformed };
}

/**
 * Seed 3.1's external service check, for the optional services configured by URL: the expert music-analysis service
 * (EXPERT_MUSIC_AI_URL) must answer `GET /health` with `{"status": "healthy"}`. Nothing configured: nothing checked.
 */
export async function checkServices(env: Env, timeoutMs = 5_000): Promise<{ ok: boolean; lines: string[] }> {
  const url = env.EXPERT_MUSIC_AI_URL;
  if (!url) return { ok: true, lines: [] };
  try {
    const res = await fetch(new URL('health', url.endsWith('/') ? url : `${url}/`), {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.json().catch(() => null)) as { status?: unknown } | null;
    if (res.ok && body?.status === 'healthy') return { ok: true, lines: ['✅ Expert Music AI: healthy'] };
    return { ok: false, lines: [`❌ Expert Music AI: unhealthy (HTTP ${res.status})`] };
  } catch (err) {
    return {
      ok: false,
      lines: [`❌ Expert Music AI: unreachable (${err instanceof Error ? err.message : String(err)})`],
    };
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const result = checkEnvironment(process.env);
  console.log(result.lines.join('\n'));
  const services = await checkServices(process.env);
  if (services.lines.length > 0) console.log(['', ...services.lines].join('\n'));
  process.exitCode = result.ok && services.ok ? 0 : 1;
}
