/**
 * Provider latency and errors for the worker's metrics: `resolveProvider` wraps every music provider so each
 * `generate` call is timed and its outcome counted (ok, error, aborted) by the observer the worker app installs.
 * Without an observer (unit tests of providers) the wrapper only passes the call through.
 */
import type { GenerateOptions, MusicProvider, MusicRequest, ProviderClip } from './types';

export type ProviderOutcome = 'ok' | 'error' | 'aborted';
export type ProviderObserver = (provider: string, operation: string, outcome: ProviderOutcome, seconds: number) => void;

let observer: ProviderObserver | undefined;

/** Installs the process's observer; the returned function removes it (if it is still the installed one). */
export function setProviderObserver(fn: ProviderObserver): () => void {
  observer = fn;
  return () => {
    if (observer === fn) observer = undefined;
  };
}

export function observed(provider: MusicProvider): MusicProvider {
  const wrapped: MusicProvider = Object.create(provider) as MusicProvider;
  Object.defineProperty(wrapped, 'generate', {
    value: async (req: MusicRequest, opts: GenerateOptions): Promise<ProviderClip[]> => {
      const started = performance.now();
      const seconds = () => (performance.now() - started) / 1000;
      try {
        const clips = await provider.generate(req, opts);
        observer?.(provider.id, 'generate', 'ok', seconds());
        return clips;
      } catch (err) {
        observer?.(provider.id, 'generate', opts.signal.aborted ? 'aborted' : 'error', seconds());
        throw err;
      }
    },
  });
  return wrapped;
}
