/**
 * The studio's requests and answers: projects (with their optimistic `version`), the arrangement (lanes, clips and
 * the edit operations of `arrangement.apply`, undo and redo) and the track library (`track.*`, REST `GET /api/tracks`).
 * Numeric bounds come from LIMITS, so the forms, the procedures and the database CHECKs agree.
 */
import { z } from 'zod';
import { LIMITS, MUSICAL_KEYS, TIME_SIGNATURES, TRACK_SOURCES, TRACK_STATUSES, type MusicalKey } from './constants';

export const STUDIO_LIMITS = {
  /** Operations in one `arrangement.apply` (one undo step). */
  OPS_PER_EDIT: 200,
  /** Undo steps kept per project; older edits are forgotten. */
  HISTORY_DEPTH: 100,
  PROJECTS_LIST_MAX: 200,
  TRACK_LIST_DEFAULT: 50,
  TRACK_LIST_MAX: 100,
  TRACK_SEARCH_MAX_CHARS: 200,
  CURSOR_MAX_CHARS: 200,
  /** projects.version is an int4. */
  VERSION_MAX: 2_147_483_647,
  /** Clip bounds are checked against the track's duration with this tolerance (float seconds). */
  DURATION_EPSILON_SEC: 1e-6,
} as const;

/** Who a caller is to a project: its owner, or a member with a role. Viewers read; editors and the owner write. */
export const PROJECT_ROLES = ['owner', 'editor', 'viewer'] as const;
export const projectRoleSchema = z.enum(PROJECT_ROLES);
export type ProjectRole = z.infer<typeof projectRoleSchema>;

export const musicalKeySchema = z.enum(MUSICAL_KEYS as [MusicalKey, ...MusicalKey[]]);
export const timeSignatureSchema = z.enum(TIME_SIGNATURES);
export const projectNameSchema = z.string().trim().min(1).max(LIMITS.PROJECT_NAME_MAX_CHARS);
export const projectBpmSchema = z.number().min(LIMITS.BPM_MIN).max(LIMITS.BPM_MAX);
export const projectVersionSchema = z.number().int().min(1).max(STUDIO_LIMITS.VERSION_MAX);
export const laneNameSchema = z.string().trim().min(1).max(LIMITS.LANE_NAME_MAX_CHARS);
export const laneColorSchema = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'A colour is #rrggbb');
export const gainDbSchema = z.number().min(LIMITS.GAIN_DB_MIN).max(LIMITS.GAIN_DB_MAX);
export const panSchema = z.number().min(LIMITS.PAN_MIN).max(LIMITS.PAN_MAX);
export const lanePositionSchema = z
  .number()
  .int()
  .min(0)
  .max(LIMITS.LANES_PER_PROJECT - 1);
/** A point or a span on the timeline, in seconds. */
const secondsSchema = z.number().min(0).max(LIMITS.TIMELINE_MAX_SEC);
const lengthSecSchema = z.number().positive().max(LIMITS.TIMELINE_MAX_SEC);

// ---- Views --------------------------------------------------------------------------------------------------------

export const projectSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  bpm: z.number(),
  key: z.string().nullable(),
  timeSignature: z.string(),
  version: z.number().int(),
  updatedAt: z.string(),
});
export type Project = z.infer<typeof projectSchema>;

export const projectListItemSchema = projectSchema.extend({ role: projectRoleSchema });
export type ProjectListItem = z.infer<typeof projectListItemSchema>;

export const laneSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  color: z.string(),
  gainDb: z.number(),
  pan: z.number(),
  mute: z.boolean(),
  solo: z.boolean(),
  /** 0..n-1, contiguous: the order of lanes top to bottom. */
  position: z.number().int(),
});
export type Lane = z.infer<typeof laneSchema>;

export const clipSchema = z.object({
  id: z.uuid(),
  laneId: z.uuid(),
  trackId: z.uuid(),
  /** Where the clip starts on the timeline. */
  startSec: z.number(),
  /** Where in the track the clip starts playing. */
  offsetSec: z.number(),
  lengthSec: z.number(),
  fadeInSec: z.number(),
  fadeOutSec: z.number(),
});
export type Clip = z.infer<typeof clipSchema>;

/** A project and its whole arrangement: lanes by position, clips by start time (then id). */
export const projectStateSchema = z.object({
  project: projectSchema,
  lanes: z.array(laneSchema),
  clips: z.array(clipSchema),
  canUndo: z.boolean(),
  canRedo: z.boolean(),
  /** The caller's role: viewers get the same state but every write is refused. */
  role: projectRoleSchema,
});
export type ProjectState = z.infer<typeof projectStateSchema>;

