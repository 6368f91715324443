/** The root tRPC router: one sub-router per domain (files in `routers/`). */
import { healthRouter } from './routers/health';
import { systemRouter } from './routers/system';
import { router } from './trpc';

export const appRouter = router({
  health: healthRouter,
  system: systemRouter,
});

export type AppRouter = typeof appRouter;
