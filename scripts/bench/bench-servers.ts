/**
 * Child process of the benchmarks: hosts the servers under test, so the load generator (autocannon, in the parent)
 * and the server each get their own core and event loop. Starts a bare Fastify (no plugins) with a hello route and
 * our api (`buildServer` from @dawg/api, every plugin and hook it has), prints their URLs as one JSON line, and exits
 * on SIGTERM.
 *
 * The api gets the environment the parent passes (DATABASE_URL, REDIS_URL, ... or the dev defaults); the procedures
 * benchmarked do no I/O, so only its start-up touches Redis.
 */
import { buildServer } from '@dawg/api/server';
import { SERVICE_NAME, VERSION } from '@dawg/api/version';
import { apiEnvSchema, parseEnv } from '@dawg/shared/env';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';

/** What the hello route and `system.version` both answer, so the two servers serialise the same payload. */
const HELLO = { service: SERVICE_NAME, version: VERSION };

async function main(): Promise<void> {
  const bare = Fastify({ logger: false });
  bare.get('/hello', async () => HELLO);
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}`;

  const env = parseEnv(apiEnvSchema, {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    // Load from one address must not be throttled: the benchmark measures the stack, not the limiter's verdict.
    RATE_LIMIT_MAX: '1000000000',
    WHITELISTED_IPS: '127.0.0.1',
    ENABLE_METRICS: 'true',
  });
  const api = await buildServer({ env, logger: false });
  const apiUrl = await api.listen();

  process.stdout.write(`${JSON.stringify({ bareUrl, apiUrl })}\n`);

  const stop = () => {
    void Promise.allSettled([bare.close(), api.close()]).then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench servers failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
