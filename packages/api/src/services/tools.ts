/**
 * The ONE registry of functions the AI producer (and the voice assistant) may call. Each tool has a zod schema for
 * its arguments (sent to the model as JSON Schema, and parsed again before the tool runs) and calls the same service
 * functions as the tRPC procedures, as the calling user: a tool aimed at someone else's project fails exactly as the
 * procedure would (NOT_FOUND for a stranger, FORBIDDEN for a viewer), and the model is told so.
 *
 * Adding a tool is a one-file change: append a `defineTool({ name, description, params, run })` to TOOLS below.
 * `creates: true` puts it under FEATURE_CHAT_TO_CREATE; `paid: true` means its result must state the estimated cost
 * (`estimatedCostMicro` and `estimatedCost`). `/api/voice/health` reports `toolRegistrySize()` as functions_cached.
 */
import { deleteMemoriesMatching, upsertMemory, type Database } from '@dawg/db';
import {
  AppError,
  type ApiEnv,
  createGenerationInputSchema,
  extendGenerationInputSchema,
  formatUsd,
  GENERATION_LIMITS,
  genreSchema,
  isAppError,
  isTerminalStatus,
  LIMITS,
  memoryContentSchema,
  memoryKeySchema,
  musicalKeySchema,
  pitchClassSchema,
  type ArrangementOp,
  type GenerationView,
  type ProjectState,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Caller, createGeneration, getGeneration } from './generation';
import { extendGeneration } from './generation-control';
import type { GenerationQueue } from './generation-queue';
import type { Storage } from './generation-view';
import { listTracks } from './library';
import type { ProgressHub } from './progress-hub';
import { applyArrangement, createProject, getProject, updateProject } from './studio';
import type { TrackDeletionQueue } from './track-deletion-queue';
import type { StudioIo } from './studio-io-deps';
import { autoMix, requestMixdown } from './studio-io';

/** What a tool may use: the api's dependencies, nothing of the request. */
export interface ToolDeps {
  db: Kysely<Database>;
  env: ApiEnv;
  log: FastifyBaseLogger;
  storage: Storage;
  generationQueue: GenerationQueue;
  progress: ProgressHub;
  trackDeletion: TrackDeletionQueue;
  /** Mixdowns and the live project channel; without it the mixing tools say they are unavailable. */
  studioIo?: StudioIo;
}

export interface ToolContext {
  deps: ToolDeps;
  /** The user the turn belongs to: every tool acts with their permissions. */
  caller: Caller;
  conversationId: string | null;
  /** The conversation's project: the default of every `projectId`. */
  projectId: string | null;
  /** The provider's id of this call (unique): the idempotency key of what the call creates. */
  toolCallId: string;
  signal: AbortSignal;
}

export interface Tool<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  params: S;
  /** Makes something (a generation, a project, a lane): off when FEATURE_CHAT_TO_CREATE is false. */
  creates?: boolean;
  /** Spends money: the result states `estimatedCostMicro` and `estimatedCost`. */
  paid?: boolean;
  run(ctx: ToolContext, input: z.output<S>): Promise<Record<string, unknown>>;
}

export function defineTool<S extends z.ZodType>(tool: Tool<S>): Tool {
  return tool as unknown as Tool;
}

// ---- Helpers ------------------------------------------------------------------------------------------------------

const projectIdParam = z
  .uuid()
  .optional()
  .describe('The project to act on; defaults to the project this conversation belongs to');
const laneParam = z.string().trim().min(1).max(100).describe('The lane: its id or its name (e.g. "drums")');

function projectOf(ctx: ToolContext, projectId: string | undefined): string {
  const id = projectId ?? ctx.projectId;
  if (!id) {
    throw new AppError('BAD_REQUEST', 'No project: open a project or pass projectId', {
      details: [{ path: ['projectId'], message: 'required outside a project' }],
    });
  }
  return id;
}

const studio = (ctx: ToolContext) => ({ db: ctx.deps.db, log: ctx.deps.log });

