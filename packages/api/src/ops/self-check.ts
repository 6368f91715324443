/**
 * The periodic self-check of one api process: every SELF_CHECK_INTERVAL_MS it runs the health probes (Postgres,
 * Redis, S3), sets `dependency_up{dependency}`, counts failed probes in `dependency_check_failures_total` (the
 * "database connection failures > 3 in 5 minutes" rule reads it) and sends an alert when a dependency goes down
 * (critical, paged) and when it comes back (resolved, same dedup key). Checks never overlap.
 */
import type { AppDeps } from '../deps';
import type { ApiMetrics } from '../metrics';
import { checkHealth } from '../services/health';
import type { Notifier } from './notifier';

type Dependency = 'database' | 'redis' | 's3';
const DEPENDENCIES: readonly Dependency[] = ['database', 'redis', 's3'];

export interface SelfCheck {
  /** One check now (what the timer runs); resolves when its alerts were handed over. */
  runOnce(): Promise<Record<Dependency, boolean>>;
  stop(): void;
}

export function startSelfCheck(opts: {
  deps: Pick<AppDeps, 'db' | 'redis' | 's3' | 'env'>;
  metrics: ApiMetrics;
  notifier: Notifier;
  intervalMs: number;
}): SelfCheck {
  const { metrics, notifier } = opts;
  const last = new Map<Dependency, boolean>();
  let running: Promise<Record<Dependency, boolean>> | undefined;

  async function check(): Promise<Record<Dependency, boolean>> {
    const report = await checkHealth(opts.deps);
    const alerts: Promise<unknown>[] = [];
    for (const dep of DEPENDENCIES) {
      const up = report.connections[dep];
      metrics.dependencyUp.set({ dependency: dep }, up ? 1 : 0);
      if (!up) metrics.dependencyCheckFailuresTotal.inc({ dependency: dep });
      // Unknown counts as up: a process that starts with a dependency down alerts at its first check.
      const was = last.get(dep) ?? true;
      last.set(dep, up);
      if (was === up) continue;
      alerts.push(
        notifier.notify(
          up
            ? {
                level: 'info',
                resolved: true,
                title: `${dep} is reachable again`,
                message: `The api's self-check reaches ${dep} again.`,
                dedupKey: `self-check:${dep}`,
                details: { dependency: dep, pid: process.pid },
              }
            : {
                level: 'critical',
                title: `${dep} is unreachable`,
                message: `The api's self-check could not reach ${dep}; /health answers 503 (degraded).`,
                dedupKey: `self-check:${dep}`,
                details: { dependency: dep, pid: process.pid },
              },
        ),
      );
    }
    await Promise.all(alerts);
    return report.connections;
  }

  function runOnce(): Promise<Record<Dependency, boolean>> {
    running ??= check().finally(() => {
      running = undefined;
    });
    return running;
  }

  const timer =
    opts.intervalMs > 0
      ? setInterval(() => {
          void runOnce().catch(() => undefined);
        }, opts.intervalMs)
      : undefined;
  timer?.unref();
  return {
    runOnce,
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
