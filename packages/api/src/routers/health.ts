/** `health.get` (the `/health` report over tRPC) and `health.live` (the same report pushed every second). */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkHealth } from '../services/health';
import { publicProcedure, router } from '../trpc';

export const HEALTH_LIVE_INTERVAL_MS = 1_000;

export const healthRouter = router({
  get: publicProcedure.query(({ ctx }) => checkHealth(ctx)),

  live: publicProcedure.subscription(async function* ({ ctx, signal }) {
    while (!signal?.aborted) {
      yield await checkHealth(ctx);
      try {
        await sleep(HEALTH_LIVE_INTERVAL_MS, undefined, { signal });
      } catch {
        // Aborted: the client unsubscribed or the connection closed.
        return;
      }
    }
  }),
});
