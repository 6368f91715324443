/**
 * `project.*`: list, create, get, update (settings, with the expected version) and delete (owner only). Thin: each
 * procedure calls the studio service.
 */
import {
  createProjectInputSchema,
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
import { protectedProcedure, router, type Context } from '../trpc';

export function studioDeps(ctx: Context): StudioDeps {
  return { db: ctx.db, log: ctx.log };
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
});