// ---- Project procedures -------------------------------------------------------------------------------------------

export const projectIdInputSchema = z.object({ id: z.uuid() });

export const createProjectInputSchema = z.object({
  name: projectNameSchema,
  bpm: projectBpmSchema.optional(),
  key: musicalKeySchema.optional(),
  timeSignature: timeSignatureSchema.optional(),
});
export type CreateProjectInput = z.infer<typeof createProjectInputSchema>;

export const updateProjectInputSchema = z.object({
  id: z.uuid(),
  /** The version the caller's edit is based on; a newer one on the server answers CONFLICT and writes nothing. */
  expectedVersion: projectVersionSchema,
  name: projectNameSchema.optional(),
  bpm: projectBpmSchema.optional(),
  /** null clears the key. */
  key: musicalKeySchema.nullable().optional(),
  timeSignature: timeSignatureSchema.optional(),
});
export type UpdateProjectInput = z.infer<typeof updateProjectInputSchema>;

export const deleteProjectOutputSchema = z.object({ id: z.uuid() });

// ---- Arrangement operations ---------------------------------------------------------------------------------------

/**
 * One edit of the arrangement. Every optional field has a server default, and the server stores each operation
 * with every field resolved (ids included), so a redo re-creates exactly the same lanes and clips.
 */
export const addLaneOpSchema = z.object({
  type: z.literal('addLane'),
  lane: z.object({
    /** A client-made uuid lets the client refer to the lane in later operations of the same edit. */
    id: z.uuid().optional(),
    name: laneNameSchema,
    color: laneColorSchema.optional(),
    gainDb: gainDbSchema.optional(),
    pan: panSchema.optional(),
    mute: z.boolean().optional(),
    solo: z.boolean().optional(),
    /** Default: after the last lane. */
    position: lanePositionSchema.optional(),
  }),
});

export const updateLaneOpSchema = z.object({
  type: z.literal('updateLane'),
  laneId: z.uuid(),
  name: laneNameSchema.optional(),
  color: laneColorSchema.optional(),
  gainDb: gainDbSchema.optional(),
  pan: panSchema.optional(),
  mute: z.boolean().optional(),
  solo: z.boolean().optional(),
});

/** Removes the lane and every clip on it. */
export const removeLaneOpSchema = z.object({ type: z.literal('removeLane'), laneId: z.uuid() });

export const moveLaneOpSchema = z.object({
  type: z.literal('moveLane'),
  laneId: z.uuid(),
  position: lanePositionSchema,
});

export const addClipOpSchema = z.object({
  type: z.literal('addClip'),
  clip: z.object({
    id: z.uuid().optional(),
    laneId: z.uuid(),
    /** One of the caller's own ready tracks, or a track already used in this project. */
    trackId: z.uuid(),
    startSec: secondsSchema,
    offsetSec: secondsSchema.optional(),
    /** Default: the rest of the track after offsetSec. offsetSec + lengthSec must not pass the track's end. */
    lengthSec: lengthSecSchema.optional(),
    fadeInSec: secondsSchema.optional(),
    fadeOutSec: secondsSchema.optional(),
  }),
});

export const updateClipOpSchema = z.object({
  type: z.literal('updateClip'),
  clipId: z.uuid(),
  laneId: z.uuid().optional(),
  startSec: secondsSchema.optional(),
  offsetSec: secondsSchema.optional(),
  lengthSec: lengthSecSchema.optional(),
  fadeInSec: secondsSchema.optional(),
  fadeOutSec: secondsSchema.optional(),
});

export const removeClipOpSchema = z.object({ type: z.literal('removeClip'), clipId: z.uuid() });

export const arrangementOpSchema = z.discriminatedUnion('type', [
  addLaneOpSchema,
  updateLaneOpSchema,
  removeLaneOpSchema,
  moveLaneOpSchema,
  addClipOpSchema,
  updateClipOpSchema,
  removeClipOpSchema,
]);
export type ArrangementOp = z.infer<typeof arrangementOpSchema>;
export type ArrangementOpType = ArrangementOp['type'];
export type AddLaneOp = z.infer<typeof addLaneOpSchema>;
export type UpdateLaneOp = z.infer<typeof updateLaneOpSchema>;
export type AddClipOp = z.infer<typeof addClipOpSchema>;
export type UpdateClipOp = z.infer<typeof updateClipOpSchema>;

