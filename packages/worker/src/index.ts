/**
 * @dawg/worker: job definitions, the worker app (BullMQ consumers + /health + /metrics) and job defaults for
 * producers.
 */
export * from './app';
export * from './job-options';
export * from './jobs';
export * from './metrics';
export * from './redis';
export * from './registry';
export { runWorker } from './run';
export { createLogger } from './logger';
