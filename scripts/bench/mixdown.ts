/**
 * Benchmark of the mixdown render (packages/worker/src/bench/mixdown.ts): an 8-lane, 3-minute project (eight distinct
 * 3-minute WAV tracks, pans, faders, fades) decoded, mixed and encoded to WAV + MP3 + peaks as the `mixdown` job does.
 * Each sample is one full render; the headline is the realtime factor (project length ÷ render time). Goal: ≥ 20×.
 */
import { singleVariantResult, type Benchmark, type Goal } from './types';

const GOAL: Goal = { description: 'a 3-minute, 8-lane mixdown renders ≥ 20× faster than real time', comparator: '>=', target: 20 };

export const mixdownRealtime: Benchmark = {
  name: 'mixdown-realtime',
  description: '× realtime: mixdown of a 3-minute, 8-lane project (decode, mix, WAV + MP3 + peaks)',
  async run(ctx) {
    const { prepareMixdownBench, runMixdownOnce } = await import('@dawg/worker/bench/mixdown');
    const seconds = ctx.quick ? 30 : 180;
    const project = await prepareMixdownBench(seconds, 8);
    try {
      const coldMs = await runMixdownOnce(project);
      const factors: number[] = [];
      for (let i = 0; i < ctx.rounds; i++) factors.push((seconds * 1000) / (await runMixdownOnce(project)));
      ctx.log(`${factors.length} renders of ${seconds} s × 8 lanes; cold ${coldMs.toFixed(0)} ms`);
      return singleVariantResult({
        name: this.name,
        description: this.description,
        unit: '× realtime',
        rounds: ctx.rounds,
        goal: GOAL,
        samples: factors,
        settings: { projectSeconds: seconds, lanes: 8, sampleRate: 48_000, coldMs: Math.round(coldMs) },
      });
    } finally {
      await project.close();
    }
  },
};
