/**
 * Runs a worker app as a process: start, log where it listens, and turn SIGTERM/SIGINT into a graceful close followed
 * by exit 0 (1 if the close itself failed). Shared by src/main.ts and the test fixtures that register other jobs.
 */
import type { Logger } from 'pino';
import type { WorkerApp } from './app';

export async function runWorker(
  app: WorkerApp,
  { logger, shutdownTimeoutMs }: { logger: Logger; shutdownTimeoutMs: number },
): Promise<void> {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'worker stopping');
    // Last resort if close() itself hangs (e.g. Redis gone mid-shutdown): the orchestrator would SIGKILL anyway.
    setTimeout(() => {
      logger.error('graceful shutdown took too long; exiting');
      process.exit(1);
    }, shutdownTimeoutMs + 15_000).unref();
    app.close(shutdownTimeoutMs).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'worker close failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  try {
    await app.start();
  } catch (err) {
    logger.fatal({ err }, 'worker failed to start');
    await app.close(0).catch(() => undefined);
    process.exit(1);
  }
  logger.info({ url: app.url() }, 'worker listening');
}
