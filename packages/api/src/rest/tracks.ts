/**
 * REST `GET /api/tracks` (the seed's smoke test 4: "Fetch user tracks", 200 with a token): the caller's library, the
 * same service and filters as `track.list`, answered as `{ tracks, nextCursor }`.
 */
import { restTrackListOutputSchema, restTrackListQuerySchema } from '@dawg/shared';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps';
import { listTracks } from '../services/library';
import { defineRestRoute } from './define';
import { registerUploadRoutes } from './uploads';

export function registerTrackRoutes(app: FastifyInstance, deps: AppDeps): void {
  defineRestRoute(
    app,
    {
      method: 'GET',
      url: '/api/tracks',
      auth: 'user',
      query: restTrackListQuerySchema,
      response: restTrackListOutputSchema,
      summary: "List the caller's tracks",
      description:
        'Newest first. Filters: `source` (generated, uploaded, mixdown), `projectId` (tracks made for or used in a ' +
        "project you can open), `search` (title or prompt). Page with `limit` and the previous answer's `nextCursor`.",
      tags: ['tracks'],
      errors: { 404: 'No such project' },
    },
    async ({ query, user, request }) => {
      const library = {
        db: deps.db,
        log: request.log,
        storage: { s3: deps.s3, bucket: deps.env.AWS_S3_BUCKET },
        trackDeletion: deps.trackDeletion,
      };
      const page = await listTracks(library, user.id, query);
      return { tracks: page.items, nextCursor: page.nextCursor };
    },
  );
  registerUploadRoutes(app, deps);
}
