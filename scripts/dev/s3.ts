/**
 * Embedded S3-compatible server for `pnpm dev`: s3rver on loopback, objects as files under a data directory, the
 * app's bucket created with CORS rules so the browser can PUT presigned uploads and GET audio cross-origin.
 * Clients use path-style addressing and the S3RVER/S3RVER credentials (s3rver verifies signatures against them).
 */
import { mkdir } from 'node:fs/promises';
import S3rver from 's3rver';

export interface EmbeddedS3Options {
  directory: string;
  bucket: string;
  /** 0 (default) lets the OS pick a free port. */
  port?: number;
  host?: string;
  /** Origins the browser may call from; '*' when omitted (loopback-only dev server). */
  corsOrigins?: readonly string[];
}

export interface EmbeddedS3 {
  /** http://host:port, for S3_ENDPOINT. */
  endpoint: string;
  port: number;
  bucket: string;
  stop(): Promise<void>;
}

/** The CORS document of the bucket; ETag is exposed because multipart uploads from the browser need it. */
export function corsConfiguration(origins: readonly string[]): string {
  const allowed = origins.length > 0 ? origins : ['*'];
  return [
    '<CORSConfiguration>',
    '  <CORSRule>',
    ...allowed.map((o) => `    <AllowedOrigin>${o}</AllowedOrigin>`),
    ...['GET', 'HEAD', 'PUT', 'POST', 'DELETE'].map((m) => `    <AllowedMethod>${m}</AllowedMethod>`),
    '    <AllowedHeader>*</AllowedHeader>',
    '    <ExposeHeader>ETag</ExposeHeader>',
    '    <MaxAgeSeconds>3000</MaxAgeSeconds>',
    '  </CORSRule>',
    '</CORSConfiguration>',
  ].join('\n');
}

export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: host,
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    configureBuckets: [{ name: options.bucket, configs: [corsConfiguration(options.corsOrigins ?? [])] }],
  });
  const address = await server.run();
  let stopping: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${address.port}`,
    port: address.port,
    bucket: options.bucket,
    stop: () => (stopping ??= server.close()),
  };
}
