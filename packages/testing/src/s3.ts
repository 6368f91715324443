/**
 * An S3-protocol server for tests (s3rver on a loopback port 0, files in a temp directory), with the bucket created
 * and CORS open for browser uploads, plus an S3 client configured the way such servers need.
 */
import type { Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

export interface S3ServerHandle {
  /** Base URL, e.g. http://127.0.0.1:41234 (path-style: the bucket goes in the path). */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** The temp directory holding the objects (removed by stop()). */
  directory: string;
  stop(): Promise<void>;
}

export interface S3ConnectionOptions {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Dev/test CORS: any origin may GET/PUT/POST/HEAD (presigned uploads from the browser, audio fetches). */
export const OPEN_CORS_XML = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

export async function startS3Server({ bucket = 'dawg-test' }: { bucket?: string } = {}): Promise<S3ServerHandle> {
  const directory = await mkdtemp(path.join(tmpdir(), 'dawg-s3-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [OPEN_CORS_XML] }],
  });
  const address = await server.run();
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    directory,
    async stop() {
      if (stopped) return;
      stopped = true;
      // Clients keep sockets alive; without this close() waits for them to time out.
      (server as unknown as { httpServer?: Server }).httpServer?.closeAllConnections();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * An S3 client for an S3-compatible endpoint. Checksums only when required: the SDK's default (CRC32 trailers on
 * streamed bodies) makes s3rver store the aws-chunked framing as part of the object.
 */
export function createS3Client(opts: S3ConnectionOptions): S3Client {
  return new S3Client({
    endpoint: opts.endpoint,
    region: opts.region,
    credentials: { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
