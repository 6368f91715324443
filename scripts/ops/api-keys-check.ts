/**
 * API key checks (seed pre-deployment 1.2): each configured provider key is tried against its API with a call that
 * costs nothing (listing models). A provider without a key is reported "not configured" (the app then uses its
 * offline provider) and does not fail the run unless `--require` names it; a configured key that is refused or an
 * API that does not answer fails it.
 *
 *   pnpm ops:api-keys-check
 *   pnpm ops:api-keys-check --require openai,anthropic
 */
import { type CommandSpec, isMain, parseArgs, run, UsageError } from './cli';

export const PROVIDER_CHECKS = ['openai', 'anthropic'] as const;
export type ProviderCheck = (typeof PROVIDER_CHECKS)[number];

export interface KeyCheckResult {
  provider: ProviderCheck;
  status: 'ok' | 'not_configured' | 'failed';
  detail: string;
}

const TIMEOUT_MS = 15_000;

async function listModels(url: string, headers: Record<string, string>): Promise<string[]> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  const body = JSON.parse(text) as { data?: { id?: string }[] };
  return (body.data ?? []).map((m) => m.id ?? '?');
}

export async function checkKeys(env: NodeJS.ProcessEnv): Promise<KeyCheckResult[]> {
  const checks: Record<ProviderCheck, () => Promise<KeyCheckResult>> = {
    openai: async () => {
      const key = env.OPENAI_API_KEY;
      if (!key) return { provider: 'openai', status: 'not_configured', detail: 'OPENAI_API_KEY is not set' };
      const base = (env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1').replace(/\/+$/, '');
      const ids = await listModels(`${base}/models`, { authorization: `Bearer ${key}` });
      return { provider: 'openai', status: 'ok', detail: ids.includes('gpt-4o') ? 'gpt-4o' : (ids[0] ?? 'no models') };
    },
    anthropic: async () => {
      const key = env.ANTHROPIC_API_KEY;
      if (!key) return { provider: 'anthropic', status: 'not_configured', detail: 'ANTHROPIC_API_KEY is not set' };
      const base = (env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com').replace(/\/+$/, '');
      const ids = await listModels(`${base}/v1/models`, { 'x-api-key': key, 'anthropic-version': '2023-06-01' });
      return { provider: 'anthropic', status: 'ok', detail: ids[0] ?? 'no models' };
    },
  };
  return Promise.all(
    PROVIDER_CHECKS.map((p) =>
      checks[p]().catch((err: unknown): KeyCheckResult => ({
        provider: p,
        status: 'failed',
        detail: err instanceof Error ? err.message : String(err),
      })),
    ),
  );
}

export const apiKeysCommand: CommandSpec = {
  usage: 'pnpm ops:api-keys-check [--require openai,anthropic]',
  description:
    'Tries OPENAI_API_KEY and ANTHROPIC_API_KEY (OPENAI_BASE_URL / ANTHROPIC_BASE_URL when set) by listing models.\n' +
    'A provider without a key is "not configured", which fails only when --require names it.',
  options: [
    { name: 'require', help: `comma-separated providers that must be configured (${PROVIDER_CHECKS.join(', ')})` },
  ],
  epilogue: 'Exit codes: 0 every configured key works, 1 a key failed or a required one is missing, 2 bad usage.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(apiKeysCommand);
    const required = (values.require ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const r of required) {
      if (!(PROVIDER_CHECKS as readonly string[]).includes(r))
        throw new UsageError(`--require: unknown provider "${r}"`);
    }
    const results = await checkKeys(process.env);
    let ok = true;
    for (const r of results) {
      const missing = r.status === 'not_configured' && required.includes(r.provider);
      if (r.status === 'failed' || missing) ok = false;
      const mark = r.status === 'ok' ? '✅' : r.status === 'failed' || missing ? '❌' : '⚪';
      const label = r.status === 'not_configured' ? `not configured (${r.detail})` : r.detail;
      process.stdout.write(`${mark} ${r.provider}: ${label}\n`);
    }
    process.stdout.write(ok ? 'api-keys: ok\n' : 'api-keys: FAILED\n');
    return ok ? 0 : 1;
  });
}
