/**
 * Rate-limit check (seed "Test Rate Limiting"): sends 110 anonymous `POST /api/generate` requests, as the seed's
 * curl loop does, and checks that the first RATE_LIMIT_MAX (100) are answered normally (401 without a token) and
 * every later one with 429. Run it from an address that is not in WHITELISTED_IPS, against a limit window that is
 * not already used up (a fresh window, or wait RATE_LIMIT_WINDOW_MS).
 *
 *   pnpm ops:rate-limit-check --base-url https://api.dawg-ai.com
 */
import { type CommandSpec, isMain, numberOption, parseArgs, run } from './cli';

export interface RateLimitReport {
  statuses: number[];
  first429: number | null;
  problems: string[];
}

export async function checkRateLimit(opts: {
  base: string;
  requests: number;
  limit: number;
  path: string;
  origin?: string;
}): Promise<RateLimitReport> {
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < opts.requests; i += 1) {
    const res = await fetch(`${opts.base.replace(/\/+$/, '')}${opts.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(opts.origin ? { origin: opts.origin } : {}) },
      body: JSON.stringify({ prompt: 'test' }),
    });
    await res.arrayBuffer();
    statuses.push(res.status);
    if (res.status === 429) retryAfter ??= res.headers.get('retry-after');
  }
  const firstIndex = statuses.indexOf(429);
  const first429 = firstIndex === -1 ? null : firstIndex + 1;
  const problems: string[] = [];
  if (first429 === null) problems.push(`no 429 in ${opts.requests} requests (is this address in WHITELISTED_IPS?)`);
  else {
    if (first429 <= opts.limit) {
      problems.push(`429 from request ${first429}, expected from ${opts.limit + 1} (window already partly used?)`);
    }
    const after = statuses.slice(firstIndex).filter((s) => s !== 429);
    if (after.length > 0)
      problems.push(`${after.length} requests after the first 429 were served (${[...new Set(after)].join(', ')})`);
    if (!retryAfter) problems.push('the 429 answers carry no Retry-After header');
  }
  const before = statuses.slice(0, Math.min(opts.limit, firstIndex === -1 ? statuses.length : firstIndex));
  const serverErrors = before.filter((s) => s >= 500).length;
  if (serverErrors > 0) problems.push(`${serverErrors} requests before the limit answered 5xx`);
  return { statuses, first429, problems };
}

export const rateLimitCommand: CommandSpec = {
  usage: 'pnpm ops:rate-limit-check [--base-url URL] [--limit 100] [--requests 110]',
  description:
    'Sends anonymous POST /api/generate requests and checks the general rate limit: the first --limit are served\n' +
    '(401 without a token), every later one is 429 with Retry-After.',
  options: [
    { name: 'base-url', env: 'BASE_URL', default: 'http://127.0.0.1:3000', help: 'the api origin' },
    { name: 'limit', env: 'RATE_LIMIT_MAX', default: '100', help: "the api's RATE_LIMIT_MAX" },
    { name: 'requests', default: '110', help: 'requests to send (more than --limit)' },
    { name: 'path', default: '/api/generate', help: 'the endpoint to call' },
    { name: 'origin', help: 'Origin header to send' },
  ],
  epilogue: 'Exit codes: 0 the limit holds as expected, 1 it does not (each problem printed), 2 bad usage.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(rateLimitCommand);
    const report = await checkRateLimit({
      base: values['base-url']!,
      requests: numberOption(values, 'requests'),
      limit: numberOption(values, 'limit'),
      path: values.path!,
      ...(values.origin ? { origin: values.origin } : {}),
    });
    const counts = new Map<number, number>();
    for (const s of report.statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
    process.stdout.write(
      `rate-limit: ${report.statuses.length} requests: ${[...counts].map(([s, n]) => `${n}× ${s}`).join(', ')}; ` +
        `first 429 at request ${report.first429 ?? 'none'}\n`,
    );
    for (const p of report.problems) process.stdout.write(`  ✗ ${p}\n`);
    process.stdout.write(report.problems.length === 0 ? 'rate-limit: ok\n' : 'rate-limit: FAILED\n');
    return report.problems.length === 0 ? 0 : 1;
  });
}
