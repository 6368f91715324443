/**
 * `track.*`: the library (list with filters and paging, get), rename, delete (owner only) and presigned URLs for
 * playback and download. Thin: each procedure calls the library service.
 */
import {
  completeUploadInputSchema,
  createUploadInputSchema,
  createUploadOutputSchema,
  deleteTrackOutputSchema,
  renameTrackInputSchema,
  trackIdInputSchema,
  trackListInputSchema,
  trackListOutputSchema,
  trackSchema,
  trackUrlsInputSchema,
  trackUrlsOutputSchema,
} from '@dawg/shared';
import { deleteTrack, getTrack, listTracks, renameTrack, trackUrls, type LibraryDeps } from '../services/library';
import { uploadDeps } from '../rest/uploads';
import { completeUpload, createUpload } from '../services/uploads';
import { protectedProcedure, router, type Context } from '../trpc';

export function libraryDeps(ctx: Context): LibraryDeps {
  return {
    db: ctx.db,
    log: ctx.log,
    storage: { s3: ctx.s3, bucket: ctx.env.AWS_S3_BUCKET },
    trackDeletion: ctx.trackDeletion,
  };
}

export const trackRouter = router({
  list: protectedProcedure
    .input(trackListInputSchema)
    .output(trackListOutputSchema)
    .query(({ ctx, input }) => listTracks(libraryDeps(ctx), ctx.user.id, input)),

  get: protectedProcedure
    .input(trackIdInputSchema)
    .output(trackSchema)
    .query(({ ctx, input }) => getTrack(libraryDeps(ctx), ctx.user.id, input.id)),

  rename: protectedProcedure
    .input(renameTrackInputSchema)
    .output(trackSchema)
    .mutation(({ ctx, input }) => renameTrack(libraryDeps(ctx), ctx.user.id, input.id, input.title)),

  delete: protectedProcedure
    .input(trackIdInputSchema)
    .output(deleteTrackOutputSchema)
    .mutation(({ ctx, input }) => deleteTrack(libraryDeps(ctx), ctx.user.id, input.id)),

  urls: protectedProcedure
    .input(trackUrlsInputSchema)
    .output(trackUrlsOutputSchema)
    .query(({ ctx, input }) => trackUrls(libraryDeps(ctx), ctx.user.id, input.id, input.download ?? false)),

  /** A presigned POST for one audio file (≤ 50 MB, ten minutes) and the `pending` track it will become. */
  createUpload: protectedProcedure
    .input(createUploadInputSchema)
    .output(createUploadOutputSchema)
    .mutation(({ ctx, input }) => createUpload(uploadDeps(ctx, ctx.log), ctx.user.id, input)),

  /** After the POST: the object is re-checked (size, type, audio signature) and handed to analysis. */
  completeUpload: protectedProcedure
    .input(completeUploadInputSchema)
    .output(trackSchema)
    .mutation(({ ctx, input }) => completeUpload(uploadDeps(ctx, ctx.log), ctx.user.id, input.trackId)),
});
