/**
 * An S3-protocol server in its own process for the benchmarks: in the benchmark's process its request parsing and
 * file writes would run on the event loop being measured. Prints its connection details as one JSON line; SIGTERM
 * stops it.
 */
import { startS3Server } from '@dawg/testing';

const server = await startS3Server();
const { endpoint, bucket, accessKeyId, secretAccessKey, region } = server;
process.stdout.write(`${JSON.stringify({ endpoint, bucket, accessKeyId, secretAccessKey, region })}\n`);
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
