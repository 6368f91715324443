import { describe, expect, it } from 'vitest';
import { formatReport, parseBenchArgs } from './index';
import type { BenchResult } from './types';

const result = (over: Partial<BenchResult>): BenchResult => ({
  name: 'x',
  description: 'ms: something | measured',
  unit: 'ms',
  rounds: 5,
  median: 12.345,
  p25: 11,
  p75: 13,
  iqr: 2,
  goal: { description: 'x ≤ 20 ms', comparator: '<=', target: 20 },
  met: true,
  variants: { a: { unit: 'ms', samples: [1], n: 1, median: 1, p25: 1, p75: 1, iqr: 0, min: 1, max: 1 } },
  settings: {},
  ...over,
});

describe('bench report', () => {
  it('writes docs/benchmarks.md only for a full run, unless told where', () => {
    expect(parseBenchArgs([], '/r').report).toBe('/r/docs/benchmarks.md');
    expect(parseBenchArgs(['--filter', 'synth'], '/r').report).toBeNull();
    expect(parseBenchArgs(['--quick'], '/r').report).toBeNull();
    expect(parseBenchArgs(['--filter', 'synth', '--report', '/tmp/b.md'], '/r').report).toBe('/tmp/b.md');
  });

  it('lists every goal with met or missed, the spread and the machine', () => {
    const md = formatReport({
      machine: {
        cpus: 2,
        cpuModel: 'AMD EPYC',
        memoryBytes: 24 * 2 ** 30,
        freeMemoryBytes: 0,
        loadAverage: [1, 2, 3],
        node: 'v20.20.2',
        platform: 'linux',
        date: '2026-11-25T20:00:00.000Z',
      },
      benchmarks: [result({ name: 'fast' }), result({ name: 'slow', met: false, median: 40 })],
    });
    expect(md).toContain('1 of 2 goals met');
    expect(md).toContain('| fast | ms: something \\| measured | 12.3 ms | 11.0–13.0 | x ≤ 20 ms | met |');
    expect(md).toContain('| slow |');
    expect(md).toContain('**missed**');
    expect(md).toContain('2 × AMD EPYC, 24 GiB');
    expect(md).toContain('- **fast**: a 1.00 ms');
  });
});
