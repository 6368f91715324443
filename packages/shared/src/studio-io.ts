/**
 * Studio II: audio in and out of a project, and working on it together. Uploads (presigned POST, completion, REST
 * multipart), mixdowns and stems, the automatic mix, project members (invite as editor or viewer) and the live
 * project channel (changes, presence, mixdown progress) that crosses api instances through Redis.
 */
import { z } from 'zod';
import { LIMITS, PROJECT_MEMBER_ROLES } from './constants';
import { emailSchema } from './auth';
import { generationStatusSchema } from './generation';
import { projectStateSchema, projectVersionSchema, trackSchema } from './studio';

// ---- Uploads ------------------------------------------------------------------------------------------------------

/** Content types an upload may declare, with the extension its stored original gets. */
export const UPLOAD_CONTENT_TYPES = {
  'audio/mpeg': 'mp3',
  'audio/mp3': 'mp3',
  'audio/wav': 'wav',
  'audio/x-wav': 'wav',
  'audio/wave': 'wav',
  'audio/vnd.wave': 'wav',
  'audio/flac': 'flac',
  'audio/x-flac': 'flac',
  'audio/ogg': 'ogg',
  'audio/aac': 'aac',
  'audio/mp4': 'm4a',
  'audio/x-m4a': 'm4a',
  'audio/aiff': 'aiff',
  'audio/x-aiff': 'aiff',
} as const;
export type UploadContentType = keyof typeof UPLOAD_CONTENT_TYPES;
export const UPLOAD_CONTENT_TYPE_LIST = Object.keys(UPLOAD_CONTENT_TYPES) as [
  UploadContentType,
  ...UploadContentType[],
];
export const uploadContentTypeSchema = z.enum(UPLOAD_CONTENT_TYPE_LIST, {
  error: `Audio only: one of ${UPLOAD_CONTENT_TYPE_LIST.join(', ')}`,
});

export const UPLOAD_LIMITS = {
  MAX_BYTES: LIMITS.UPLOAD_MAX_BYTES,
  MAX_FILES: LIMITS.UPLOAD_MAX_FILES,
  /** Uploads of one user waiting to be completed or analysed at once (presigned POSTs handed out). */
  MAX_OPEN: 20,
  /** A presigned POST is valid this long. */
  POST_TTL_SEC: 10 * 60,
  FILE_NAME_MAX_CHARS: 255,
} as const;

export const createUploadInputSchema = z.object({
  fileName: z.string().trim().min(1).max(UPLOAD_LIMITS.FILE_NAME_MAX_CHARS),
  contentType: uploadContentTypeSchema,
  sizeBytes: z
    .number()
    .int()
    .min(1)
    .max(UPLOAD_LIMITS.MAX_BYTES, `A file is at most ${UPLOAD_LIMITS.MAX_BYTES / 1024 / 1024} MB`),
  /** Place the track in this project's library (the caller must be able to edit it). */
  projectId: z.uuid().optional(),
});
export type CreateUploadInput = z.infer<typeof createUploadInputSchema>;

export const createUploadOutputSchema = z.object({
  trackId: z.uuid(),
  /** POST the form here: every field of `fields` first, then the file as `file`. */
  url: z.string(),
  fields: z.record(z.string(), z.string()),
  expiresAt: z.string(),
});
export type CreateUploadOutput = z.infer<typeof createUploadOutputSchema>;

export const completeUploadInputSchema = z.object({ trackId: z.uuid() });

/** REST `POST /api/tracks/upload` (multipart, field `file`, up to 5 files). */
export const restUploadOutputSchema = z.object({ success: z.literal(true), tracks: z.array(trackSchema) });

// ---- Mixdowns -----------------------------------------------------------------------------------------------------

export const mixdownInputSchema = z.object({
  projectId: z.uuid(),
  /** Also export one WAV per lane, zipped. */
  stems: z.boolean().optional(),
});
export type MixdownInput = z.infer<typeof mixdownInputSchema>;

