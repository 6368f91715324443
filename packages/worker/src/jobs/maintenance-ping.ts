/**
 * `maintenance.ping`: a job that touches nothing and answers `{ pong: true }`. Lets an operator (or a smoke test)
 * prove the whole path producer → Redis → worker → result without side effects.
 */
import { QUEUE_NAMES } from '@dawg/shared';
import { z } from 'zod';
import { defineJob } from '../registry';

export const maintenancePing = defineJob({
  name: 'maintenance.ping',
  queue: QUEUE_NAMES.maintenance,
  schema: z.object({ note: z.string().max(200).optional() }).strict(),
  handler: () => ({ pong: true as const }),
});
