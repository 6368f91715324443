import { describe, expect, it } from 'vitest';
import { formatReport } from '../bench/index';
import { parseSoakArgs } from './index';
import { metricValue, tcpPeers } from './probe';
import {
  formatSoakSection,
  leaksOf,
  rssGrowth,
  soakPassed,
  type ProcessSoak,
  type QuietCounts,
  type RssSample,
  type SoakResult,
} from './report';

const MIN = 60_000;

/** One sample every 5 s over `minutes`, valued by `mb(atMs)`. */
function series(minutes: number, mb: (atMs: number) => number): RssSample[] {
  const out: RssSample[] = [];
  for (let at = 0; at <= minutes * MIN; at += 5_000) out.push({ atMs: at, mb: mb(at) });
  return out;
}

const quiet = (over: Partial<QuietCounts> = {}): QuietCounts => ({
  sockets: 10,
  timers: 2,
  handles: 12,
  listenerWarnings: 0,
  ...over,
});

function proc(name: string, samples: RssSample[], end: QuietCounts = quiet()): ProcessSoak {
  const baseline = quiet();
  return {
    name,
    pid: 1,
    rss: rssGrowth(samples, 10 * MIN),
    rssSamples: samples,
    baseline,
    end,
    leaks: leaksOf(baseline, end),
  };
}

describe('soak RSS growth', () => {
  it('compares the median of the last 10 % with the median of the plateau after the 20 % warm-up', () => {
    // Warm-up climbs to 200 MB; then flat at 200 until minute 9, then 215 (7.5 %).
    const samples = series(10, (at) => (at < 2 * MIN ? 100 + (at / (2 * MIN)) * 100 : at < 9 * MIN ? 200 : 215));
    const g = rssGrowth(samples, 10 * MIN);
    expect(g.plateauWindowMs).toEqual([2 * MIN, 3 * MIN]);
    expect(g.endWindowMs[0]).toBe(9 * MIN);
    expect(g.plateauMb).toBe(200);
    expect(g.endMb).toBe(215);
    expect(g.growthPercent).toBeCloseTo(7.5, 5);
    expect(g.plateauSamples).toBe(12);
  });

  it('ignores a single GC spike in either window (medians), but not a steady climb', () => {
    const spiky = series(10, (at) => (at === 9.5 * MIN || at === 2.5 * MIN ? 400 : 200));
    expect(rssGrowth(spiky, 10 * MIN).growthPercent).toBe(0);
    const leaking = series(10, (at) => 200 + (at / MIN) * 5);
    // plateau median ≈ 212.5 (minute 2.5), end median ≈ 247.5 (minute 9.5): 16.5 %
    expect(rssGrowth(leaking, 10 * MIN).growthPercent).toBeGreaterThan(10);
  });

  it('refuses to judge without samples in a window', () => {
    expect(() => rssGrowth([{ atMs: 0, mb: 1 }], 10 * MIN)).toThrow(/too few RSS samples/);
  });
});

describe('soak leaks and verdict', () => {
  it('counts only what grew between the quiet states', () => {
    expect(leaksOf(quiet(), quiet({ sockets: 9, timers: 2 }))).toEqual({});
    expect(leaksOf(quiet(), quiet({ sockets: 13, listenerWarnings: 1 }))).toEqual({ sockets: 3, listenerWarnings: 1 });
  });

  it('passes only with growth ≤ 10 %, no leak and no failed operation', () => {
    const flat = series(10, () => 200);
    const ok = { reads: { ok: 5, failed: 0, errors: [] } };
    expect(soakPassed([proc('api', flat), proc('worker', flat)], ok)).toBe(true);
    expect(soakPassed([proc('api', flat, quiet({ timers: 3 }))], ok)).toBe(false);
    expect(
      soakPassed(
        [
          proc(
            'api',
            series(10, (at) => (at >= 9 * MIN ? 221 : 200)),
          ),
        ],
        ok,
      ),
    ).toBe(false);
    expect(soakPassed([proc('api', flat)], { reads: { ok: 5, failed: 1, errors: ['boom'] } })).toBe(false);
  });
});

