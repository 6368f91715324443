/**
 * `maintenance.delete-account`: removes a closed account for good. The api has already disabled it (no session, no
 * API key works) and enqueued this job; here its S3 objects go (everything under `users/<userId>/` plus any key its
 * rows point at), then its rows (one delete: every table cascades from users; audit rows keep a null user), then
 * the prefix is swept once more for objects an in-flight job wrote meanwhile. Idempotent: a retry or a second run
 * finds less to delete, and a user already gone is a success.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { deleteUser, listUserStorageKeys, userStoragePrefix } from '@dawg/db';
import { deleteAccountJobSchema, JOB_NAMES, QUEUE_NAMES } from '@dawg/shared';
import { defineJob, type JobContext } from '../registry';

/** DeleteObjects takes at most 1,000 keys per call. */
const DELETE_BATCH = 1_000;

async function listPrefix(s3: S3Client, bucket: string, prefix: string, signal: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }), {
      abortSignal: signal,
    });
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function deleteKeys(s3: S3Client, bucket: string, keys: readonly string[], signal: AbortSignal): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const result = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      { abortSignal: signal },
    );
    const failed = (result.Errors ?? []).map((e) => `${e.Key ?? '?'}: ${e.Code ?? e.Message ?? 'error'}`);
    // Rows are deleted only once their objects are: a failure here is retried with the account intact.
    if (failed.length > 0)
      throw new Error(`could not delete ${failed.length} object(s): ${failed.slice(0, 5).join(', ')}`);
  }
}

/**
 * Removes one account for good: its objects, its rows, then the objects written meanwhile. Shared with the demo
 * accounts' expiry job (`purge-expired-demo-accounts`).
 */
export async function removeAccount(
  { db, s3, env, log, signal }: Pick<JobContext, 'db' | 's3' | 'env' | 'log' | 'signal'>,
  userId: string,
): Promise<{ userDeleted: boolean; objectsDeleted: number }> {
  const bucket = env.AWS_S3_BUCKET;
  const prefix = userStoragePrefix(userId);
  const referenced = await listUserStorageKeys(db, userId);
  const underPrefix = await listPrefix(s3, bucket, prefix, signal);
  const keys = [...new Set([...underPrefix, ...referenced])];
  await deleteKeys(s3, bucket, keys, signal);
  const deleted = await deleteUser(db, userId);
  const stragglers = await listPrefix(s3, bucket, prefix, signal);
  await deleteKeys(s3, bucket, stragglers, signal);
  log.info({ userId, objects: keys.length + stragglers.length, rows: deleted }, 'account deleted');
  return { userDeleted: deleted, objectsDeleted: keys.length + stragglers.length };
}

export const deleteAccountJob = defineJob({
  name: JOB_NAMES.deleteAccount,
  queue: QUEUE_NAMES.maintenance,
  schema: deleteAccountJobSchema,
  handler: ({ userId }, ctx) => removeAccount(ctx, userId),
});
