/**
 * S3 writes of a generation: each object is recorded in `uploaded` before its PUT starts, so a failure can delete
 * everything the attempt may have written (a PUT that failed half-way included).
 */
import { createReadStream } from 'node:fs';
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export const CONTENT_TYPES = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  peaks: 'application/json',
} as const;

export async function putObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Buffer,
  contentType: string,
  uploaded: string[],
  signal?: AbortSignal,
): Promise<void> {
  uploaded.push(key);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ContentLength: body.byteLength,
      // Keys are deterministic per generation: a re-run overwrites; the audio never changes under a key once done.
      CacheControl: 'private, max-age=31536000, immutable',
    }),
    { abortSignal: signal },
  );
}

/**
 * putObject for a file, streamed from disk (a 5-minute WAV is ~53 MB) rather than read into memory, as the mixdown
 * job uploads its files. A PUT that fails fails the attempt; the job's retry redoes it.
 */
export async function putFile(
  s3: S3Client,
  bucket: string,
  key: string,
  file: { path: string; byteLength: number },
  contentType: string,
  uploaded: string[],
  signal?: AbortSignal,
): Promise<void> {
  uploaded.push(key);
  const body = createReadStream(file.path);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentLength: file.byteLength,
        CacheControl: 'private, max-age=31536000, immutable',
      }),
      { abortSignal: signal },
    );
  } finally {
    body.destroy();
  }
}

/** Deletes the keys (at most 1,000 per request, S3's limit); returns the keys that could not be deleted. */
export async function deleteObjects(s3: S3Client, bucket: string, keys: readonly string[]): Promise<string[]> {
  const failed: string[] = [];
  const unique = [...new Set(keys)];
  for (let i = 0; i < unique.length; i += 1000) {
    const batch = unique.slice(i, i + 1000);
    try {
      const result = await s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      for (const e of result.Errors ?? []) if (e.Key) failed.push(e.Key);
    } catch {
      failed.push(...batch);
    }
  }
  return failed;
}
