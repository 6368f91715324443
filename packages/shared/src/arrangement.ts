/**
 * The arrangement engine: applies `ArrangementOp`s to a project's lanes and clips, validating each against the
 * state it meets (lanes of this project, ready tracks, clip bounds within the track, the LIMITS), and returns the
 * new state with the edit in two directions: `forward` (every field resolved, ids included, so a redo re-creates the
 * same rows) and `inverse` (computed from the state before each operation, so an undo restores it exactly). Pure and
 * synchronous: the api runs it inside its transaction, and a client can run it for an optimistic preview.
 *
 * Invariants kept: lane positions are 0..n-1 in order; clip ids and lane ids are unique; every clip's lane exists;
 * offsetSec + lengthSec <= the track's duration; fadeInSec + fadeOutSec <= lengthSec.
 */
import { LANE_COLORS, LIMITS } from './constants';
import { AppError, type AppErrorDetail } from './errors';
import {
  STUDIO_LIMITS,
  type ArrangementOp,
  type Clip,
  type Lane,
  type UpdateClipOp,
  type UpdateLaneOp,
} from './studio';

export interface Arrangement {
  lanes: Lane[];
  clips: Clip[];
}

export interface ArrangementTrack {
  /** Seconds; null while unknown (such a track cannot be placed). */
  durationSec: number | null;
  /** May be placed by `addClip`: live, ready, and one the caller may use. Existing clips only need the duration. */
  usable: boolean;
}

export interface ApplyOptions {
  /** Every track the state's clips and the operations' `addClip`s refer to (missing = unusable, unknown duration). */
  tracks: ReadonlyMap<string, ArrangementTrack>;
  /** Ids for lanes and clips the operations do not name. */
  newId?: () => string;
}

export interface AppliedEdit {
  state: Arrangement;
  forward: ArrangementOp[];
  inverse: ArrangementOp[];
}

type Path = AppErrorDetail['path'];

function invalid(path: Path, message: string): never {
  throw new AppError('BAD_REQUEST', message, { details: [{ path, message }] });
}

const LANE_FIELDS = ['name', 'color', 'gainDb', 'pan', 'mute', 'solo'] as const;
const CLIP_FIELDS = ['laneId', 'startSec', 'offsetSec', 'lengthSec', 'fadeInSec', 'fadeOutSec'] as const;

/** Sets each given field on `target`, recording the old values in `before` and the new ones in `after`. */
function patch<T extends object, K extends keyof T>(
  target: T,
  keys: readonly K[],
  values: Partial<Pick<T, K>>,
  before: Partial<Pick<T, K>>,
  after: Partial<Pick<T, K>>,
): void {
  for (const key of keys) {
    const value = values[key];
    if (value === undefined) continue;
    before[key] = target[key];
    after[key] = value;
    target[key] = value as T[K];
  }
}