/** A lane by id, exact name, then unique partial name (case-insensitive). */
export function findLane(state: ProjectState, lane: string): ProjectState['lanes'][number] {
  const wanted = lane.trim().toLowerCase();
  const byId = state.lanes.find((l) => l.id === lane);
  if (byId) return byId;
  const exact = state.lanes.filter((l) => l.name.toLowerCase() === wanted);
  if (exact.length === 1) return exact[0]!;
  const partial = state.lanes.filter(
    (l) => l.name.toLowerCase().includes(wanted) || wanted.includes(l.name.toLowerCase()),
  );
  if (exact.length === 0 && partial.length === 1) return partial[0]!;
  const names = state.lanes.map((l) => `"${l.name}"`).join(', ') || 'none';
  if (exact.length > 1 || partial.length > 1) {
    throw new AppError('BAD_REQUEST', `Several lanes match "${lane}"; use the lane id. Lanes: ${names}`);
  }
  throw new AppError('NOT_FOUND', `No lane called "${lane}" in this project. Lanes: ${names}`);
}

const EDIT_ATTEMPTS = 3;

/** Reads the project and applies the ops built from it; a concurrent edit (CONFLICT) is retried on the new state. */
async function editProject(
  ctx: ToolContext,
  projectId: string,
  build: (state: ProjectState) => ArrangementOp[],
): Promise<ProjectState> {
  for (let attempt = 1; ; attempt++) {
    const state = await getProject(studio(ctx), ctx.caller.id, projectId);
    if (state.role === 'viewer') throw new AppError('FORBIDDEN', 'Viewers cannot edit this project');
    try {
      return await applyArrangement(studio(ctx), ctx.caller.id, {
        projectId,
        expectedVersion: state.project.version,
        ops: build(state),
      });
    } catch (err) {
      if (!(isAppError(err) && err.code === 'CONFLICT') || attempt >= EDIT_ATTEMPTS) throw err;
    }
  }
}

async function updateSettings(
  ctx: ToolContext,
  projectId: string,
  patch: { bpm?: number; key?: z.infer<typeof musicalKeySchema> | null },
): Promise<ProjectState> {
  for (let attempt = 1; ; attempt++) {
    const state = await getProject(studio(ctx), ctx.caller.id, projectId);
    try {
      return await updateProject(studio(ctx), ctx.caller.id, {
        id: projectId,
        expectedVersion: state.project.version,
        ...patch,
      });
    } catch (err) {
      if (!(isAppError(err) && err.code === 'CONFLICT') || attempt >= EDIT_ATTEMPTS) throw err;
    }
  }
}

function laneSummary(state: ProjectState) {
  return state.lanes.map((l) => ({
    id: l.id,
    name: l.name,
    gainDb: l.gainDb,
    pan: l.pan,
    mute: l.mute,
    solo: l.solo,
    clips: state.clips.filter((c) => c.laneId === l.id).length,
  }));
}

function generationSummary(view: GenerationView) {
  return {
    generationId: view.id,
    status: view.status,
    stage: view.stage,
    progress: view.progress,
    projectId: view.projectId,
    error: view.error,
    estimatedCostMicro: view.estimatedCostMicro,
    estimatedCost: formatUsd(view.estimatedCostMicro),
    actualCostMicro: view.actualCostMicro,
    tracks: view.tracks.map((t) => ({ trackId: t.id, title: t.title, durationSec: t.durationSec })),
  };
}

/** Waits (through the process's stream reader) until the generation ends, the signal fires or the time is up. */
async function waitForGeneration(ctx: ToolContext, id: string, timeoutMs: number): Promise<GenerationView> {
  const deps = ctx.deps;
  let wake: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribe = await deps.progress.subscribe(id, (entry) => {
    if (isTerminalStatus(entry.event.status)) wake();
  });
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => wake();
  try {
    const view = await getGeneration(deps, ctx.caller.id, id);
    if (isTerminalStatus(view.status)) return view;
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(wake, timeoutMs);
    await ended;
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    unsubscribe();
  }
  if (ctx.signal.aborted) throw new AppError('SERVICE_UNAVAILABLE', 'Stopped while waiting for the generation');
  return getGeneration(deps, ctx.caller.id, id);
}

// ---- The tools ----------------------------------------------------------------------------------------------------

