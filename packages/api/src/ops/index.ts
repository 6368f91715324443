/**
 * Operations wiring of one api server: scrape-time collectors, the notifier (installed as the process's `notify()`),
 * the periodic self-check, the dashboard and the admin test endpoints. `buildServer` calls `registerOperations` once
 * and `close()` on shutdown.
 */
import { APP_ERROR_CODES, isAppError } from '@dawg/shared';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps';
import type { ApiMetrics } from '../metrics';
import { VERSION } from '../version';
import { createQueueInspector, registerCollectors } from './collectors';
import { createErrorReporter, type ErrorReporter, installErrorReporter } from './error-reporter';
import { createNotifier, installNotifier, type Notifier } from './notifier';
import { registerOpsRoutes } from './routes';
import { startSelfCheck, type SelfCheck } from './self-check';

/** Whether an error thrown by a route is a server fault worth reporting (not a client's 4xx). */
export function isServerFault(error: unknown): boolean {
  if (isAppError(error)) return APP_ERROR_CODES[error.code] >= 500;
  const status = (error as { statusCode?: unknown }).statusCode;
  return !(typeof status === 'number' && status < 500);
}

export interface Operations {
  notifier: Notifier;
  errors: ErrorReporter;
  selfCheck: SelfCheck;
  close(): Promise<void>;
}

export function registerOperations(app: FastifyInstance, deps: AppDeps, metrics: ApiMetrics): Operations {
  const queues = createQueueInspector(deps.env, app.log);
  if (metrics.enabled) registerCollectors(metrics.registry, { db: deps.db, queues, log: app.log });
  const notifier = createNotifier(deps.env, { log: app.log, metrics });
  const uninstall = installNotifier(notifier);
  const errors = createErrorReporter(deps.env, { service: 'api', release: VERSION });
  const uninstallErrors = installErrorReporter(errors);
  if (errors.enabled) {
    app.addHook('onError', (request, _reply, error, done) => {
      if (isServerFault(error)) {
        errors.capture(error, {
          tags: { requestId: request.id, method: request.method, route: request.routeOptions.url ?? 'not_found' },
        });
      }
      done();
    });
  }
  const selfCheck = startSelfCheck({ deps, metrics, notifier, intervalMs: deps.env.SELF_CHECK_INTERVAL_MS });
  registerOpsRoutes(app, deps, metrics, queues);
  return {
    notifier,
    errors,
    selfCheck,
    async close() {
      selfCheck.stop();
      uninstall();
      uninstallErrors();
      await errors.flush();
      notifier.close();
      await queues.close();
    },
  };
}
