/**
 * Operations endpoints (seed post-deploy 5 and monitoring 6.1): inputs of the admin test endpoints.
 */
import { z } from 'zod';

/** `POST /api/test/{openai,anthropic,s3}`: the seed sends `{"test": true}`; the body may also be empty. */
export const opsTestInputSchema = z
  .object({
    test: z.boolean().optional(),
  })
  .strict()
  .optional();
export type OpsTestInput = z.infer<typeof opsTestInputSchema>;