describe('soak section of docs/benchmarks.md', () => {
  const soak: SoakResult = {
    date: '2026-12-07T02:00:00.000Z',
    minutes: 10,
    durationMs: 10 * MIN,
    processes: [
      proc(
        'api',
        series(10, () => 200),
      ),
      proc(
        'worker',
        series(10, (at) => (at >= 9 * MIN ? 250 : 200)),
        quiet({ sockets: 11 }),
      ),
    ],
    operations: {
      reads: { ok: 120, failed: 0, errors: [] },
      chat: { ok: 30, failed: 2, errors: ['POST /api/chat answered 500'] },
    },
    passed: false,
    settings: {},
  };

  it('shows per process the plateau, end, growth, counts and verdict, then the operations', () => {
    const md = formatSoakSection(soak);
    expect(md).toContain('## Soak');
    expect(md).toContain('10 minutes of mixed load');
    expect(md).toContain('**failed**');
    expect(md).toContain('| api | 200.0 MB | 200.0 MB | 0.0 % | 10 → 10 | 2 → 2 | 12 → 12 | 0 → 0 | passed |');
    expect(md).toContain('| worker | 200.0 MB | 250.0 MB | 25.0 % | 10 → 11 |');
    expect(md).toContain('Windows: plateau 2 min–3 min, end 9 min–10 min.');
    expect(md).toContain('| chat | 30 | 2 |');
    expect(md).toContain('- chat: POST /api/chat answered 500');
  });

  it('is part of the benchmark report when a soak result exists, and absent otherwise', () => {
    const report = {
      machine: {
        cpus: 2,
        cpuModel: 'AMD EPYC',
        memoryBytes: 8 * 2 ** 30,
        freeMemoryBytes: 0,
        loadAverage: [1, 1, 1],
        node: 'v20.20.2',
        platform: 'linux',
        date: '2026-12-07T01:00:00.000Z',
      },
      benchmarks: [],
    };
    expect(formatReport(report)).not.toContain('## Soak');
    const md = formatReport(report, soak);
    expect(md.indexOf('## Soak')).toBeGreaterThan(md.indexOf('## Results'));
    expect(md.endsWith('Samples and settings are in `bench/soak.json`.\n')).toBe(true);
  });
});

describe('soak arguments and probes', () => {
  it('parses --minutes and refuses runs too short to judge', () => {
    expect(parseSoakArgs([], '/r')).toMatchObject({
      minutes: 10,
      out: '/r/bench/soak.json',
      report: '/r/docs/benchmarks.md',
    });
    expect(parseSoakArgs(['--minutes', '2'], '/r').minutes).toBe(2);
    expect(() => parseSoakArgs(['--minutes', '0'], '/r')).toThrow(/--minutes must be a positive number/);
    expect(() => parseSoakArgs(['--minutes', '0.5'], '/r')).toThrow(/too short/);
    expect(() => parseSoakArgs(['--bogus'], '/r')).toThrow(/unknown argument --bogus/);
  });

  it('reads labelled and plain samples from a Prometheus exposition', () => {
    const text = [
      '# HELP nodejs_active_resources x',
      'nodejs_active_resources{type="TCPSocketWrap"} 7',
      'nodejs_active_resources{type="Timeout"} 3',
      'nodejs_active_handles_total 12',
    ].join('\n');
    expect(metricValue(text, 'nodejs_active_resources', { type: 'Timeout' })).toBe(3);
    expect(metricValue(text, 'nodejs_active_resources', { type: 'Immediate' })).toBe(0);
    expect(metricValue(text, 'nodejs_active_handles_total')).toBe(12);
    expect(() => metricValue(text, 'nope')).toThrow(/not in the exposition/);
  });

  it('maps socket inodes of /proc/<pid>/net/tcp to their peer', () => {
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:9C4D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0 100 0 0 10 0',
      '   1: 0100007F:D2A0 0100007F:1538 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0 20 4 30 10 -1',
    ].join('\n');
    const peers = tcpPeers(table);
    expect(peers.get('111')).toBe('listen :40013');
    expect(peers.get('222')).toBe(':5432');
  });
});
