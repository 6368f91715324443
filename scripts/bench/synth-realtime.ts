/**
 * Benchmark of the local synth (packages/worker/src/synth/bench.ts): how many times faster than real time it renders
 * a 30 s song on one core, over a spread of prompts. Each sample is one render; the headline is the median
 * realtime factor. Goal: ≥ 100× (a 30 s song in ≤ 0.3 s).
 */
import { singleVariantResult, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'synth renders ≥ 100× faster than real time', comparator: '>=', target: 100 };

export const synthRealtime: Benchmark = {
  name: 'synth-realtime',
  description: '× realtime: local synth render of a 30 s song on one core, five genres',
  async run(ctx) {
    const { measureRealtimeFactor } = await import('@dawg/worker/synth/bench');
    const result = measureRealtimeFactor({ durationSec: 30, rounds: ctx.rounds });
    const factors = result.samplesMs.map((ms) => (result.durationSec * 1000) / ms);
    ctx.log(`${factors.length} renders, median ${result.medianMs.toFixed(0)} ms; cold ${result.coldMs.toFixed(0)} ms`);
    return singleVariantResult({
      name: this.name,
      description: this.description,
      unit: '× realtime',
      rounds: ctx.rounds,
      goal: GOAL,
      samples: factors,
      settings: { songSeconds: result.durationSec, rendersPerPrompt: ctx.rounds, coldMs: Math.round(result.coldMs) },
    });
  },
};
