/**
 * `arrangement.*`: applyOps (a list of operations as one undo step; tRPC reserves the name `apply`), undo, redo.
 * Each takes the project's expected version (CONFLICT when stale, nothing written) and answers the new ProjectState.
 */
import { applyArrangementInputSchema, projectStateSchema, undoRedoInputSchema } from '@dawg/shared';
import { applyArrangement, redoArrangement, undoArrangement } from '../services/studio';
import { protectedProcedure, router } from '../trpc';
import { studioDeps } from './project';

export const arrangementRouter = router({
  applyOps: protectedProcedure
    .input(applyArrangementInputSchema)
    .output(projectStateSchema)
    .mutation(({ ctx, input }) => applyArrangement(studioDeps(ctx), ctx.user.id, input)),

  undo: protectedProcedure
    .input(undoRedoInputSchema)
    .output(projectStateSchema)
    .mutation(({ ctx, input }) => undoArrangement(studioDeps(ctx), ctx.user.id, input)),

  redo: protectedProcedure
    .input(undoRedoInputSchema)
    .output(projectStateSchema)
    .mutation(({ ctx, input }) => redoArrangement(studioDeps(ctx), ctx.user.id, input)),
});