export const mixdownViewSchema = z.object({
  id: z.uuid(),
  projectId: z.uuid(),
  status: generationStatusSchema,
  progress: z.number().int(),
  projectVersion: z.number().int(),
  stems: z.boolean(),
  error: z.string().nullable(),
  trackId: z.uuid().nullable(),
  durationSec: z.number().nullable(),
  /** Presigned GETs (an hour, as attachments) once the mixdown succeeded. */
  wavUrl: z.string().nullable(),
  mp3Url: z.string().nullable(),
  stemsUrl: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type MixdownView = z.infer<typeof mixdownViewSchema>;

export const getMixdownInputSchema = z.object({ id: z.uuid() });
export const listMixdownsInputSchema = z.object({ projectId: z.uuid() });
export const MIXDOWN_LIST_MAX = 20;
/** Mixdowns of one user queued or rendering at once. */
export const MIXDOWN_MAX_ACTIVE = 3;

// ---- Automatic mix ------------------------------------------------------------------------------------------------

export const AUTO_MIX_TARGET_LUFS = -14;

export const autoMixInputSchema = z.object({
  projectId: z.uuid(),
  expectedVersion: projectVersionSchema,
  /** Integrated loudness the whole mix aims at (default −14 LUFS). */
  targetLufs: z.number().min(-30).max(-6).optional(),
});
export type AutoMixInput = z.infer<typeof autoMixInputSchema>;

export const autoMixLaneSchema = z.object({
  laneId: z.uuid(),
  /** Estimated loudness of the lane at unity gain; null when it has no measured audio (left alone). */
  measuredLufs: z.number().nullable(),
  gainDbBefore: z.number(),
  gainDbAfter: z.number(),
});

export const autoMixOutputSchema = z.object({
  state: projectStateSchema,
  lanes: z.array(autoMixLaneSchema),
  targetLufs: z.number(),
  /** False when every lane already sat at its planned gain (nothing written, no undo step). */
  changed: z.boolean(),
});

// ---- Members and the live channel ---------------------------------------------------------------------------------

export const memberRoleSchema = z.enum(PROJECT_MEMBER_ROLES);

export const inviteMemberInputSchema = z.object({
  projectId: z.uuid(),
  email: emailSchema,
  role: memberRoleSchema,
});
export const removeMemberInputSchema = z.object({ projectId: z.uuid(), userId: z.uuid() });
export const listMembersInputSchema = z.object({ projectId: z.uuid() });

export const projectMemberSchema = z.object({
  userId: z.uuid(),
  name: z.string(),
  email: z.string(),
  role: z.enum(['owner', ...PROJECT_MEMBER_ROLES]),
});
export type ProjectMember = z.infer<typeof projectMemberSchema>;

export const presenceInputSchema = z.object({
  projectId: z.uuid(),
  /** Where the caller's playhead is (seconds). */
  playheadSec: z.number().min(0).max(LIMITS.TIMELINE_MAX_SEC),
});

export const liveInputSchema = z.object({ projectId: z.uuid() });

export const presenceUserSchema = z.object({
  userId: z.uuid(),
  name: z.string(),
  playheadSec: z.number(),
  /** ms since the epoch of the last heartbeat. */
  at: z.number(),
});
export type PresenceUser = z.infer<typeof presenceUserSchema>;

/** A heartbeat older than this drops its user from the presence list. */
export const PRESENCE_TTL_MS = 30_000;

export const projectEventSchema = z.discriminatedUnion('type', [
  /** The project was written (arrangement, settings, members): reload it at `version`. */
  z.object({ type: z.literal('changed'), projectId: z.uuid(), version: z.number().int(), by: z.uuid().nullable() }),
  z.object({ type: z.literal('presence'), projectId: z.uuid(), users: z.array(presenceUserSchema) }),
  z.object({
    type: z.literal('mixdown'),
    projectId: z.uuid(),
    mixdownId: z.uuid(),
    status: generationStatusSchema,
    progress: z.number().int(),
  }),
]);
export type ProjectEvent = z.infer<typeof projectEventSchema>;

/** The Redis pub/sub channel of a project's live events. */
export function projectEventsChannel(prefix: string, projectId: string): string {
  return `${prefix}:project:${projectId}:events`;
}

/** The Redis hash of a project's presence (field = user id, value = PresenceUser JSON). */
export function projectPresenceKey(prefix: string, projectId: string): string {
  return `${prefix}:project:${projectId}:presence`;
}

// ---- Automatic mix: the plan ----------------------------------------------------------------------------------------

export interface AutoMixLaneInput {
  id: string;
  gainDb: number;
  mute: boolean;
  solo: boolean;
}

export interface AutoMixClipInput {
  laneId: string;
  trackId: string;
  lengthSec: number;
}

export interface AutoMixPlan {
  lanes: { laneId: string; measuredLufs: number | null; gainDbBefore: number; gainDbAfter: number }[];
  /** One `updateLane` per lane whose gain changes: applied as one arrangement edit (one undo step). */
  ops: { type: 'updateLane'; laneId: string; gainDb: number }[];
}

/**
 * Balances the audible lanes to equal loudness so that together they reach `targetLufs`. A lane's loudness at unity
 * gain is the energy average of its clips' tracks (integrated loudness, weighted by clip length); N lanes of equal
 * loudness L sum (as uncorrelated signals) to L + 10·log10(N), so each lane aims at target − 10·log10(N). Gains are
 * rounded to 0.1 dB and kept within the fader's range; lanes without measured audio are left alone.
 */
export function planAutoMix(
  lanes: readonly AutoMixLaneInput[],
  clips: readonly AutoMixClipInput[],
  trackLoudness: ReadonlyMap<string, number | null>,
  targetLufs: number = AUTO_MIX_TARGET_LUFS,
): AutoMixPlan {
  const anySolo = lanes.some((l) => l.solo);
  const measured = new Map<string, number>();
  for (const lane of lanes) {
    if (anySolo ? !lane.solo : lane.mute) continue;
    let energy = 0;
    let seconds = 0;
    for (const clip of clips) {
      if (clip.laneId !== lane.id) continue;
      const lufs = trackLoudness.get(clip.trackId);
      if (lufs === null || lufs === undefined || !Number.isFinite(lufs)) continue;
      energy += 10 ** (lufs / 10) * clip.lengthSec;
      seconds += clip.lengthSec;
    }
    if (seconds > 0 && energy > 0) measured.set(lane.id, 10 * Math.log10(energy / seconds));
  }
  const perLane = targetLufs - 10 * Math.log10(Math.max(1, measured.size));
  const plan: AutoMixPlan = { lanes: [], ops: [] };
  for (const lane of lanes) {
    const lufs = measured.get(lane.id);
    if (lufs === undefined) {
      plan.lanes.push({ laneId: lane.id, measuredLufs: null, gainDbBefore: lane.gainDb, gainDbAfter: lane.gainDb });
      continue;
    }
    const wanted = Math.round((perLane - lufs) * 10) / 10;
    const gainDb = Math.max(LIMITS.GAIN_DB_MIN + 0.1, Math.min(LIMITS.GAIN_DB_MAX, wanted));
    plan.lanes.push({ laneId: lane.id, measuredLufs: lufs, gainDbBefore: lane.gainDb, gainDbAfter: gainDb });
    if (gainDb !== lane.gainDb) plan.ops.push({ type: 'updateLane', laneId: lane.id, gainDb });
  }
  return plan;
}
