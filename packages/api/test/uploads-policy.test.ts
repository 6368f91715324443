/**
 * The presigned POST policy we sign (the test bucket does not enforce policies, so the policy itself is checked here):
 * decoded, it pins the bucket, the key under the user's uploads prefix, the declared audio type, a 1 B–50 MB
 * content-length-range and an expiry of at most ten minutes; the signature is SigV4's over the encoded policy. And the
 * audio signature check that completeUpload and the REST upload apply to the first bytes.
 */
import { createHmac } from 'node:crypto';
import { parseEnv, apiEnvSchema, UPLOAD_LIMITS } from '@dawg/shared';
import { testEnv } from '@dawg/testing';
import { describe, expect, it } from 'vitest';
import { sniffAudio } from '../src/services/audio-sniff';
import { createPresignedPost, signingKey } from '../src/services/post-policy';
import { createUpload, titleOf, uploadKey, type UploadDeps } from '../src/services/uploads';

const USER = '7d0f4c1e-2b4a-4e0c-9a57-0c1d2e3f4a5b';

function fakeDeps(): { deps: UploadDeps; inserted: unknown[] } {
  const env = parseEnv(apiEnvSchema, testEnv({}, { S3_ENDPOINT: 'http://127.0.0.1:4569', AWS_REGION: 'us-east-1' }));
  const inserted: unknown[] = [];
  const chain: Record<string, unknown> = {};
  for (const m of ['select', 'where']) chain[m] = () => chain;
  chain.executeTakeFirstOrThrow = async () => ({ n: 0 });
  const db = {
    selectFrom: () => chain,
    insertInto: () => ({ values: (v: unknown) => ({ execute: async () => void inserted.push(v) }) }),
  };
  const deps = {
    db,
    env,
    log: console,
    storage: { s3: {}, bucket: env.AWS_S3_BUCKET },
    analyze: async () => undefined,
    library: {},
  } as unknown as UploadDeps;
  return { deps, inserted };
}

describe('presigned POST policy', () => {
  it('pins bucket, key prefix, type, size range and a short expiry, and signs the policy with SigV4', async () => {
    const { deps, inserted } = fakeDeps();
    const before = Date.now();
    const post = await createUpload(deps, USER, { fileName: 'My Song.wav', contentType: 'audio/wav', sizeBytes: 1234 });
    const policy = JSON.parse(Buffer.from(post.fields.Policy!, 'base64').toString('utf8')) as {
      expiration: string;
      conditions: unknown[];
    };
    const key = `users/${USER}/uploads/${post.trackId}/original.wav`;
    expect(post.fields.key).toBe(key);
    expect(post.url).toBe(`http://127.0.0.1:4569/${deps.storage.bucket}`);
    expect(policy.conditions).toContainEqual({ bucket: deps.storage.bucket });
    expect(policy.conditions).toContainEqual({ key });
    expect(policy.conditions).toContainEqual({ 'Content-Type': 'audio/wav' });
    expect(policy.conditions).toContainEqual(['content-length-range', 1, UPLOAD_LIMITS.MAX_BYTES]);
    expect(UPLOAD_LIMITS.MAX_BYTES).toBe(50 * 1024 * 1024);
    const expiresInMs = Date.parse(policy.expiration) - before;
    expect(expiresInMs).toBeGreaterThan(0);
    expect(expiresInMs).toBeLessThanOrEqual(10 * 60 * 1000 + 1000);
    // No condition lets the browser choose another key or type.
    expect(JSON.stringify(policy.conditions)).not.toContain('starts-with');

    const date = post.fields['X-Amz-Date']!.slice(0, 8);
    expect(post.fields['X-Amz-Credential']).toBe(`${deps.env.AWS_ACCESS_KEY_ID}/${date}/us-east-1/s3/aws4_request`);
    const expected = createHmac('sha256', signingKey(deps.env.AWS_SECRET_ACCESS_KEY, date, 'us-east-1'))
      .update(post.fields.Policy!)
      .digest('hex');
    expect(post.fields['X-Amz-Signature']).toBe(expected);
    expect(inserted).toHaveLength(1);
    expect(inserted[0]).toMatchObject({ owner_id: USER, source: 'uploaded', status: 'pending', title: 'My Song' });
  });

  it('posts to the virtual-hosted bucket URL on AWS (no S3_ENDPOINT)', () => {
    const post = createPresignedPost(
      { accessKeyId: 'AKID', secretAccessKey: 'secret', region: 'eu-west-1' },
      { bucket: 'b', key: 'k', contentType: 'audio/mpeg', minBytes: 1, maxBytes: 5, expiresInSec: 60 },
    );
    expect(post.url).toBe('https://b.s3.eu-west-1.amazonaws.com');
    expect(signingKey('secret', '20261125', 'eu-west-1')).toHaveLength(32);
  });

  it('keys and titles', () => {
    expect(uploadKey(USER, 'x', 'audio/mpeg')).toBe(`users/${USER}/uploads/x/original.mp3`);
    expect(titleOf('C:\\music\\take 3.final.flac')).toBe('take 3.final');
    expect(titleOf('.mp3')).toBe('Upload');
  });
});

describe('audio signatures', () => {
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

  it('recognises the accepted formats', () => {
    expect(sniffAudio(bytes('RIFF', [0, 0, 0, 0], 'WAVEfmt '))).toBe('wav');
    expect(sniffAudio(bytes('ID3', [4, 0, 0, 0, 0, 0, 0, 0]))).toBe('mp3');
    expect(sniffAudio(bytes([0xff, 0xfb, 0x90, 0x64]))).toBe('mp3');
    expect(sniffAudio(bytes([0xff, 0xf1, 0x50, 0x80]))).toBe('aac');
    expect(sniffAudio(bytes('fLaC', [0, 0, 0, 34]))).toBe('flac');
    expect(sniffAudio(bytes('OggS', [0, 2]))).toBe('ogg');
    expect(sniffAudio(bytes([0, 0, 0, 32], 'ftypM4A '))).toBe('m4a');
    expect(sniffAudio(bytes('FORM', [0, 0, 0, 0], 'AIFF'))).toBe('aiff');
  });

  it('refuses text, images and empty files', () => {
    expect(sniffAudio(bytes('hello, these are lyrics'))).toBeNull();
    expect(sniffAudio(bytes([0x89], 'PNG\r\n\x1a\n'))).toBeNull();
    expect(sniffAudio(bytes('RIFF', [0, 0, 0, 0], 'AVI '))).toBeNull();
    expect(sniffAudio(bytes([]))).toBeNull();
  });
});
