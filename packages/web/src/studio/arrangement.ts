/**
 * Arrangement edits on the client: the api's ops applied to a local copy (what the screen shows while the request
 * is out, so a drag lands where it was dropped at once), and the geometry of moving and trimming a clip (never before
 * the timeline's start, never past the audio it plays, fades kept inside the clip). The api stays the authority: its
 * answer replaces the local copy.
 */
import { LANE_COLORS, LIMITS } from '@dawg/shared';
import type { ArrangementOp, Clip, Lane, ProjectState } from './types';

/** Shorter clips cannot be grabbed or heard as anything but a click. */
export const MIN_CLIP_SEC = 0.05;

const round = (n: number) => Math.round(n * 1e6) / 1e6;

export function clipEnd(clip: Pick<Clip, 'startSec' | 'lengthSec'>): number {
  return clip.startSec + clip.lengthSec;
}

export function sortedLanes(lanes: readonly Lane[]): Lane[] {
  return [...lanes].sort((a, b) => a.position - b.position);
}

export function nextLaneColor(lanes: readonly Lane[]): string {
  return LANE_COLORS[lanes.length % LANE_COLORS.length] ?? LANE_COLORS[0];
}

/** Fades shortened (fade-out first) until both fit the clip. */
function fitFades(clip: Clip): Clip {
  const fadeOutSec = Math.min(clip.fadeOutSec, clip.lengthSec);
  const fadeInSec = Math.min(clip.fadeInSec, clip.lengthSec - fadeOutSec);
  return { ...clip, fadeInSec: round(fadeInSec), fadeOutSec: round(fadeOutSec) };
}

export function moveClip(clip: Clip, startSec: number, laneId: string = clip.laneId): Clip {
  const start = Math.min(LIMITS.TIMELINE_MAX_SEC, Math.max(0, startSec));
  return { ...clip, laneId, startSec: round(start) };
}

/** Moves the clip's left edge: the audio stays put in time, so the offset into it moves by the same amount. */
export function trimClipStart(clip: Clip, newStartSec: number): Clip {
  let delta = newStartSec - clip.startSec;
  delta = Math.max(delta, -clip.offsetSec, -clip.startSec);
  delta = Math.min(delta, clip.lengthSec - MIN_CLIP_SEC);
  return fitFades({
    ...clip,
    startSec: round(clip.startSec + delta),
    offsetSec: round(clip.offsetSec + delta),
    lengthSec: round(clip.lengthSec - delta),
  });
}

/** Moves the clip's right edge, up to the end of its audio when the track's length is known. */
export function trimClipEnd(clip: Clip, newEndSec: number, trackDurationSec: number | null | undefined): Clip {
  let length = newEndSec - clip.startSec;
  if (trackDurationSec !== null && trackDurationSec !== undefined && Number.isFinite(trackDurationSec)) {
    length = Math.min(length, trackDurationSec - clip.offsetSec);
  }
  length = Math.max(MIN_CLIP_SEC, length);
  return fitFades({ ...clip, lengthSec: round(length) });
}

/** The updateClip op that turns `before` into `after`, or null when nothing changed. */
export function clipUpdateOp(before: Clip, after: Clip): ArrangementOp | null {
  const changes: Record<string, string | number> = {};
  if (after.laneId !== before.laneId) changes.laneId = after.laneId;
  for (const key of ['startSec', 'offsetSec', 'lengthSec', 'fadeInSec', 'fadeOutSec'] as const) {
    if (Math.abs(after[key] - before[key]) > 1e-6) changes[key] = after[key];
  }
  if (Object.keys(changes).length === 0) return null;
  return { type: 'updateClip', clipId: before.id, ...changes } as ArrangementOp;
}

function renumber(lanes: Lane[]): Lane[] {
  return lanes.map((lane, position) => (lane.position === position ? lane : { ...lane, position }));
}

/** One op applied to a local copy of the project; ops the copy cannot apply (unknown ids) leave it unchanged. */
export function applyOp(state: ProjectState, op: ArrangementOp): ProjectState {
  switch (op.type) {
    case 'addLane': {
      if (!op.lane.id) return state;
      const lanes = sortedLanes(state.lanes);
      const lane: Lane = {
        id: op.lane.id,
        name: op.lane.name,
        color: op.lane.color ?? nextLaneColor(lanes),
        gainDb: op.lane.gainDb ?? 0,
        pan: op.lane.pan ?? 0,
        mute: op.lane.mute ?? false,
        solo: op.lane.solo ?? false,
        position: lanes.length,
      };
      lanes.splice(Math.max(0, Math.min(lanes.length, op.lane.position ?? lanes.length)), 0, lane);
      return { ...state, lanes: renumber(lanes) };
    }
    case 'updateLane': {
      const { type: _type, laneId, ...changes } = op;
      const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
      return { ...state, lanes: state.lanes.map((l) => (l.id === laneId ? { ...l, ...defined } : l)) };
    }
    case 'removeLane':
      return {
        ...state,
        lanes: renumber(sortedLanes(state.lanes.filter((l) => l.id !== op.laneId))),
        clips: state.clips.filter((c) => c.laneId !== op.laneId),
      };
    case 'moveLane': {
      const lanes = sortedLanes(state.lanes);
      const from = lanes.findIndex((l) => l.id === op.laneId);
      if (from < 0) return state;
      const [lane] = lanes.splice(from, 1);
      if (!lane) return state;
      lanes.splice(Math.max(0, Math.min(lanes.length, op.position)), 0, lane);
      return { ...state, lanes: renumber(lanes) };
    }
    case 'addClip': {
      const c = op.clip;
      if (!c.id || c.lengthSec === undefined || !state.lanes.some((l) => l.id === c.laneId)) return state;
      const clip: Clip = {
        id: c.id,
        laneId: c.laneId,
        trackId: c.trackId,
        startSec: c.startSec,
        offsetSec: c.offsetSec ?? 0,
        lengthSec: c.lengthSec,
        fadeInSec: c.fadeInSec ?? 0,
        fadeOutSec: c.fadeOutSec ?? 0,
      };
      return { ...state, clips: [...state.clips, clip] };
    }
    case 'updateClip': {
      const { type: _type, clipId, ...changes } = op;
      const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
      return { ...state, clips: state.clips.map((c) => (c.id === clipId ? { ...c, ...defined } : c)) };
    }
    case 'removeClip':
      return { ...state, clips: state.clips.filter((c) => c.id !== op.clipId) };
    default:
      return state;
  }
}

export function applyOps(state: ProjectState, ops: readonly ArrangementOp[]): ProjectState {
  return ops.reduce(applyOp, state);
}

/** The end of the last clip: how long the arrangement plays and how far the timeline must scroll. */
export function arrangementEnd(clips: readonly Clip[]): number {
  return clips.reduce((end, c) => Math.max(end, clipEnd(c)), 0);
}
