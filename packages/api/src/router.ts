/** The root tRPC router: one sub-router per domain (files in `routers/`). */
import { adminRouter } from './routers/admin';
import { apiKeysRouter } from './routers/api-keys';
import { arrangementRouter } from './routers/arrangement';
import { authRouter } from './routers/auth';
import { generationRouter } from './routers/generation';
import { healthRouter } from './routers/health';
import { projectRouter } from './routers/project';
import { systemRouter } from './routers/system';
import { trackRouter } from './routers/track';
import { router } from './trpc';

export const appRouter = router({
  health: healthRouter,
  auth: authRouter,
  apiKeys: apiKeysRouter,
  admin: adminRouter,
  generation: generationRouter,
  project: projectRouter,
  arrangement: arrangementRouter,
  track: trackRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