/** Lanes ordered by position, clips by start then id: the order the api answers with. */
export function sortArrangement(state: Arrangement): Arrangement {
  return {
    lanes: [...state.lanes].sort((a, b) => a.position - b.position),
    clips: [...state.clips].sort((a, b) => a.startSec - b.startSec || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
}

export function applyArrangementOps(
  initial: Arrangement,
  ops: readonly ArrangementOp[],
  opts: ApplyOptions,
): AppliedEdit {
  const lanes = [...initial.lanes].sort((a, b) => a.position - b.position).map((l) => ({ ...l }));
  let clips = initial.clips.map((c) => ({ ...c }));
  const newId = opts.newId ?? (() => globalThis.crypto.randomUUID());
  const forward: ArrangementOp[] = [];
  const inverses: ArrangementOp[][] = [];

  const renumber = () => lanes.forEach((lane, index) => (lane.position = index));
  const laneIndex = (id: string, path: Path) => {
    const index = lanes.findIndex((l) => l.id === id);
    if (index < 0) invalid(path, 'No such lane in this project');
    return index;
  };
  const findClip = (id: string, path: Path) =>
    clips.find((c) => c.id === id) ?? invalid(path, 'No such clip in this project');
  const checkLaneRoom = (laneId: string, path: Path) => {
    if (clips.filter((c) => c.laneId === laneId).length >= LIMITS.CLIPS_PER_LANE) {
      invalid(path, `A lane holds at most ${LIMITS.CLIPS_PER_LANE} clips`);
    }
  };
  const duration = (trackId: string, path: Path) => {
    const seconds = opts.tracks.get(trackId)?.durationSec;
    if (seconds === null || seconds === undefined || !(seconds > 0)) invalid(path, 'The track is not available');
    return seconds;
  };
  /** Bounds of a clip against its track; `pathOf` names the field the caller set (the one to blame). */
  const checkClip = (clip: Clip, trackSec: number, pathOf: (field: keyof Clip) => Path, changed: Set<keyof Clip>) => {
    const blame = (...fields: (keyof Clip)[]) => pathOf(fields.find((f) => changed.has(f)) ?? fields[0]!);
    if (clip.offsetSec >= trackSec) {
      invalid(blame('offsetSec'), `offsetSec must be less than the track's duration (${trackSec} s)`);
    }
    if (clip.offsetSec + clip.lengthSec > trackSec + STUDIO_LIMITS.DURATION_EPSILON_SEC) {
      invalid(
        blame('lengthSec', 'offsetSec'),
        `offsetSec + lengthSec must not pass the end of the track (${trackSec} s)`,
      );
    }
    // Exact, like the clips CHECK (fade_in + fade_out <= length_sec): the same double arithmetic on both sides.
    if (clip.fadeInSec + clip.fadeOutSec > clip.lengthSec) {
      invalid(blame('fadeOutSec', 'fadeInSec', 'lengthSec'), 'fadeInSec + fadeOutSec must not exceed lengthSec');
    }
  };

  ops.forEach((op, i) => {
    const at = (...rest: Path): Path => ['ops', i, ...rest];
    switch (op.type) {
      case 'addLane': {
        if (lanes.length >= LIMITS.LANES_PER_PROJECT) {
          invalid(at('lane'), `A project has at most ${LIMITS.LANES_PER_PROJECT} lanes`);
        }
        const id = op.lane.id ?? newId();
        if (lanes.some((l) => l.id === id)) invalid(at('lane', 'id'), 'A lane with this id already exists');
        const position = op.lane.position ?? lanes.length;
        if (position > lanes.length) invalid(at('lane', 'position'), `position must be at most ${lanes.length}`);
        const lane: Lane = {
          id,
          name: op.lane.name,
          color: op.lane.color ?? LANE_COLORS[lanes.length % LANE_COLORS.length]!,
          gainDb: op.lane.gainDb ?? 0,
          pan: op.lane.pan ?? 0,
          mute: op.lane.mute ?? false,
          solo: op.lane.solo ?? false,
          position,
        };
        lanes.splice(position, 0, lane);
        renumber();
        forward.push({ type: 'addLane', lane: { ...lane } });
        inverses.push([{ type: 'removeLane', laneId: id }]);
        break;
      }
      case 'updateLane': {
        const lane = lanes[laneIndex(op.laneId, at('laneId'))]!;
        const before: UpdateLaneOp = { type: 'updateLane', laneId: lane.id };
        const after: UpdateLaneOp = { type: 'updateLane', laneId: lane.id };
        patch(lane, LANE_FIELDS, op, before, after);
        forward.push(after);
        inverses.push([before]);
        break;
      }
      case 'removeLane': {
        const index = laneIndex(op.laneId, at('laneId'));
        const lane = { ...lanes[index]!, position: index };
        const removed = clips.filter((c) => c.laneId === lane.id);
        clips = clips.filter((c) => c.laneId !== lane.id);
        lanes.splice(index, 1);
        renumber();
        forward.push({ type: 'removeLane', laneId: lane.id });
        inverses.push([
          { type: 'addLane', lane },
          ...removed.map((clip): ArrangementOp => ({ type: 'addClip', clip: { ...clip } })),
        ]);
        break;
      }
      case 'moveLane': {
        const index = laneIndex(op.laneId, at('laneId'));
        if (op.position >= lanes.length) invalid(at('position'), `position must be at most ${lanes.length - 1}`);
        const [lane] = lanes.splice(index, 1);
        lanes.splice(op.position, 0, lane!);
        renumber();
        forward.push({ type: 'moveLane', laneId: op.laneId, position: op.position });
        inverses.push([{ type: 'moveLane', laneId: op.laneId, position: index }]);
        break;
      }
      case 'addClip': {
        const input = op.clip;
        laneIndex(input.laneId, at('clip', 'laneId'));
        const id = input.id ?? newId();
        if (clips.some((c) => c.id === id)) invalid(at('clip', 'id'), 'A clip with this id already exists');
        const track = opts.tracks.get(input.trackId);
        if (!track?.usable) invalid(at('clip', 'trackId'), 'Not a ready track you can use in this project');
        const trackSec = duration(input.trackId, at('clip', 'trackId'));
        if (clips.length >= LIMITS.CLIPS_PER_PROJECT) {
          invalid(at('clip'), `A project holds at most ${LIMITS.CLIPS_PER_PROJECT} clips`);
        }
        checkLaneRoom(input.laneId, at('clip', 'laneId'));
        const offsetSec = input.offsetSec ?? 0;
        const clip: Clip = {
          id,
          laneId: input.laneId,
          trackId: input.trackId,
          startSec: input.startSec,
          offsetSec,
          lengthSec: input.lengthSec ?? Math.max(trackSec - offsetSec, Number.MIN_VALUE),
          fadeInSec: input.fadeInSec ?? 0,
          fadeOutSec: input.fadeOutSec ?? 0,
        };
        const given = new Set(Object.keys(input) as (keyof Clip)[]);
        checkClip(clip, trackSec, (field) => at('clip', field), given);
        clips.push(clip);
        forward.push({ type: 'addClip', clip: { ...clip } });
        inverses.push([{ type: 'removeClip', clipId: id }]);
        break;
      }
      case 'updateClip': {
        const clip = findClip(op.clipId, at('clipId'));
        if (op.laneId !== undefined && op.laneId !== clip.laneId) {
          laneIndex(op.laneId, at('laneId'));
          checkLaneRoom(op.laneId, at('laneId'));
        }
        const trackSec = duration(clip.trackId, at('clipId'));
        const before: UpdateClipOp = { type: 'updateClip', clipId: clip.id };
        const after: UpdateClipOp = { type: 'updateClip', clipId: clip.id };
        const next = { ...clip };
        patch(next, CLIP_FIELDS, op, before, after);
        const changed = new Set(CLIP_FIELDS.filter((f) => op[f] !== undefined));
        checkClip(next, trackSec, (field) => at(field), changed);
        Object.assign(clip, next);
        forward.push(after);
        inverses.push([before]);
        break;
      }
      case 'removeClip': {
        const clip = findClip(op.clipId, at('clipId'));
        clips = clips.filter((c) => c.id !== clip.id);
        forward.push({ type: 'removeClip', clipId: clip.id });
        inverses.push([{ type: 'addClip', clip: { ...clip } }]);
        break;
      }
    }
  });

  return { state: sortArrangement({ lanes, clips }), forward, inverse: inverses.reverse().flat() };
}

/** Every track an edit's `addClip`s name (the caller loads these, plus the tracks of the state's clips). */
export function trackIdsOfOps(ops: readonly ArrangementOp[]): string[] {
  const ids = new Set<string>();
  for (const op of ops) if (op.type === 'addClip') ids.add(op.clip.trackId);
  return [...ids];
}