export const TOOLS: readonly Tool[] = [
  defineTool({
    name: 'generate_music',
    description:
      'Start generating a song or beat from a description. Returns at once with the generation id, the estimated ' +
      'time and the estimated cost; progress shows live in the studio. Costs money with paid music providers.',
    creates: true,
    paid: true,
    params: z.object({
      prompt: z.string().trim().min(LIMITS.PROMPT_MIN_CHARS).max(LIMITS.PROMPT_MAX_CHARS).describe('What to make'),
      duration: z
        .number()
        .min(LIMITS.DURATION_MIN_SEC)
        .max(LIMITS.DURATION_MAX_SEC)
        .optional()
        .describe('Length in seconds (default 30)'),
      genre: genreSchema.optional(),
      bpm: z.number().int().min(LIMITS.BPM_MIN).max(LIMITS.BPM_MAX).optional(),
      key: pitchClassSchema.optional(),
      instrumental: z.boolean().optional().describe('No vocals (default true)'),
      projectId: projectIdParam,
    }),
    async run(ctx, input) {
      const projectId = input.projectId ?? ctx.projectId ?? undefined;
      const request = createGenerationInputSchema.parse({
        mode: 'simple',
        prompt: input.prompt,
        duration: input.duration ?? 30,
        instrumental: input.instrumental ?? true,
        ...(input.genre ? { genre: input.genre } : {}),
        ...(input.bpm ? { bpm: input.bpm } : {}),
        ...(input.key ? { key: input.key } : {}),
        ...(projectId ? { projectId } : {}),
        idempotencyKey: `chat:${ctx.toolCallId}`.slice(0, GENERATION_LIMITS.IDEMPOTENCY_KEY_MAX_CHARS),
      });
      const created = await createGeneration(ctx.deps, ctx.caller, request);
      const view = await getGeneration(ctx.deps, ctx.caller.id, created.jobId);
      return { ...generationSummary(view), estimatedTimeSec: created.estimatedTime };
    },
  }),

  defineTool({
    name: 'extend_track',
    description:
      "Continue one of the user's generated tracks from a point in seconds (snapped to the nearest bar line). " +
      'Returns at once with the new generation id, the estimated time and the estimated cost.',
    creates: true,
    paid: true,
    params: z.object({
      trackId: z.uuid(),
      continueAt: z.number().min(0).max(LIMITS.DURATION_MAX_SEC).describe('Where to continue from, in seconds'),
      prompt: z
        .string()
        .trim()
        .min(1)
        .max(LIMITS.PROMPT_MAX_CHARS)
        .optional()
        .describe('Direction for the continuation'),
      duration: z.number().min(LIMITS.DURATION_MIN_SEC).max(LIMITS.DURATION_MAX_SEC).optional(),
      projectId: projectIdParam,
    }),
    async run(ctx, input) {
      const projectId = input.projectId ?? ctx.projectId ?? undefined;
      const request = extendGenerationInputSchema.parse({
        trackId: input.trackId,
        continueAt: input.continueAt,
        ...(input.prompt ? { prompt: input.prompt } : {}),
        ...(input.duration ? { duration: input.duration } : {}),
        ...(projectId ? { projectId } : {}),
        idempotencyKey: `chat:${ctx.toolCallId}`.slice(0, GENERATION_LIMITS.IDEMPOTENCY_KEY_MAX_CHARS),
      });
      const created = await extendGeneration(ctx.deps, ctx.caller, request);
      const view = await getGeneration(ctx.deps, ctx.caller.id, created.jobId);
      return { ...generationSummary(view), estimatedTimeSec: created.estimatedTime };
    },
  }),

  defineTool({
    name: 'get_generation_status',
    description:
      'The status, stage and tracks of a generation. With wait=true, waits until it has finished (at most ' +
      'waitSeconds, default 300) before answering.',
    params: z.object({
      generationId: z.uuid(),
      wait: z.boolean().optional(),
      waitSeconds: z.number().int().min(1).max(600).optional(),
    }),
    async run(ctx, input) {
      const view = input.wait
        ? await waitForGeneration(ctx, input.generationId, (input.waitSeconds ?? 300) * 1000)
        : await getGeneration(ctx.deps, ctx.caller.id, input.generationId);
      return generationSummary(view);
    },
  }),

  defineTool({
    name: 'list_tracks',
    description: "The user's tracks (newest first), optionally those of a project or matching a search.",
    params: z.object({
      projectId: z.uuid().optional(),
      search: z.string().trim().max(200).optional(),
      limit: z.number().int().min(1).max(20).optional(),
    }),
    async run(ctx, input) {
      const { items } = await listTracks(
        { db: ctx.deps.db, log: ctx.deps.log, storage: ctx.deps.storage, trackDeletion: ctx.deps.trackDeletion },
        ctx.caller.id,
        {
          limit: input.limit ?? 10,
          ...(input.projectId ? { projectId: input.projectId } : {}),
          ...(input.search ? { search: input.search } : {}),
        },
      );
      return {
        tracks: items.map((t) => ({
          trackId: t.id,
          title: t.title,
          status: t.status,
          durationSec: t.durationSec,
          bpm: t.bpm,
          key: t.key,
          source: t.source,
        })),
      };
    },
  }),

  defineTool({
    name: 'get_project',
    description: "A project's settings (tempo, key, metre) and its lanes with their ids, levels and clip counts.",
    params: z.object({ projectId: projectIdParam }),
    async run(ctx, input) {
      const state = await getProject(studio(ctx), ctx.caller.id, projectOf(ctx, input.projectId));
      const { project } = state;
      return {
        projectId: project.id,
        name: project.name,
        bpm: project.bpm,
        key: project.key,
        timeSignature: project.timeSignature,
        lanes: laneSummary(state),
      };
    },
  }),

  defineTool({
    name: 'create_project',
    description: 'Create a new project (a multitrack arrangement) owned by the user.',
    creates: true,
    params: z.object({
      name: z.string().trim().min(1).max(LIMITS.PROJECT_NAME_MAX_CHARS),
      bpm: z.number().min(LIMITS.BPM_MIN).max(LIMITS.BPM_MAX).optional(),
      key: musicalKeySchema.optional(),
    }),
    async run(ctx, input) {
      const state = await createProject(studio(ctx), ctx.caller.id, {
        name: input.name,
        ...(input.bpm ? { bpm: input.bpm } : {}),
        ...(input.key ? { key: input.key } : {}),
      });
      return { projectId: state.project.id, name: state.project.name, bpm: state.project.bpm, key: state.project.key };
    },
  }),

  defineTool({
    name: 'set_tempo',
    description: "Set the project's tempo in beats per minute.",
    params: z.object({ bpm: z.number().min(LIMITS.BPM_MIN).max(LIMITS.BPM_MAX), projectId: projectIdParam }),
    async run(ctx, input) {
      const state = await updateSettings(ctx, projectOf(ctx, input.projectId), { bpm: input.bpm });
      return { projectId: state.project.id, bpm: state.project.bpm };
    },
  }),

  defineTool({
    name: 'set_key',
    description: 'Set the project\'s musical key, e.g. "A minor" or "F# major"; null clears it.',
    params: z.object({ key: musicalKeySchema.nullable(), projectId: projectIdParam }),
    async run(ctx, input) {
      const state = await updateSettings(ctx, projectOf(ctx, input.projectId), { key: input.key });
      return { projectId: state.project.id, key: state.project.key };
    },
  }),

  defineTool({
    name: 'add_lane',
    description: 'Add a lane (a track row of the arrangement) to the project.',
    creates: true,
    params: z.object({
      name: z.string().trim().min(1).max(LIMITS.LANE_NAME_MAX_CHARS),
      projectId: projectIdParam,
    }),
    async run(ctx, input) {
      const projectId = projectOf(ctx, input.projectId);
      const laneId = randomUUID();
      await editProject(ctx, projectId, () => [{ type: 'addLane', lane: { id: laneId, name: input.name } }]);
      return { projectId, laneId, name: input.name };
    },
  }),

  defineTool({
    name: 'place_clip',
    description:
      'Place a track on a lane at a time on the timeline. Give trackId, or generationId to place the first track a ' +
      'finished generation made.',
    creates: true,
    params: z
      .object({
        lane: laneParam,
        trackId: z.uuid().optional(),
        generationId: z.uuid().optional(),
        startSec: z.number().min(0).max(LIMITS.TIMELINE_MAX_SEC).optional().describe('Default 0'),
        projectId: projectIdParam,
      })
      .refine((v) => Boolean(v.trackId) !== Boolean(v.generationId), {
        message: 'Give either trackId or generationId',
        path: ['trackId'],
      }),
    async run(ctx, input) {
      const projectId = projectOf(ctx, input.projectId);
      let trackId = input.trackId;
      if (!trackId) {
        const view = await getGeneration(ctx.deps, ctx.caller.id, input.generationId!);
        if (view.status !== 'succeeded' || !view.tracks[0]) {
          throw new AppError('CONFLICT', `The generation has no track yet (it is ${view.status})`);
        }
        trackId = view.tracks[0].id;
      }
      const clipId = randomUUID();
      let laneId = '';
      let laneName = '';
      await editProject(ctx, projectId, (state) => {
        const lane = findLane(state, input.lane);
        laneId = lane.id;
        laneName = lane.name;
        return [{ type: 'addClip', clip: { id: clipId, laneId, trackId, startSec: input.startSec ?? 0 } }];
      });
      return { projectId, laneId, lane: laneName, clipId, trackId, startSec: input.startSec ?? 0 };
    },
  }),

  defineTool({
    name: 'set_lane_gain',
    description: "Set a lane's volume in dB (0 = unchanged, negative is quieter).",
    params: z.object({
      lane: laneParam,
      gainDb: z.number().min(LIMITS.GAIN_DB_MIN).max(LIMITS.GAIN_DB_MAX),
      projectId: projectIdParam,
    }),
    async run(ctx, input) {
      return laneUpdate(ctx, input.projectId, input.lane, { gainDb: input.gainDb });
    },
  }),

  defineTool({
    name: 'set_lane_pan',
    description: "Set a lane's stereo position from -1 (left) to 1 (right).",
    params: z.object({
      lane: laneParam,
      pan: z.number().min(LIMITS.PAN_MIN).max(LIMITS.PAN_MAX),
      projectId: projectIdParam,
    }),
    async run(ctx, input) {
      return laneUpdate(ctx, input.projectId, input.lane, { pan: input.pan });
    },
  }),

  defineTool({
    name: 'mute_lane',
    description: 'Mute a lane (mute=false unmutes it).',
    params: z.object({ lane: laneParam, mute: z.boolean().optional(), projectId: projectIdParam }),
    async run(ctx, input) {
      return laneUpdate(ctx, input.projectId, input.lane, { mute: input.mute ?? true });
    },
  }),

  defineTool({
    name: 'solo_lane',
    description: 'Solo a lane (solo=false un-solos it).',
    params: z.object({ lane: laneParam, solo: z.boolean().optional(), projectId: projectIdParam }),
    async run(ctx, input) {
      return laneUpdate(ctx, input.projectId, input.lane, { solo: input.solo ?? true });
    },
  }),

  defineTool({
    name: 'remember_preference',
    description:
      'Remember something the user asked you to remember or confirmed (a taste, a habit, a default). With a key, ' +
      'it replaces what was remembered under that key.',
    params: z.object({ content: memoryContentSchema, key: memoryKeySchema.optional() }),
    async run(ctx, input) {
      const row = await upsertMemory(ctx.deps.db, {
        userId: ctx.caller.id,
        key: input.key ?? null,
        content: input.content,
        sourceConversationId: ctx.conversationId,
      });
      return { memoryId: row.id, key: row.key, content: row.content };
    },
  }),

  defineTool({
    name: 'forget_preference',
    description: 'Forget what was remembered: by key, or every memory containing the text.',
    params: z
      .object({ key: memoryKeySchema.optional(), text: z.string().trim().min(2).max(200).optional() })
      .refine((v) => Boolean(v.key) || Boolean(v.text), { message: 'Give a key or a text', path: ['key'] }),
    async run(ctx, input) {
      const removed = await deleteMemoriesMatching(ctx.deps.db, ctx.caller.id, input);
      return { forgotten: removed.map((m) => ({ memoryId: m.id, key: m.key, content: m.content })) };
    },
  }),

  defineTool({
    name: 'mixdown_project',
    description:
      'Render the project (clips, fades, faders, pans, mute/solo) to a WAV and an MP3, optionally with stems (one ' +
      'WAV per lane, zipped). Rendering runs in the background; the studio shows its progress and the download.',
    creates: true,
    params: z.object({
      stems: z.boolean().optional().describe('Also export one file per lane'),
      projectId: projectIdParam,
    }),
    async run(ctx, input) {
      const io = ctx.deps.studioIo;
      if (!io) throw new AppError('SERVICE_UNAVAILABLE', 'Mixdowns are not available here');
      const view = await requestMixdown(
        { db: ctx.deps.db, log: ctx.deps.log, env: ctx.deps.env, storage: ctx.deps.storage, io },
        ctx.caller.id,
        { projectId: projectOf(ctx, input.projectId), stems: input.stems ?? false },
      );
      return { mixdownId: view.id, projectId: view.projectId, status: view.status, stems: view.stems };
    },
  }),

  defineTool({
    name: 'auto_mix',
    description:
      'Balance the audible lanes to equal loudness so the whole mix reaches a target (default -14 LUFS), by ' +
      "setting each lane's fader. One ordinary edit: the user can undo it.",
    params: z.object({
      targetLufs: z.number().min(-30).max(-6).optional().describe('Integrated loudness of the whole mix'),
      projectId: projectIdParam,
    }),
    async run(ctx, input) {
      const io = ctx.deps.studioIo;
      if (!io) throw new AppError('SERVICE_UNAVAILABLE', 'Mixing is not available here');
      const projectId = projectOf(ctx, input.projectId);
      const deps = { db: ctx.deps.db, log: ctx.deps.log, env: ctx.deps.env, storage: ctx.deps.storage, io };
      for (let attempt = 1; ; attempt++) {
        const state = await getProject(studio(ctx), ctx.caller.id, projectId);
        try {
          const result = await autoMix(deps, ctx.caller.id, {
            projectId,
            expectedVersion: state.project.version,
            ...(input.targetLufs !== undefined ? { targetLufs: input.targetLufs } : {}),
          });
          const names = new Map(result.state.lanes.map((l) => [l.id, l.name]));
          return {
            projectId,
            targetLufs: result.targetLufs,
            changed: result.changed,
            lanes: result.lanes.map((l) => ({ lane: names.get(l.laneId) ?? l.laneId, ...l })),
          };
        } catch (err) {
          if (!(isAppError(err) && err.code === 'CONFLICT') || attempt >= EDIT_ATTEMPTS) throw err;
        }
      }
    },
  }),
];

