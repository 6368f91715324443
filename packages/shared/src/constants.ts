/**
 * Domain constants shared by every layer: input limits (most from the seed's hardening section), roles, studio
 * (lane/clip) limits, accepted upload types, session lifetimes and feature-flag names. Pure data, safe in the browser.
 */

const MiB = 1024 * 1024;

export const LIMITS = {
  /** Seed section 6: `prompt: z.string().min(1).max(500)`. */
  PROMPT_MIN_CHARS: 1,
  PROMPT_MAX_CHARS: 500,
  /** Suno custom mode accepts 3,000–5,000 characters of lyrics depending on the model; we allow the larger. */
  LYRICS_MAX_CHARS: 5000,
  /** Seed section 6: `duration: z.number().min(5).max(300)` (seconds). */
  DURATION_MIN_SEC: 5,
  DURATION_MAX_SEC: 300,
  BPM_MIN: 40,
  BPM_MAX: 240,
  /** Seed 5.2: multer `fileSize: 50MB`, `files: 5`. */
  UPLOAD_MAX_BYTES: 50 * MiB,
  UPLOAD_MAX_FILES: 5,
  /** Seed 5.2: `express.json({ limit: '10mb' })`. */
  BODY_MAX_BYTES: 10 * MiB,
  /** Seed 5.1: `MAX_CONNECTIONS_PER_IP = 10` WebSockets. */
  WS_MAX_CONNECTIONS_PER_IP: 10,
  /** Seed 5.3: 408 after 30 s. */
  REQUEST_TIMEOUT_MS: 30_000,

  CHAT_MESSAGE_MAX_CHARS: 4000,
  PROJECT_NAME_MAX_CHARS: 100,
  TRACK_TITLE_MAX_CHARS: 200,
  LANE_NAME_MAX_CHARS: 60,
  USER_NAME_MAX_CHARS: 100,
  EMAIL_MAX_CHARS: 254,
  PASSWORD_MIN_CHARS: 8,
  /** Bounded so a hash of a huge password cannot be used to burn CPU. */
  PASSWORD_MAX_CHARS: 128,
  API_KEY_NAME_MAX_CHARS: 64,
  API_KEYS_PER_USER: 10,
  AI_MEMORY_MAX_CHARS: 1000,

  LANES_PER_PROJECT: 32,
  CLIPS_PER_LANE: 256,
  CLIPS_PER_PROJECT: 2000,
  /** Longest timeline position a clip may start at (one hour). */
  TIMELINE_MAX_SEC: 3600,
  GAIN_DB_MIN: -60,
  GAIN_DB_MAX: 12,
  PAN_MIN: -1,
  PAN_MAX: 1,
  MEMBERS_PER_PROJECT: 20,
} as const;

export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The owner is `projects.owner_id`; members are the others. */
export const PROJECT_MEMBER_ROLES = ['editor', 'viewer'] as const;
export type ProjectMemberRole = (typeof PROJECT_MEMBER_ROLES)[number];

export const TRACK_SOURCES = ['generated', 'uploaded', 'mixdown'] as const;
export type TrackSource = (typeof TRACK_SOURCES)[number];

/** pending: row made, audio not yet uploaded; processing: being analysed/transcoded; ready: playable. */
export const TRACK_STATUSES = ['pending', 'processing', 'ready', 'failed'] as const;
export type TrackStatus = (typeof TRACK_STATUSES)[number];

/** A budget hold is reserved money: settled into the ledger when the work succeeds, released when it does not. */
export const BUDGET_HOLD_STATUSES = ['active', 'settled', 'released'] as const;
export type BudgetHoldStatus = (typeof BUDGET_HOLD_STATUSES)[number];

export const MIXDOWN_FORMATS = ['wav', 'mp3'] as const;
export type MixdownFormat = (typeof MIXDOWN_FORMATS)[number];

export const NOTIFICATION_KINDS = [
  'budget_alert',
  'generation_succeeded',
  'generation_failed',
  'mixdown_ready',
  'billing',
  'system',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Audio types accepted for uploads (what ffmpeg on the worker decodes). */
export const AUDIO_MIME_TYPES = [
  'audio/mpeg',
  'audio/mp3',
  'audio/wav',
  'audio/x-wav',
  'audio/wave',
  'audio/flac',
  'audio/x-flac',
  'audio/ogg',
  'audio/aac',
  'audio/mp4',
  'audio/x-m4a',
  'audio/webm',
] as const;
export type AudioMimeType = (typeof AUDIO_MIME_TYPES)[number];

export const TIME_SIGNATURES = ['2/4', '3/4', '4/4', '5/4', '6/8', '7/8', '9/8', '12/8'] as const;
export type TimeSignature = (typeof TIME_SIGNATURES)[number];

export const PITCH_CLASSES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'] as const;
export const KEY_MODES = ['major', 'minor'] as const;
export type MusicalKey = `${(typeof PITCH_CLASSES)[number]} ${(typeof KEY_MODES)[number]}`;
export const MUSICAL_KEYS: readonly MusicalKey[] = PITCH_CLASSES.flatMap((p) =>
  KEY_MODES.map((m): MusicalKey => `${p} ${m}`),
);

/** Lane colours offered by the UI, in order of new lanes. */
export const LANE_COLORS = [
  '#f97316',
  '#22c55e',
  '#3b82f6',
  '#a855f7',
  '#ec4899',
  '#eab308',
  '#14b8a6',
  '#ef4444',
] as const;

/** Feature flags: the name the app uses → the env variable (seed 1.3) that switches it. */
export const FEATURE_FLAGS = {
  chatToCreate: 'FEATURE_CHAT_TO_CREATE',
  collaboration: 'FEATURE_COLLABORATION',
  aiMixing: 'FEATURE_AI_MIXING',
} as const;
export type FeatureFlag = keyof typeof FEATURE_FLAGS;

/** Lucia's session model: 30-day sliding expiry, extended when fewer than 15 days remain. */
export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const SESSION_RENEW_BEFORE_MS = 15 * 24 * 60 * 60 * 1000;
export const SESSION_COOKIE_NAME = 'dawg_session';

/** API keys are `dawg_` + random; the first characters are stored in clear to let a user tell keys apart. */
export const API_KEY_PREFIX = 'dawg_';
export const API_KEY_DISPLAY_PREFIX_CHARS = 12;
