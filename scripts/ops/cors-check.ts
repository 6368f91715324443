/**
 * CORS check (seed post-deploy "Configure CORS" and hardening 2): a preflight `OPTIONS /api/generate` from the web
 * app's origin must be allowed with credentials and the seed's methods; the same preflight from a foreign origin
 * must not be (no Access-Control-Allow-Origin for it).
 *
 *   pnpm ops:cors-check --base-url https://api.dawg-ai.com --origin https://dawg-ai.com
 */
import { type CommandSpec, isMain, parseArgs, run, UsageError } from './cli';

export const REQUIRED_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'] as const;

export interface CorsReport {
  allowed: Record<string, string | null>;
  foreign: Record<string, string | null>;
  problems: string[];
}

const HEADERS = ['access-control-allow-origin', 'access-control-allow-methods', 'access-control-allow-credentials'];

async function preflight(base: string, path: string, origin: string): Promise<Record<string, string | null>> {
  const res = await fetch(`${base.replace(/\/+$/, '')}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  await res.arrayBuffer();
  return { status: String(res.status), ...Object.fromEntries(HEADERS.map((h) => [h, res.headers.get(h)])) };
}

export async function checkCors(opts: {
  base: string;
  origin: string;
  foreignOrigin: string;
  path: string;
}): Promise<CorsReport> {
  const [allowed, foreign] = await Promise.all([
    preflight(opts.base, opts.path, opts.origin),
    preflight(opts.base, opts.path, opts.foreignOrigin),
  ]);
  const problems: string[] = [];
  if (allowed['access-control-allow-origin'] !== opts.origin) {
    problems.push(
      `Access-Control-Allow-Origin is ${allowed['access-control-allow-origin'] ?? 'missing'}, expected ${opts.origin}`,
    );
  }
  if (allowed['access-control-allow-credentials'] !== 'true') {
    problems.push(
      `Access-Control-Allow-Credentials is ${allowed['access-control-allow-credentials'] ?? 'missing'}, expected true`,
    );
  }
  const methods = (allowed['access-control-allow-methods'] ?? '').split(',').map((m) => m.trim().toUpperCase());
  const missing = REQUIRED_METHODS.filter((m) => !methods.includes(m));
  if (missing.length > 0) problems.push(`Access-Control-Allow-Methods lacks ${missing.join(', ')}`);
  const leaked = foreign['access-control-allow-origin'];
  if (leaked === opts.foreignOrigin || leaked === '*') {
    problems.push(`the foreign origin ${opts.foreignOrigin} is allowed (Access-Control-Allow-Origin: ${leaked})`);
  }
  return { allowed, foreign, problems };
}

export const corsCommand: CommandSpec = {
  usage: 'pnpm ops:cors-check --origin URL [--base-url URL]',
  description:
    'Preflights POST /api/generate from the web origin (must be allowed with credentials and GET, POST, PUT,\n' +
    'DELETE, OPTIONS) and from a foreign origin (must not be allowed).',
  options: [
    { name: 'base-url', env: 'BASE_URL', default: 'http://127.0.0.1:3000', help: 'the api origin' },
    { name: 'origin', env: 'PUBLIC_URL', help: "the web app's origin (one of CORS_ORIGINS)" },
    { name: 'foreign-origin', default: 'https://not-allowed.example', help: 'an origin that must be refused' },
    { name: 'path', default: '/api/generate', help: 'the endpoint to preflight' },
  ],
  epilogue: 'Exit codes: 0 CORS as expected, 1 a problem (each printed), 2 bad usage.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(corsCommand);
    if (!values.origin) throw new UsageError('--origin (or PUBLIC_URL) is required');
    const report = await checkCors({
      base: values['base-url']!,
      origin: values.origin,
      foreignOrigin: values['foreign-origin']!,
      path: values.path!,
    });
    for (const [label, headers] of [
      [values.origin, report.allowed],
      [values['foreign-origin']!, report.foreign],
    ] as const) {
      process.stdout.write(`preflight from ${label}:\n`);
      for (const [k, v] of Object.entries(headers)) process.stdout.write(`  ${k}: ${v ?? '(none)'}\n`);
    }
    for (const p of report.problems) process.stdout.write(`✗ ${p}\n`);
    process.stdout.write(report.problems.length === 0 ? 'cors: ok\n' : 'cors: FAILED\n');
    return report.problems.length === 0 ? 0 : 1;
  });
}
