/**
 * Process entry of the api: validate the environment, listen, and shut down gracefully on SIGTERM/SIGINT
 * (Railway sends SIGTERM on deploy; in-flight requests finish within SHUTDOWN_TIMEOUT_MS).
 */
import { apiEnvSchema, EnvError, parseEnv, type ApiEnv } from '@dawg/shared';
import { buildServer } from './server';

function loadEnv(): ApiEnv {
  try {
    return parseEnv(apiEnvSchema);
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`dawg-ai api: cannot start.\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

async function main(): Promise<void> {
  const env = loadEnv();
  const server = await buildServer({ env, logger: true });
  const log = server.app.log;

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, 'second signal, exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Last resort if something hangs past the graceful deadline.
    setTimeout(() => {
      log.error('shutdown did not finish, exiting');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS + 5_000).unref();
    server.close().then(
      () => {
        log.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  const url = await server.listen();
  log.info({ url }, 'api listening');
}

main().catch((err: unknown) => {
  process.stderr.write(
    `dawg-ai api: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
