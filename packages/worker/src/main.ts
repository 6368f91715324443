/**
 * Worker process entry: validates the environment, builds the job registry, starts consuming, and on SIGTERM/SIGINT
 * closes gracefully (running jobs finish or go back to the queue) and exits 0.
 */
import { EnvError, parseEnv, workerEnvSchema } from '@dawg/shared';
import { createWorkerApp } from './app';
import { jobs, registryOptions } from './jobs';
import { createLogger } from './logger';
import { createJobRegistry } from './registry';
import { runWorker } from './run';

function loadEnv() {
  try {
    return parseEnv(workerEnvSchema);
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`worker: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

const env = loadEnv();
const logger = createLogger(env);
const registry = createJobRegistry(jobs, registryOptions);
await runWorker(createWorkerApp({ env, jobs: registry, logger }), {
  logger,
  shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
});
