/** `system.version`: what is deployed. */
import { SERVICE_NAME, VERSION } from '../version';
import { publicProcedure, router } from '../trpc';

export const systemRouter = router({
  version: publicProcedure.query(() => ({ service: SERVICE_NAME, version: VERSION })),
});
