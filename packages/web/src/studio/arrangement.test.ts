import { describe, expect, it } from 'vitest';
import { applyOps, clipUpdateOp, MIN_CLIP_SEC, moveClip, trimClipEnd, trimClipStart } from './arrangement';
import type { Clip, ProjectState } from './types';

const L1 = '00000000-0000-4000-8000-000000000001';
const L2 = '00000000-0000-4000-8000-000000000002';
const T1 = '00000000-0000-4000-8000-0000000000a1';

const clip: Clip = {
  id: '00000000-0000-4000-8000-0000000000c1',
  laneId: L1,
  trackId: T1,
  startSec: 4,
  offsetSec: 1,
  lengthSec: 6,
  fadeInSec: 1,
  fadeOutSec: 2,
};

function project(): ProjectState {
  return {
    project: { id: 'p', name: 'Song', bpm: 120, key: null, timeSignature: '4/4', version: 3, updatedAt: '' },
    lanes: [
      { id: L1, name: 'Drums', color: '#f97316', gainDb: 0, pan: 0, mute: false, solo: false, position: 0 },
      { id: L2, name: 'Keys', color: '#22c55e', gainDb: -3, pan: 0.5, mute: false, solo: false, position: 1 },
    ],
    clips: [clip],
    canUndo: false,
    canRedo: false,
    role: 'owner',
  };
}

describe('clip geometry', () => {
  it('moves a clip, also to another lane, never before zero', () => {
    expect(moveClip(clip, 8)).toMatchObject({ startSec: 8, laneId: L1, offsetSec: 1, lengthSec: 6 });
    expect(moveClip(clip, -3, L2)).toMatchObject({ startSec: 0, laneId: L2 });
  });

  it('trims the start without moving the audio in time', () => {
    const later = trimClipStart(clip, 5.5);
    expect(later).toMatchObject({ startSec: 5.5, offsetSec: 2.5, lengthSec: 4.5 });
    // Earlier than the audio's beginning is not possible: offset 1 allows one second.
    expect(trimClipStart(clip, 0)).toMatchObject({ startSec: 3, offsetSec: 0, lengthSec: 7 });
    // Past the end leaves the shortest clip.
    expect(trimClipStart(clip, 20).lengthSec).toBeCloseTo(MIN_CLIP_SEC);
  });

  it('trims the end up to the end of the audio and keeps the fades inside', () => {
    expect(trimClipEnd(clip, 30, 8)).toMatchObject({ lengthSec: 7 });
    expect(trimClipEnd(clip, 30, null)).toMatchObject({ lengthSec: 26 });
    const short = trimClipEnd(clip, 6, 8);
    expect(short.lengthSec).toBe(2);
    expect(short.fadeOutSec + short.fadeInSec).toBeLessThanOrEqual(2);
    expect(short.fadeOutSec).toBe(2);
  });

  it('describes an edit as the smallest updateClip', () => {
    expect(clipUpdateOp(clip, clip)).toBeNull();
    expect(clipUpdateOp(clip, moveClip(clip, 6, L2))).toEqual({ type: 'updateClip', clipId: clip.id, laneId: L2, startSec: 6 });
  });
});

describe('local ops', () => {
  it('applies lane and clip ops the way the api does', () => {
    const lane = '00000000-0000-4000-8000-000000000003';
    const added = '00000000-0000-4000-8000-0000000000c2';
    const next = applyOps(project(), [
      { type: 'addLane', lane: { id: lane, name: 'Bass' } },
      { type: 'addClip', clip: { id: added, laneId: lane, trackId: T1, startSec: 2, lengthSec: 3 } },
      { type: 'updateLane', laneId: L1, mute: true },
      { type: 'updateClip', clipId: clip.id, startSec: 10 },
      { type: 'moveLane', laneId: lane, position: 0 },
    ]);
    expect(next.lanes.map((l) => [l.name, l.position])).toEqual([
      ['Bass', 0],
      ['Drums', 1],
      ['Keys', 2],
    ]);
    expect(next.lanes.find((l) => l.id === lane)?.color).toBe('#3b82f6');
    expect(next.lanes.find((l) => l.id === L1)?.mute).toBe(true);
    expect(next.clips.find((c) => c.id === added)).toMatchObject({ offsetSec: 0, fadeInSec: 0, lengthSec: 3 });
    expect(next.clips.find((c) => c.id === clip.id)?.startSec).toBe(10);
    // The version is the api's to give.
    expect(next.project.version).toBe(3);
  });

  it('inserts a lane at a given position', () => {
    const lane = '00000000-0000-4000-8000-000000000004';
    const next = applyOps(project(), [{ type: 'addLane', lane: { id: lane, name: 'Pad', position: 1, mute: true } }]);
    expect(next.lanes.map((l) => l.name)).toEqual(['Drums', 'Pad', 'Keys']);
    expect(next.lanes[1]).toMatchObject({ position: 1, mute: true, solo: false, gainDb: 0 });
  });

  it('removing a lane removes its clips and closes the gap', () => {
    const next = applyOps(project(), [{ type: 'removeLane', laneId: L1 }]);
    expect(next.clips).toEqual([]);
    expect(next.lanes).toEqual([expect.objectContaining({ id: L2, position: 0 })]);
    expect(applyOps(project(), [{ type: 'removeClip', clipId: clip.id }]).clips).toEqual([]);
  });

  it('leaves the state alone for ops it cannot apply', () => {
    const state = project();
    expect(
      applyOps(state, [{ type: 'addClip', clip: { laneId: '00000000-0000-4000-8000-00000000dead', trackId: T1, startSec: 0, lengthSec: 1, id: clip.id } }]),
    ).toEqual(state);
  });
});
