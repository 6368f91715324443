import { describe, expect, it } from 'vitest';
import { applyArrangementOps, sortArrangement, type Arrangement, type ArrangementTrack } from './arrangement';
import { LIMITS } from './constants';
import { isAppError } from './errors';
import { arrangementOpSchema, type ArrangementOp } from './studio';

const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const FOREIGN = '33333333-3333-4333-8333-333333333333';

const tracks = new Map<string, ArrangementTrack>([
  [T1, { durationSec: 30, usable: true }],
  [T2, { durationSec: 12.5, usable: true }],
  [FOREIGN, { durationSec: 20, usable: false }],
]);

/** Deterministic ids and randomness, so a failure reproduces. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let n = 0;
  const newId = () => {
    n += 1;
    return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  };
  return { next, newId, pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

const empty: Arrangement = { lanes: [], clips: [] };

function run(state: Arrangement, ops: ArrangementOp[], newId?: () => string) {
  return applyArrangementOps(
    state,
    ops.map((op) => arrangementOpSchema.parse(op)),
    {
      tracks,
      ...(newId ? { newId } : {}),
    },
  );
}

function failure(fn: () => unknown): { path: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    if (isAppError(err) && err.code === 'BAD_REQUEST') return err.details![0]!;
    throw err;
  }
  throw new Error('expected a BAD_REQUEST');
}

function randomOp(state: Arrangement, r: ReturnType<typeof rng>): ArrangementOp {
  const lane = () => (state.lanes.length > 0 ? r.pick(state.lanes).id : r.newId());
  const clip = () => (state.clips.length > 0 ? r.pick(state.clips).id : r.newId());
  const sec = (max: number) => Math.round(r.next() * max * 1000) / 1000;
  switch (
    r.pick([
      'addLane',
      'addLane',
      'updateLane',
      'removeLane',
      'moveLane',
      'addClip',
      'addClip',
      'addClip',
      'updateClip',
      'updateClip',
      'removeClip',
    ] as const)
  ) {
    case 'addLane':
      return r.next() < 0.5
        ? { type: 'addLane', lane: { name: `L${state.lanes.length}` } }
        : {
            type: 'addLane',
            lane: {
              name: 'Pos',
              position: Math.min(Math.floor(r.next() * (state.lanes.length + 1)), LIMITS.LANES_PER_PROJECT - 1),
              mute: true,
            },
          };
    case 'updateLane':
      return { type: 'updateLane', laneId: lane(), gainDb: sec(20) - 10, pan: r.next() * 2 - 1, solo: r.next() < 0.5 };
    case 'removeLane':
      return { type: 'removeLane', laneId: lane() };
    case 'moveLane':
      return { type: 'moveLane', laneId: lane(), position: Math.floor(r.next() * Math.max(state.lanes.length, 1)) };
    case 'addClip':
      return {
        type: 'addClip',
        clip: { laneId: lane(), trackId: r.pick([T1, T2]), startSec: sec(120), offsetSec: sec(10), fadeInSec: sec(1) },
      };
    case 'updateClip':
      return { type: 'updateClip', clipId: clip(), startSec: sec(120), lengthSec: sec(8) + 0.01, laneId: lane() };
    case 'removeClip':
      return { type: 'removeClip', clipId: clip() };
  }
}

describe('arrangement engine', () => {
  it('adds lanes in order with contiguous positions, resolving every default in the forward ops', () => {
    const r = rng(1);
    const a = run(
      empty,
      [
        { type: 'addLane', lane: { name: 'Drums' } },
        { type: 'addLane', lane: { name: 'Bass' } },
      ],
      r.newId,
    );
    const b = run(a.state, [{ type: 'addLane', lane: { name: 'Keys', position: 0 } }], r.newId);
    expect(b.state.lanes.map((l) => [l.name, l.position])).toEqual([
      ['Keys', 0],
      ['Drums', 1],
      ['Bass', 2],
    ]);
    expect(a.forward[0]).toEqual({
      type: 'addLane',
      lane: {
        id: a.state.lanes[0]!.id,
        name: 'Drums',
        color: '#f97316',
        gainDb: 0,
        pan: 0,
        mute: false,
        solo: false,
        position: 0,
      },
    });
  });

  it('places a clip for the rest of its track by default and checks it against the track', () => {
    const r = rng(2);
    const { state } = run(empty, [{ type: 'addLane', lane: { name: 'A' } }], r.newId);
    const laneId = state.lanes[0]!.id;
    const added = run(
      state,
      [{ type: 'addClip', clip: { laneId, trackId: T2, startSec: 4, offsetSec: 2.5 } }],
      r.newId,
    );
    expect(added.state.clips[0]).toMatchObject({ startSec: 4, offsetSec: 2.5, lengthSec: 10, fadeInSec: 0 });

    expect(
      failure(() =>
        run(state, [{ type: 'addClip', clip: { laneId, trackId: T2, startSec: 0, offsetSec: 3, lengthSec: 10 } }]),
      ),
    ).toMatchObject({ path: ['ops', 0, 'clip', 'lengthSec'] });
    expect(
      failure(() => run(state, [{ type: 'addClip', clip: { laneId, trackId: T2, startSec: 0, offsetSec: 12.5 } }])),
    ).toMatchObject({ path: ['ops', 0, 'clip', 'offsetSec'] });
    expect(
      failure(() => run(state, [{ type: 'addClip', clip: { laneId, trackId: FOREIGN, startSec: 0 } }])),
    ).toMatchObject({ path: ['ops', 0, 'clip', 'trackId'] });
    expect(
      failure(() =>
        run(state, [
          { type: 'addClip', clip: { laneId, trackId: T1, startSec: 0, lengthSec: 2, fadeInSec: 1.5, fadeOutSec: 1 } },
        ]),
      ),
    ).toMatchObject({ path: ['ops', 0, 'clip', 'fadeOutSec'] });
    const otherLane = '44444444-4444-4444-8444-444444444444';
    expect(
      failure(() => run(state, [{ type: 'addClip', clip: { laneId: otherLane, trackId: T1, startSec: 0 } }])),
    ).toMatchObject({ path: ['ops', 0, 'clip', 'laneId'] });
    const clipId = added.state.clips[0]!.id;
    expect(
      failure(() =>
        run(added.state, [
          { type: 'removeLane', laneId },
          { type: 'updateClip', clipId, startSec: 1 },
        ]),
      ),
    ).toMatchObject({ path: ['ops', 1, 'clipId'] });
    expect(failure(() => run(added.state, [{ type: 'updateClip', clipId, offsetSec: 5 }]))).toMatchObject({
      path: ['ops', 0, 'offsetSec'],
    });
  });

  it('refuses lanes beyond the limit', () => {
    const ops: ArrangementOp[] = Array.from({ length: LIMITS.LANES_PER_PROJECT + 1 }, (_, i) => ({
      type: 'addLane',
      lane: { name: `L${i}` },
    }));
    expect(failure(() => run(empty, ops))).toMatchObject({ path: ['ops', LIMITS.LANES_PER_PROJECT, 'lane'] });
  });

  it('restores the exact state with the inverse and reproduces it with the forward ops (random edits)', () => {
    for (const seed of [7, 8, 9, 10]) {
      const r = rng(seed);
      let state = empty;
      let applied = 0;
      for (let step = 0; step < 300; step++) {
        const ops = Array.from({ length: 1 + Math.floor(r.next() * 3) }, () => randomOp(state, r));
        let edit;
        try {
          edit = run(state, ops, r.newId);
        } catch (err) {
          if (isAppError(err) && err.code === 'BAD_REQUEST') continue;
          throw err;
        }
        applied++;
        const undone = run(edit.state, edit.inverse);
        expect(undone.state, `seed ${seed} step ${step}: undo`).toEqual(sortArrangement(state));
        const redone = run(state, edit.forward);
        expect(redone.state, `seed ${seed} step ${step}: redo`).toEqual(edit.state);
        expect(edit.state.lanes.map((l) => l.position)).toEqual(edit.state.lanes.map((_, i) => i));
        for (const clip of edit.state.clips) expect(edit.state.lanes.some((l) => l.id === clip.laneId)).toBe(true);
        state = edit.state;
      }
      expect(applied, `seed ${seed}: enough edits went through`).toBeGreaterThan(100);
      expect(state.clips.length + state.lanes.length).toBeGreaterThan(0);
    }
  });
});