export const arrangementOpsSchema = z.array(arrangementOpSchema).min(1).max(STUDIO_LIMITS.OPS_PER_EDIT);
/** A recorded edit: an inverse may be longer than any request (removing a lane re-adds each of its clips). */
export const storedArrangementOpsSchema = z.array(arrangementOpSchema);

export const applyArrangementInputSchema = z.object({
  projectId: z.uuid(),
  expectedVersion: projectVersionSchema,
  ops: arrangementOpsSchema,
});
export type ApplyArrangementInput = z.infer<typeof applyArrangementInputSchema>;

export const undoRedoInputSchema = z.object({ projectId: z.uuid(), expectedVersion: projectVersionSchema });
export type UndoRedoInput = z.infer<typeof undoRedoInputSchema>;

// ---- Track library ------------------------------------------------------------------------------------------------

export const trackSourceSchema = z.enum(TRACK_SOURCES);
export const trackStatusSchema = z.enum(TRACK_STATUSES);

export const trackSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  source: trackSourceSchema,
  status: trackStatusSchema,
  durationSec: z.number().nullable(),
  bpm: z.number().nullable(),
  key: z.string().nullable(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  prompt: z.string().nullable(),
  createdAt: z.string(),
  projectId: z.uuid().nullable(),
  generationId: z.uuid().nullable(),
  /** Presigned GET of the waveform peaks JSON (an hour), null when the track has none. */
  peaksUrl: z.string().nullable(),
  /** The caller owns it (may rename and delete it); false for a collaborator's track used in a shared project. */
  mine: z.boolean(),
});
export type Track = z.infer<typeof trackSchema>;

const trackListFilters = {
  source: trackSourceSchema.optional(),
  /** The tracks of a project the caller can read: those made for it and those its clips use. */
  projectId: z.uuid().optional(),
  /** Matches title or prompt, case-insensitively. */
  search: z.string().trim().max(STUDIO_LIMITS.TRACK_SEARCH_MAX_CHARS).optional(),
  /** `nextCursor` of the previous page. */
  cursor: z.string().min(1).max(STUDIO_LIMITS.CURSOR_MAX_CHARS).optional(),
};

export const trackListInputSchema = z.object({
  ...trackListFilters,
  limit: z.number().int().min(1).max(STUDIO_LIMITS.TRACK_LIST_MAX).optional(),
});
export type TrackListInput = z.infer<typeof trackListInputSchema>;

export const trackListOutputSchema = z.object({ items: z.array(trackSchema), nextCursor: z.string().nullable() });
export type TrackListOutput = z.infer<typeof trackListOutputSchema>;

/** REST `GET /api/tracks` query string (values arrive as strings). */
export const restTrackListQuerySchema = z.object({
  ...trackListFilters,
  limit: z.coerce.number().int().min(1).max(STUDIO_LIMITS.TRACK_LIST_MAX).optional(),
});
export const restTrackListOutputSchema = z.object({ tracks: z.array(trackSchema), nextCursor: z.string().nullable() });

export const trackIdInputSchema = z.object({ id: z.uuid() });

export const renameTrackInputSchema = z.object({
  id: z.uuid(),
  title: z.string().trim().min(1).max(LIMITS.TRACK_TITLE_MAX_CHARS),
});

export const deleteTrackOutputSchema = z.object({ id: z.uuid() });

export const trackUrlsInputSchema = z.object({
  id: z.uuid(),
  /** Presign for a download: the bucket answers with `Content-Disposition: attachment` and the track's title. */
  download: z.boolean().optional(),
});

export const trackUrlsOutputSchema = z.object({
  mp3Url: z.string().nullable(),
  wavUrl: z.string().nullable(),
  peaksUrl: z.string().nullable(),
  expiresAt: z.string(),
});
export type TrackUrls = z.infer<typeof trackUrlsOutputSchema>;

// ---- Track deletion job -------------------------------------------------------------------------------------------

/**
 * `maintenance.delete-track` retries: exponential from one second, ten attempts (about 17 minutes); a track still
 * not gone after that is picked up again by the `purge-deleted-tracks` sweeper, so deletion is retried until the
 * rows and the objects are both gone.
 */
export const DELETE_TRACK_JOB_OPTIONS = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 1_000 },
} as const;

/** One job per track: a second delete or a sweep never duplicates a waiting or retrying job. */
export function deleteTrackJobId(trackId: string): string {
  return `delete-track-${trackId}`;
}

/** The sweeper runs this often and re-enqueues tracks soft-deleted at least this long ago whose job is gone. */
export const TRACK_PURGE_EVERY_MS = 5 * 60_000;
export const TRACK_PURGE_AFTER_MS = 10 * 60_000;
