/**
 * `purge-expired-demo-accounts` (maintenance, every 10 minutes): demo mode's ephemeral accounts that were not kept
 * are removed once they expire, with their S3 objects, the way a closed account is (`removeAccount`). Each account is
 * first claimed (disabled, only while it is still an expired ephemeral account), so one kept at the last moment is
 * left alone; normal accounts are never listed. Idempotent: a second run finds nothing, an interrupted one is
 * finished by the next (a claimed account stays listed until it is gone).
 */
import { claimExpiredEphemeralUser, invalidateUserSessions, listExpiredEphemeralUsers } from '@dawg/db';
import { JOB_NAMES, maintenanceJobSchema, QUEUE_NAMES } from '@dawg/shared';
import { defineJob } from '../registry';
import { removeAccount } from './delete-account';

const SWEEP_BATCH = 100;

export const purgeExpiredDemoAccounts = defineJob({
  name: JOB_NAMES.purgeExpiredDemoAccounts,
  queue: QUEUE_NAMES.maintenance,
  schema: maintenanceJobSchema,
  schedule: { everyMs: 10 * 60_000, data: {} },
  handler: async (_data, ctx) => {
    const now = new Date();
    const expired = await listExpiredEphemeralUsers(ctx.db, now, SWEEP_BATCH);
    let removed = 0;
    let objects = 0;
    for (const userId of expired) {
      if (ctx.signal.aborted) break;
      if (!(await claimExpiredEphemeralUser(ctx.db, userId, now))) continue;
      await invalidateUserSessions(ctx.db, userId);
      const result = await removeAccount(ctx, userId);
      if (result.userDeleted) removed++;
      objects += result.objectsDeleted;
    }
    if (removed > 0) ctx.log.info({ removed, objects }, 'expired demo accounts removed');
    return { removed, objectsDeleted: objects };
  },
});
