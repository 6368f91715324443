/**
 * HTTP load test in the shape of the seed's pre-deployment 7.2 (10,000 requests; expected avg ≈ 150 ms, p95 ≈ 300 ms,
 * 0 % failed) with autocannon: a fixed number of requests at a fixed number of connections against `/health` and an
 * authenticated list procedure (tRPC `project.list`), printing avg / p95 / failed per target and exiting 1 when a
 * target is above the thresholds below. The api must exempt the load source from rate limits (WHITELISTED_IPS):
 * otherwise the limiter is what gets measured, and the script says so.
 *
 *   pnpm ops:load-http --base-url http://127.0.0.1:3000
 *   pnpm ops:load-http --amount 2000 --connections 50 --targets health
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { type CommandSpec, isMain, numberOption, parseArgs, run, UsageError } from './cli';

/** The seed's expectations (7.2); a target above any of them fails the run. */
export const LOAD_THRESHOLDS = { avgMs: 150, p95Ms: 300, failedRate: 0 } as const;

export const LOAD_TARGETS = ['health', 'list'] as const;
export type LoadTarget = (typeof LOAD_TARGETS)[number];

export interface TargetReport {
  target: LoadTarget;
  path: string;
  requests: number;
  avgMs: number;
  p95Ms: number;
  maxMs: number;
  /** Non-2xx answers plus connection errors and timeouts. */
  failed: number;
  failedRate: number;
  rateLimited: number;
  requestsPerSecond: number;
  withinThresholds: boolean;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

async function json(res: Response): Promise<any> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A session token: the one given, else a fresh account registered for the run. */
async function sessionToken(base: string, opts: { token?: string; origin?: string }): Promise<string> {
  if (opts.token) return opts.token;
  const email = `load-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}@example.com`;
  const res = await fetch(`${base}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(opts.origin ? { origin: opts.origin } : {}) },
    body: JSON.stringify({ email, password: `Load-${randomBytes(9).toString('base64url')}-Pass`, name: 'Load Test' }),
  });
  const body = await json(res);
  if (res.status !== 201 || typeof body?.token !== 'string') {
    throw new Error(`could not register a load-test account: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
  }
  return body.token as string;
}

export async function loadTarget(opts: {
  base: string;
  target: LoadTarget;
  amount: number;
  connections: number;
  token?: string;
  origin?: string;
}): Promise<TargetReport> {
  const path = opts.target === 'health' ? '/health' : '/trpc/project.list';
  const headers: Record<string, string> = {
    ...(opts.origin ? { origin: opts.origin } : {}),
    ...(opts.target === 'list' ? { authorization: `Bearer ${opts.token}` } : {}),
  };
  const times: number[] = [];
  let rateLimited = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${opts.base}${path}`,
        amount: opts.amount,
        connections: opts.connections,
        pipelining: 1,
        timeout: 30,
        headers,
      },
      (err, res) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      times.push(responseTime);
      if (statusCode === 429) rateLimited += 1;
    });
  });
  times.sort((a, b) => a - b);
  const failed = result.non2xx + result.errors + result.timeouts;
  const requests = result.requests.total;
  const avgMs = times.length ? times.reduce((a, b) => a + b, 0) / times.length : 0;
  const p95Ms = percentile(times, 95);
  const failedRate = requests ? failed / requests : 1;
  return {
    target: opts.target,
    path,
    requests,
    avgMs: Math.round(avgMs * 10) / 10,
    p95Ms: Math.round(p95Ms * 10) / 10,
    maxMs: Math.round((times.at(-1) ?? 0) * 10) / 10,
    failed,
    failedRate,
    rateLimited,
    requestsPerSecond: Math.round(result.requests.average),
    withinThresholds:
      avgMs <= LOAD_THRESHOLDS.avgMs && p95Ms <= LOAD_THRESHOLDS.p95Ms && failedRate <= LOAD_THRESHOLDS.failedRate,
  };
}

export function formatReport(r: TargetReport): string {
  const mark = r.withinThresholds ? '✓' : '✗';
  return (
    `${mark} ${r.target.padEnd(7)} ${r.path.padEnd(20)} requests=${r.requests} avg=${r.avgMs}ms p95=${r.p95Ms}ms ` +
    `max=${r.maxMs}ms failed=${r.failed} (${(r.failedRate * 100).toFixed(2)}%) rps=${r.requestsPerSecond}`
  );
}

export const loadHttpCommand: CommandSpec = {
  usage: 'pnpm ops:load-http [--base-url URL] [options]',
  description:
    'HTTP load test (seed 7.2): N requests at C connections on /health and on tRPC project.list (authenticated),\n' +
    `printing avg / p95 / failed. Thresholds: avg ≤ ${LOAD_THRESHOLDS.avgMs} ms, p95 ≤ ${LOAD_THRESHOLDS.p95Ms} ms, ` +
    `${LOAD_THRESHOLDS.failedRate * 100} % failed.\nAdd the load source's IP to the api's WHITELISTED_IPS first.`,
  options: [
    { name: 'base-url', env: 'BASE_URL', default: 'http://127.0.0.1:3000', help: 'the api origin' },
    { name: 'amount', default: '10000', help: 'requests per target' },
    { name: 'connections', default: '100', help: 'concurrent connections' },
    { name: 'targets', default: LOAD_TARGETS.join(','), help: `comma-separated targets (${LOAD_TARGETS.join(', ')})` },
    { name: 'token', env: 'LOAD_TOKEN', help: 'session token for the list target (default: register an account)' },
    { name: 'origin', help: 'Origin header to send' },
    { name: 'json', flag: true, help: 'print the reports as JSON' },
  ],
  epilogue: 'Exit codes: 0 every target within thresholds, 1 a target above them (or the run failed), 2 bad usage.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(loadHttpCommand);
    const base = values['base-url']!.replace(/\/+$/, '');
    const targets = values.targets!.split(',').map((t) => t.trim()) as LoadTarget[];
    for (const t of targets) if (!LOAD_TARGETS.includes(t)) throw new UsageError(`--targets: unknown target "${t}"`);
    const amount = numberOption(values, 'amount');
    const connections = numberOption(values, 'connections');
    const origin = values.origin;
    const token = targets.includes('list')
      ? await sessionToken(base, { ...(values.token ? { token: values.token } : {}), ...(origin ? { origin } : {}) })
      : undefined;
    const reports: TargetReport[] = [];
    for (const target of targets) {
      const report = await loadTarget({
        base,
        target,
        amount,
        connections,
        ...(token ? { token } : {}),
        ...(origin ? { origin } : {}),
      });
      reports.push(report);
      process.stdout.write(`${formatReport(report)}\n`);
      if (report.rateLimited > 0) {
        process.stdout.write(
          `  ${report.rateLimited} answers were 429: the rate limiter is being measured; add this IP to WHITELISTED_IPS\n`,
        );
      }
    }
    if (values.json === 'true') process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
    const ok = reports.every((r) => r.withinThresholds);
    process.stdout.write(ok ? 'load: within thresholds\n' : 'load: above thresholds\n');
    return ok ? 0 : 1;
  });
}
