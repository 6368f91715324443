/**
 * Benchmark of the realtime voice relay (packages/api/src/bench/voice-relay.ts): the latency `/voice` adds to one
 * 20 ms PCM16 frame, each way (browser → upstream and upstream → browser), against a direct connection from the same
 * process to the same local Realtime server (TLS), measured in the same run and interleaved. Headline per round:
 * median relayed latency − median direct latency. Goal: median ≤ 5 ms each way. Needs Postgres and Redis.
 */
import { summarize } from './stats';
import { judge, type BenchResult, type Benchmark, type Goal } from './types';

const goal = (way: string): Goal => ({
  description: `added latency per audio frame ${way}, median ≤ 5 ms`,
  comparator: '<=',
  target: 5,
});

export const voiceRelay: Benchmark = {
  name: 'voice-relay',
  description: 'ms added per audio frame by the /voice relay, each way, minus a direct connection (baseline)',
  async run(ctx) {
    const { run } = await import('@dawg/api/bench/voice-relay');
    const frames = ctx.quick ? 20 : 50;
    const result = await run({ rounds: ctx.rounds, frames });
    const ways = [
      { key: 'up', way: 'browser → upstream', relay: result.relayUp, direct: result.directUp },
      { key: 'down', way: 'upstream → browser', relay: result.relayDown, direct: result.directDown },
    ];
    return ways.map(({ key, way, relay, direct }): BenchResult => {
      const added = relay.map((r, i) => r - direct[i]!);
      added.forEach((a, i) =>
        ctx.log(
          `${key} round ${i + 1}: relayed ${relay[i]!.toFixed(3)} ms, direct ${direct[i]!.toFixed(3)} ms → added ${a.toFixed(3)} ms`,
        ),
      );
      const headline = summarize(added);
      const g = goal(way);
      return {
        name: `voice-relay-${key}`,
        description: `ms added per audio frame ${way} by the /voice relay, minus a direct connection (baseline)`,
        unit: 'ms',
        rounds: ctx.rounds,
        median: headline.median,
        p25: headline.p25,
        p75: headline.p75,
        iqr: headline.iqr,
        goal: g,
        met: judge(g, headline.median),
        variants: {
          [`relayed ${way}`]: { unit: 'ms', samples: relay, ...summarize(relay) },
          [`direct ${way} (baseline)`]: { unit: 'ms', samples: direct, ...summarize(direct) },
        },
        settings: { framesPerRound: frames, frameBytes: 960, frame: '20 ms PCM16 24 kHz', upstream: 'local Realtime server (TLS)' },
      };
    });
  },
};
