/**
 * Benchmark of the studio timeline in Chromium (packages/web/e2e/timeline-perf.ts): a project with 200 clips on 8
 * lanes is opened, scrolled and zoomed while a PerformanceObserver records long tasks. Each round is one run of that
 * script in its own process (it starts its own stack and serves a production build). The headline is the longest
 * long task of the round (0 when none was over 50 ms). Goal: no long task over 50 ms.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { singleVariantResult, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'no long task over 50 ms while scrolling 200 clips', comparator: '<=', target: 50 };

interface TimelinePerfResult {
  maxLongTaskMs: number;
  maxFrameGapMs: number;
  totalBlockingMs: number;
  frames: number;
}

function runOnce(repoRoot: string): Promise<TimelinePerfResult> {
  return new Promise((resolve, reject) => {
    const script = path.join(repoRoot, 'packages/web/e2e/timeline-perf.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`timeline-perf exited ${code}:\n${err.slice(-3000)}`));
      try {
        resolve(JSON.parse(out) as TimelinePerfResult);
      } catch (e) {
        reject(new Error(`timeline-perf printed no result: ${String(e)}\n${out.slice(-1000)}`));
      }
    });
  });
}

export const timelineLongTasks: Benchmark = {
  name: 'timeline-long-tasks',
  description: 'ms: longest main-thread task while scrolling/zooming a 200-clip project in Chromium',
  async run(ctx) {
    const samples: number[] = [];
    const gaps: number[] = [];
    for (let round = 0; round < ctx.rounds; round++) {
      const r = await runOnce(ctx.repoRoot);
      samples.push(r.maxLongTaskMs);
      gaps.push(r.maxFrameGapMs);
      ctx.log(`round ${round + 1}: longest task ${r.maxLongTaskMs} ms, longest frame gap ${r.maxFrameGapMs} ms`);
    }
    return singleVariantResult({
      name: this.name,
      description: this.description,
      unit: 'ms',
      rounds: ctx.rounds,
      goal: GOAL,
      samples,
      settings: { clips: 200, lanes: 8, worstFrameGapMs: Math.max(...gaps) },
    });
  },
};
