/** `apiKeys.*`: a user's API keys (create shows the key once). Managed from a session only, never with a key. */
import {
  apiKeyCreatedSchema,
  apiKeyCreateInputSchema,
  apiKeyInfoSchema,
  apiKeyRevokeInputSchema,
  successSchema,
} from '@dawg/shared';
import { z } from 'zod';
import * as apiKeys from '../services/api-keys';
import { callMeta } from '../services/audit';
import { router, sessionProcedure } from '../trpc';
import { refuseDemoAccount } from '../services/demo';

export const apiKeysRouter = router({
  list: sessionProcedure.output(z.array(apiKeyInfoSchema)).query(({ ctx }) => apiKeys.listKeys(ctx, ctx.user.id)),

  create: sessionProcedure
    .input(apiKeyCreateInputSchema)
    .output(apiKeyCreatedSchema)
    .mutation(({ ctx, input }) => {
      refuseDemoAccount(ctx.user, 'API keys');
      return apiKeys.createKey(ctx, ctx.user.id, input.name, callMeta(ctx.req));
    }),

  revoke: sessionProcedure
    .input(apiKeyRevokeInputSchema)
    .output(successSchema)
    .mutation(async ({ ctx, input }) => {
      await apiKeys.revokeKey(ctx, ctx.user.id, input.id, callMeta(ctx.req));
      return { success: true as const };
    }),
});
