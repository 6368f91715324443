/**
 * `pnpm env:check` as a process: the exit code and the report lines the seed's section 1.1 prints.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('./env-check.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const VALID: Record<string, string> = {
  NODE_ENV: 'production',
  PORT: '3000',
  ANTHROPIC_API_KEY: 'sk-ant-api03-abcdefghijklmnop',
  OPENAI_API_KEY: 'sk-proj-abcdefghijklmnop',
  GOOGLE_AI_API_KEY: 'AIzaSyA-abcdefghijklmnopqrstuvwxyz0123',
  DATABASE_URL: 'postgresql://postgres:secret@db.example.com:5432/postgres',
  REDIS_URL: 'redis://default:secret@redis.internal:6379',
  AWS_S3_BUCKET: 'dawg-ai-audio-production',
  AWS_ACCESS_KEY_ID: 'AKIAABCDEFGHIJKLMNOP',
  AWS_SECRET_ACCESS_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCD',
  AWS_REGION: 'us-east-1',
  JWT_SECRET: 'j'.repeat(64),
  SESSION_SECRET: 's'.repeat(64),
  CORS_ORIGINS: 'https://dawg-ai.com,https://www.dawg-ai.com',
  STRIPE_SECRET_KEY: 'sk_live_abcdefghijklmnop',
  STRIPE_PUBLISHABLE_KEY: 'pk_live_abcdefghijklmnop',
  STRIPE_WEBHOOK_SECRET: 'whsec_abcdefghijklmnop',
  LOG_LEVEL: 'info',
  ENABLE_METRICS: 'true',
};

function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    // Only PATH from the outside: the check must see exactly the environment under test.
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      stderr && code !== 0 && code !== 1 ? reject(new Error(stderr)) : resolve({ code, stdout }),
    );
  });
}

describe('env:check', () => {
  it('passes a complete, well-formed production environment', async () => {
    const { code, stdout } = await run(VALID);
    expect(stdout).toContain('✅ Found: STRIPE_WEBHOOK_SECRET');
    expect(stdout).toContain('✅ Found: DATABASE_URL');
    expect(stdout).toContain('✅ All required environment variables are set!');
    expect(stdout).not.toContain('❌');
    expect(code).toBe(0);
  });

  it('fails on a missing STRIPE_WEBHOOK_SECRET and a malformed DATABASE_URL, naming both and no secret', async () => {
    const { STRIPE_WEBHOOK_SECRET: _omitted, ...rest } = VALID;
    const { code, stdout } = await run({ ...rest, DATABASE_URL: 'mysql://root:hunter2@db.example.com/app' });
    expect(code).toBe(1);
    expect(stdout).toContain('❌ Missing: STRIPE_WEBHOOK_SECRET');
    expect(stdout).toMatch(/❌ Malformed: DATABASE_URL \(.*postgres/);
    expect(stdout).toContain('✅ Found: REDIS_URL');
    expect(stdout).not.toContain('hunter2');
  });

  it('rejects development leftovers and badly formed values', async () => {
    const { code, stdout } = await run({
      ...VALID,
      NODE_ENV: 'development',
      STRIPE_WEBHOOK_SECRET: 'not-a-webhook-secret',
      SESSION_SECRET: VALID.JWT_SECRET!,
      CORS_ORIGINS: '*',
      LOG_LEVEL: 'loud',
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(/❌ Malformed: NODE_ENV \(must be "production"/);
    expect(stdout).toMatch(/❌ Malformed: STRIPE_WEBHOOK_SECRET \(must start with whsec_\)/);
    expect(stdout).toMatch(/❌ Malformed: SESSION_SECRET \(must differ from JWT_SECRET\)/);
    expect(stdout).toMatch(/❌ Malformed: CORS_ORIGINS/);
    expect(stdout).toMatch(/❌ Malformed: LOG_LEVEL/);
  });
});
