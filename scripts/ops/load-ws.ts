/**
 * WebSocket load and latency test (seed pre-deployment 7.2 and post-deploy 6.3) on the main socket at `/`, which
 * answers `{"type":"ping"}` with `{"type":"pong"}`: opens C connections at once, sends P pings on each (one at a
 * time), and reports connect time and round trip (avg / p95) and failures, exiting 1 above the seed's expectations
 * (connect < 200 ms, round trip < 100 ms, nothing failed).
 *
 * The api admits at most 10 sockets per client IP (seed hardening 5.1): to open more from one machine, spread the
 * connections over several local source addresses (`--local-addresses 127.0.0.2,127.0.0.3` against a loopback api).
 *
 *   pnpm ops:load-ws --base-url http://127.0.0.1:3000 --connections 10 --pings 20
 */
import { WebSocket } from 'ws';
import { type CommandSpec, isMain, numberOption, parseArgs, run } from './cli';
import { percentile } from './load-http';

export const WS_THRESHOLDS = { connectP95Ms: 200, roundTripP95Ms: 100 } as const;

export interface WsReport {
  connections: number;
  opened: number;
  failed: number;
  pings: number;
  pongs: number;
  connectAvgMs: number;
  connectP95Ms: number;
  roundTripAvgMs: number;
  roundTripP95Ms: number;
  errors: string[];
  withinThresholds: boolean;
}

const round = (n: number) => Math.round(n * 10) / 10;
const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

function oneConnection(opts: {
  url: string;
  pings: number;
  timeoutMs: number;
  origin?: string;
  localAddress?: string;
}): Promise<{ connectMs: number; roundTrips: number[] }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ws = new WebSocket(opts.url, {
      ...(opts.origin ? { origin: opts.origin } : {}),
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      handshakeTimeout: opts.timeoutMs,
    });
    const roundTrips: number[] = [];
    let connectMs = 0;
    let sentAt = 0;
    let timer: NodeJS.Timeout | undefined;
    const fail = (message: string) => {
      clearTimeout(timer);
      ws.terminate();
      reject(new Error(message));
    };
    const ping = () => {
      sentAt = performance.now();
      timer = setTimeout(() => fail(`no pong within ${opts.timeoutMs} ms`), opts.timeoutMs);
      ws.send('{"type":"ping"}');
    };
    ws.once('open', () => {
      connectMs = performance.now() - started;
      if (opts.pings === 0) {
        ws.close();
        return;
      }
      ping();
    });
    ws.on('message', (data) => {
      clearTimeout(timer);
      if (String(data) !== '{"type":"pong"}') return fail(`unexpected message ${String(data).slice(0, 100)}`);
      roundTrips.push(performance.now() - sentAt);
      if (roundTrips.length < opts.pings) ping();
      else ws.close();
    });
    ws.once('unexpected-response', (_req, res) => fail(`upgrade refused with ${res.statusCode}`));
    ws.once('error', (err) => fail(err.message));
    ws.once('close', () => {
      clearTimeout(timer);
      resolve({ connectMs, roundTrips });
    });
  });
}

export async function loadWebSocket(opts: {
  base: string;
  connections: number;
  pings: number;
  timeoutMs: number;
  origin?: string;
  localAddresses?: string[];
}): Promise<WsReport> {
  const url = `${opts.base.replace(/^http/, 'ws').replace(/\/+$/, '')}/`;
  const results = await Promise.allSettled(
    Array.from({ length: opts.connections }, (_, i) =>
      oneConnection({
        url,
        pings: opts.pings,
        timeoutMs: opts.timeoutMs,
        ...(opts.origin ? { origin: opts.origin } : {}),
        ...(opts.localAddresses?.length ? { localAddress: opts.localAddresses[i % opts.localAddresses.length] } : {}),
      }),
    ),
  );
  const ok = results.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const errors = results.filter((r) => r.status === 'rejected').map((r) => String((r.reason as Error).message));
  const connects = ok.map((r) => r.connectMs).sort((a, b) => a - b);
  const trips = ok.flatMap((r) => r.roundTrips).sort((a, b) => a - b);
  const report: Omit<WsReport, 'withinThresholds'> = {
    connections: opts.connections,
    opened: ok.length,
    failed: errors.length,
    pings: opts.connections * opts.pings,
    pongs: trips.length,
    connectAvgMs: round(avg(connects)),
    connectP95Ms: round(percentile(connects, 95)),
    roundTripAvgMs: round(avg(trips)),
    roundTripP95Ms: round(percentile(trips, 95)),
    errors: [...new Set(errors)].slice(0, 5),
  };
  return {
    ...report,
    withinThresholds:
      report.failed === 0 &&
      report.pongs === report.pings &&
      report.connectP95Ms <= WS_THRESHOLDS.connectP95Ms &&
      report.roundTripP95Ms <= WS_THRESHOLDS.roundTripP95Ms,
  };
}

export const loadWsCommand: CommandSpec = {
  usage: 'pnpm ops:load-ws [--base-url URL] [options]',
  description:
    'WebSocket load and latency test on the main socket (ping/pong): connect time and round trip, avg and p95.\n' +
    `Thresholds: connect p95 ≤ ${WS_THRESHOLDS.connectP95Ms} ms, round trip p95 ≤ ${WS_THRESHOLDS.roundTripP95Ms} ms, ` +
    'no failed connection or lost pong. The api admits 10 sockets per client IP.',
  options: [
    { name: 'base-url', env: 'BASE_URL', default: 'http://127.0.0.1:3000', help: 'the api origin' },
    { name: 'connections', default: '10', help: 'sockets opened at once' },
    { name: 'pings', default: '20', help: 'pings per socket, one at a time' },
    { name: 'timeout', default: '10', help: 'seconds to wait for an upgrade or a pong' },
    { name: 'origin', help: 'Origin header (must be one of CORS_ORIGINS when sent)' },
    { name: 'local-addresses', help: 'comma-separated source addresses to spread sockets over' },
    { name: 'json', flag: true, help: 'print the report as JSON' },
  ],
  epilogue: 'Exit codes: 0 within thresholds, 1 above them or sockets failed, 2 bad usage.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(loadWsCommand);
    const report = await loadWebSocket({
      base: values['base-url']!,
      connections: numberOption(values, 'connections'),
      pings: numberOption(values, 'pings'),
      timeoutMs: numberOption(values, 'timeout') * 1000,
      ...(values.origin ? { origin: values.origin } : {}),
      ...(values['local-addresses']
        ? { localAddresses: values['local-addresses'].split(',').map((s) => s.trim()) }
        : {}),
    });
    process.stdout.write(
      `${report.withinThresholds ? '✓' : '✗'} websocket connections=${report.connections} opened=${report.opened} ` +
        `failed=${report.failed} connect avg=${report.connectAvgMs}ms p95=${report.connectP95Ms}ms ` +
        `round-trip avg=${report.roundTripAvgMs}ms p95=${report.roundTripP95Ms}ms pongs=${report.pongs}/${report.pings}\n`,
    );
    for (const e of report.errors) process.stdout.write(`  error: ${e}\n`);
    if (values.json === 'true') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return report.withinThresholds ? 0 : 1;
  });
}