async function laneUpdate(
  ctx: ToolContext,
  projectIdInput: string | undefined,
  laneRef: string,
  patch: { gainDb?: number; pan?: number; mute?: boolean; solo?: boolean },
) {
  const projectId = projectOf(ctx, projectIdInput);
  let laneId = '';
  const state = await editProject(ctx, projectId, (current) => {
    laneId = findLane(current, laneRef).id;
    return [{ type: 'updateLane', laneId, ...patch }];
  });
  const lane = state.lanes.find((l) => l.id === laneId)!;
  return { projectId, laneId, lane: lane.name, gainDb: lane.gainDb, pan: lane.pan, mute: lane.mute, solo: lane.solo };
}

// ---- The registry as the providers see it -------------------------------------------------------------------------

/** The registry as the model providers expect it. */
export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON Schema of the arguments (an object schema). */
  parameters: Record<string, unknown>;
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}

const BY_NAME = new Map(TOOLS.map((t) => [t.name, t]));

export const toolRegistry: ToolDefinition[] = TOOLS.map((t) => ({
  name: t.name,
  description: t.description,
  parameters: jsonSchemaOf(t.params),
}));

export function toolRegistrySize(): number {
  return toolRegistry.length;
}

/** The tools a turn may use under the current flags (FEATURE_CHAT_TO_CREATE off: nothing that creates). */
export function availableTools(env: Pick<ApiEnv, 'FEATURE_CHAT_TO_CREATE'>): ToolDefinition[] {
  return toolRegistry.filter((d) => env.FEATURE_CHAT_TO_CREATE || !BY_NAME.get(d.name)?.creates);
}

