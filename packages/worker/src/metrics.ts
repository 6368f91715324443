/**
 * Prometheus metrics of one worker app instance (its own Registry, so two apps in one test process do not collide):
 * job durations by job name and outcome, the seed's `generation_jobs_total`, active jobs and Node's default metrics.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** completed: handler returned; failed: handler threw (BullMQ may retry); returned: handed back at shutdown. */
export type JobOutcome = 'completed' | 'failed' | 'returned';

export interface WorkerMetrics {
  registry: Registry;
  observeJob(name: string, outcome: JobOutcome, seconds: number): void;
  /** A call to an external provider (same series as the api's: provider_request_duration_seconds, provider_errors_total). */
  observeProvider(provider: string, operation: string, outcome: 'ok' | 'error' | 'aborted', seconds: number): void;
  activeJobs: Gauge;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'worker' });
  collectDefaultMetrics({ register: registry });

  const duration = new Histogram({
    name: 'worker_job_duration_seconds',
    help: 'Time from a job being taken to its handler settling, by job name and outcome',
    labelNames: ['name', 'outcome'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers: [registry],
  });
  // Name and labels from the seed's monitoring section (status success|failure, type = the job's name).
  const total = new Counter({
    name: 'generation_jobs_total',
    help: 'Jobs run by the worker, by outcome (success|failure) and type (job name)',
    labelNames: ['status', 'type'] as const,
    registers: [registry],
  });
  const activeJobs = new Gauge({
    name: 'worker_active_jobs',
    help: 'Jobs currently being processed by this worker',
    registers: [registry],
  });

  const providerDuration = new Histogram({
    name: 'provider_request_duration_seconds',
    help: 'Duration of calls to external providers, by provider, operation and outcome',
    labelNames: ['provider', 'operation', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
    registers: [registry],
  });
  const providerErrors = new Counter({
    name: 'provider_errors_total',
    help: 'Failed calls to external providers, by provider and operation',
    labelNames: ['provider', 'operation'] as const,
    registers: [registry],
  });

  return {
    registry,
    activeJobs,
    observeProvider(provider, operation, outcome, seconds) {
      providerDuration.observe({ provider, operation, outcome }, seconds);
      if (outcome === 'error') providerErrors.inc({ provider, operation });
    },
    observeJob(name, outcome, seconds) {
      duration.observe({ name, outcome }, seconds);
      if (outcome !== 'returned') total.inc({ status: outcome === 'completed' ? 'success' : 'failure', type: name });
    },
  };
}
