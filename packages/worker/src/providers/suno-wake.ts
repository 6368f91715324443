/**
 * Suno callbacks as wake-ups: the api verifies a callback's signature and publishes the generation id on
 * sunoWakeChannel; the worker app hands it to `wakeSuno`, which ends the pause of the poll loop of that generation
 * (if this process runs it), so it polls `record-info` at once. The callback's body is never trusted as the result:
 * the poll is. A wake-up that arrives while the loop is polling is kept for its next pause, so none is lost.
 */

interface Watch {
  pending: boolean;
  waiter: (() => void) | undefined;
}

/** Generations whose task this process is polling. */
const watches = new Map<string, Watch>();

export function wakeSuno(generationId: string): void {
  const watch = watches.get(generationId);
  if (!watch) return;
  if (watch.waiter) watch.waiter();
  else watch.pending = true;
}

export interface SunoWatch {
  /** Resolves at the next wake-up (at once if one came since the last call), or when `signal` aborts. */
  next(signal: AbortSignal): Promise<void>;
  close(): void;
}

export function watchSuno(generationId: string): SunoWatch {
  const watch: Watch = { pending: false, waiter: undefined };
  watches.set(generationId, watch);
  return {
    next(signal) {
      return new Promise((resolve) => {
        if (watch.pending || signal.aborted) {
          watch.pending = false;
          resolve();
          return;
        }
        const done = () => {
          watch.waiter = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        watch.waiter = done;
        signal.addEventListener('abort', done, { once: true });
      });
    },
    close() {
      if (watches.get(generationId) === watch) watches.delete(generationId);
    },
  };
}
