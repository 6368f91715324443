/**
 * `project.*`: list, create, get, update (settings, with the expected version) and delete (owner only). Thin: each
 * procedure calls the studio service.
 */
import {
  autoMixInputSchema,
  autoMixOutputSchema,
  createProjectInputSchema,
  getMixdownInputSchema,
  inviteMemberInputSchema,
  listMembersInputSchema,
  listMixdownsInputSchema,
  liveInputSchema,
  mixdownInputSchema,
  mixdownViewSchema,
  presenceInputSchema,
  presenceUserSchema,
  projectMemberSchema,
  removeMemberInputSchema,
  deleteProjectOutputSchema,
  projectIdInputSchema,
  projectListItemSchema,
  projectStateSchema,
  updateProjectInputSchema,
} from '@dawg/shared';
import { z } from 'zod';
import {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  updateProject,
  type StudioDeps,
} from '../services/studio';
import {
  autoMix,
  getMixdown,
  heartbeat,
  inviteMember,
  listMembers,
  listMixdowns,
  liveProject,
  removeMember,
  requestMixdown,
  type StudioIoDeps,
} from '../services/studio-io';
import { protectedProcedure, router, type Context } from '../trpc';

export function studioDeps(ctx: Context): StudioDeps {
  return { db: ctx.db, log: ctx.log, events: ctx.studioIo.projects };
}

export function studioIoDeps(ctx: Context): StudioIoDeps {
  return {
    db: ctx.db,
    log: ctx.log,
    env: ctx.env,
    storage: { s3: ctx.s3, bucket: ctx.env.AWS_S3_BUCKET },
    io: ctx.studioIo,
  };
}

export const projectRouter = router({
  list: protectedProcedure
    .output(z.array(projectListItemSchema))
    .query(({ ctx }) => listProjects(studioDeps(ctx), ctx.user.id)),

  create: protectedProcedure
    .input(createProjectInputSchema)
    .output(projectStateSchema)
    .mutation(({ ctx, input }) => createProject(studioDeps(ctx), ctx.user.id, input)),

  get: protectedProcedure
    .input(projectIdInputSchema)
    .output(projectStateSchema)
    .query(({ ctx, input }) => getProject(studioDeps(ctx), ctx.user.id, input.id)),

  update: protectedProcedure
    .input(updateProjectInputSchema)
    .output(projectStateSchema)
    .mutation(({ ctx, input }) => updateProject(studioDeps(ctx), ctx.user.id, input)),

  delete: protectedProcedure
    .input(projectIdInputSchema)
    .output(deleteProjectOutputSchema)
    .mutation(({ ctx, input }) => deleteProject(studioDeps(ctx), ctx.user.id, input.id)),

  /** Render the arrangement to WAV + MP3 (and stems when asked) in the worker; progress on `project.live`. */
  mixdown: protectedProcedure
    .input(mixdownInputSchema)
    .output(mixdownViewSchema)
    .mutation(({ ctx, input }) => requestMixdown(studioIoDeps(ctx), ctx.user.id, input)),

  getMixdown: protectedProcedure
    .input(getMixdownInputSchema)
    .output(mixdownViewSchema)
    .query(({ ctx, input }) => getMixdown(studioIoDeps(ctx), ctx.user.id, input.id)),

  listMixdowns: protectedProcedure
    .input(listMixdownsInputSchema)
    .output(z.array(mixdownViewSchema))
    .query(({ ctx, input }) => listMixdowns(studioIoDeps(ctx), ctx.user.id, input.projectId)),

  /** Balance the lanes to −14 LUFS together (FEATURE_AI_MIXING): one ordinary, undoable arrangement edit. */
  autoMix: protectedProcedure
    .input(autoMixInputSchema)
    .output(autoMixOutputSchema)
    .mutation(({ ctx, input }) => autoMix(studioIoDeps(ctx), ctx.user.id, input)),

  members: protectedProcedure
    .input(listMembersInputSchema)
    .output(z.array(projectMemberSchema))
    .query(({ ctx, input }) => listMembers(studioIoDeps(ctx), ctx.user.id, input.projectId)),

  /** Owner only (FEATURE_COLLABORATION): a registered user by email, as editor or viewer (again = change role). */
  invite: protectedProcedure
    .input(inviteMemberInputSchema)
    .output(z.array(projectMemberSchema))
    .mutation(({ ctx, input }) => inviteMember(studioIoDeps(ctx), ctx.user.id, input)),

  /** The owner removes a member; a member may remove themselves. */
  removeMember: protectedProcedure
    .input(removeMemberInputSchema)
    .output(z.array(projectMemberSchema))
    .mutation(({ ctx, input }) => removeMember(studioIoDeps(ctx), ctx.user.id, input)),

  /** "I am here, my playhead is there": a heartbeat, not a change of the project (viewers send it too). */
  presence: protectedProcedure
    .input(presenceInputSchema)
    .output(z.array(presenceUserSchema))
    .mutation(({ ctx, input }) => heartbeat(studioIoDeps(ctx), ctx.user, input)),

  /** Live events of the project from every api instance: changes, presence, mixdown progress. */
  live: protectedProcedure.input(liveInputSchema).subscription(async function* ({ ctx, input, signal }) {
    yield* liveProject(studioIoDeps(ctx), ctx.user, input.projectId, signal ?? new AbortController().signal);
  }),
});
