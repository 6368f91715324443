import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client, startS3Server, type S3ServerHandle } from '../src/s3';

let s3: S3ServerHandle;

beforeAll(async () => {
  s3 = await startS3Server({ bucket: 'roundtrip-test' });
});

afterAll(async () => {
  await s3.stop();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('startS3Server', () => {
  it('stores a streamed upload byte for byte', async () => {
    const client = createS3Client(s3);
    // Several chunks of odd sizes, as a stream (the case where default SDK checksums corrupt objects).
    const chunks = [randomBytes(65_537), randomBytes(1), randomBytes(300_000), randomBytes(12_345)];
    const body = Buffer.concat(chunks);
    await client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: 'audio/take-1.wav',
        Body: Readable.from(chunks),
        ContentLength: body.length,
        ContentType: 'audio/wav',
      }),
    );

    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'audio/take-1.wav' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.ContentType).toBe('audio/wav');

    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'audio/take-1.wav' }));
    const bytes = await got.Body!.transformToByteArray();
    expect(bytes.length).toBe(body.length);
    expect(sha(bytes)).toBe(sha(body));
    client.destroy();
  });

  it('answers CORS preflights for browser uploads from any origin', async () => {
    const res = await fetch(`${s3.endpoint}/${s3.bucket}/uploads/x.wav`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://127.0.0.1:5173',
        'Access-Control-Request-Method': 'PUT',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toMatch(/^(\*|http:\/\/127\.0\.0\.1:5173)$/);
    expect(res.headers.get('access-control-allow-methods')).toContain('PUT');
  });

  it('stop() closes the server and removes its files', async () => {
    const other = await startS3Server();
    const client = createS3Client(other);
    await client.send(new PutObjectCommand({ Bucket: other.bucket, Key: 'k', Body: 'v' }));
    client.destroy();
    await other.stop();
    expect(existsSync(other.directory)).toBe(false);
    await expect(fetch(`${other.endpoint}/${other.bucket}/k`)).rejects.toThrow();
  });
});