export type ToolOutcome =
  { ok: true; result: Record<string, unknown> } | { ok: false; error: { code: string; message: string } };

/** Runs one tool call; every failure becomes an outcome the model can read (never a thrown error). */
export async function runTool(ctx: ToolContext, name: string, input: unknown): Promise<ToolOutcome> {
  const tool = BY_NAME.get(name);
  if (!tool) return { ok: false, error: { code: 'NOT_FOUND', message: `There is no tool called ${name}` } };
  if (tool.creates && !ctx.deps.env.FEATURE_CHAT_TO_CREATE) {
    return { ok: false, error: { code: 'FORBIDDEN', message: 'Creating from chat is turned off on this server' } };
  }
  const parsed = tool.params.safeParse(input ?? {});
  if (!parsed.success) {
    const message = parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
    return { ok: false, error: { code: 'BAD_REQUEST', message: `Invalid arguments: ${message}` } };
  }
  try {
    return { ok: true, result: await tool.run(ctx, parsed.data) };
  } catch (err) {
    if (isAppError(err)) return { ok: false, error: { code: err.code, message: err.message } };
    if (err instanceof z.ZodError) {
      const message = err.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ');
      return { ok: false, error: { code: 'BAD_REQUEST', message: `Invalid arguments: ${message}` } };
    }
    ctx.deps.log.error({ err, tool: name }, 'tool failed');
    return { ok: false, error: { code: 'INTERNAL_SERVER_ERROR', message: `${name} failed unexpectedly` } };
  }
}
