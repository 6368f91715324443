/**
 * The worker's S3 client (the audio bucket). Same settings as the api's: path-style and checksums only when required
 * for S3-compatible servers, bounded connect and request times so a hung upload fails the attempt instead of the job
 * lock.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { WorkerEnv } from '@dawg/shared';

export function createS3(env: WorkerEnv): S3Client {
  return new S3Client({
    region: env.AWS_REGION,
    ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT, forcePathStyle: true } : {}),
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 2_000, requestTimeout: 60_000 },
  });
}
