/** The root tRPC router: one sub-router per domain (files in `routers/`). */
import { adminRouter } from './routers/admin';
import { apiKeysRouter } from './routers/api-keys';
import { arrangementRouter } from './routers/arrangement';
import { billingRouter } from './routers/billing';
import { authRouter } from './routers/auth';
import { chatRouter } from './routers/chat';
import { demoRouter } from './routers/demo';
import { generationRouter } from './routers/generation';
import { healthRouter } from './routers/health';
import { notificationRouter } from './routers/notification';
import { projectRouter } from './routers/project';
import { systemRouter } from './routers/system';
import { trackRouter } from './routers/track';
import { usageRouter } from './routers/usage';
import { userBudgetRouter } from './routers/user-budget';
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
  chat: chatRouter,
  billing: billingRouter,
  usage: usageRouter,
  userBudget: userBudgetRouter,
  notification: notificationRouter,
  demo: demoRouter,
});

export type AppRouter = typeof appRouter;
