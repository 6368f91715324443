/**
 * The worker's structured logger (pino, JSON lines on stdout).
 */
import { pino, type Logger } from 'pino';
import type { WorkerEnv } from '@dawg/shared';

export function createLogger(env: Pick<WorkerEnv, 'LOG_LEVEL'>): Logger {
  return pino({ level: env.LOG_LEVEL, base: { service: 'worker', pid: process.pid } });
}
