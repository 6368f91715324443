/**
 * S3 presigned POST (browser-based upload) with a Signature Version 4 POST policy. The policy is the contract the
 * bucket enforces: exact bucket and key, exact Content-Type, a content-length-range and an expiry. Written here (a
 * page of HMAC) rather than with `@aws-sdk/s3-presigned-post`, which pins its own copy of the S3 client.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
 */
import { createHmac } from 'node:crypto';

export interface PostPolicyCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface PostPolicyInput {
  bucket: string;
  key: string;
  contentType: string;
  /** Inclusive byte bounds of the file. */
  minBytes: number;
  maxBytes: number;
  expiresInSec: number;
  /** S3_ENDPOINT (path-style), or unset for AWS (virtual-hosted). */
  endpoint?: string | undefined;
  now?: Date;
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
  expiresAt: Date;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** `YYYYMMDDTHHMMSSZ`. */
function amzDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

export function createPresignedPost(creds: PostPolicyCredentials, input: PostPolicyInput): PresignedPost {
  const now = input.now ?? new Date();
  const expiresAt = new Date(now.getTime() + input.expiresInSec * 1000);
  const stamp = amzDate(now);
  const date = stamp.slice(0, 8);
  const credential = `${creds.accessKeyId}/${date}/${creds.region}/s3/aws4_request`;
  const policy = {
    expiration: expiresAt.toISOString(),
    conditions: [
      { bucket: input.bucket },
      { key: input.key },
      { 'Content-Type': input.contentType },
      ['content-length-range', input.minBytes, input.maxBytes],
      { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' },
      { 'x-amz-credential': credential },
      { 'x-amz-date': stamp },
    ],
  };
  const encoded = Buffer.from(JSON.stringify(policy), 'utf8').toString('base64');
  const signature = createHmac('sha256', signingKey(creds.secretAccessKey, date, creds.region))
    .update(encoded, 'utf8')
    .digest('hex');
  const url = input.endpoint
    ? `${input.endpoint.replace(/\/+$/, '')}/${input.bucket}`
    : `https://${input.bucket}.s3.${creds.region}.amazonaws.com`;
  return {
    url,
    fields: {
      key: input.key,
      'Content-Type': input.contentType,
      Policy: encoded,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': credential,
      'X-Amz-Date': stamp,
      'X-Amz-Signature': signature,
    },
    expiresAt,
  };
}
