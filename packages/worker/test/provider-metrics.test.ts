/**
 * Provider latency and errors in the worker's metrics: a provider resolved through `resolveProvider` is timed per
 * `generate` call and its outcome counted (ok, error, aborted), and passes its result or error through unchanged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerMetrics } from '../src/metrics';
import { resolveProvider } from '../src/providers';
import { setProviderObserver } from '../src/providers/observe';
import type { MusicProvider } from '../src/providers/types';

let uninstall: (() => void) | undefined;
afterEach(() => uninstall?.());

function fakeProvider(behaviour: 'ok' | 'fail'): MusicProvider {
  return {
    id: 'test',
    model: 'tone',
    async generate(_req, opts) {
      if (opts.signal.aborted) throw new Error('aborted');
      if (behaviour === 'fail') throw new Error('provider refused');
      return [];
    },
  };
}

const opts = (signal = new AbortController().signal) => ({ signal, onStage: async () => undefined });

describe('provider metrics', () => {
  it('times calls and counts outcomes through the installed observer', async () => {
    const metrics = createWorkerMetrics();
    uninstall = setProviderObserver((p, op, outcome, s) => metrics.observeProvider(p, op, outcome, s));
    const ok = resolveProvider('test', { test: () => fakeProvider('ok') });
    const failing = resolveProvider('test', { test: () => fakeProvider('fail') });
    expect(ok.id).toBe('test');
    expect(ok.model).toBe('tone');
    expect(await ok.generate({} as never, opts())).toEqual([]);
    await expect(failing.generate({} as never, opts())).rejects.toThrow('provider refused');
    const aborted = new AbortController();
    aborted.abort();
    await expect(ok.generate({} as never, opts(aborted.signal))).rejects.toThrow('aborted');

    const text = await metrics.registry.metrics();
    for (const outcome of ['ok', 'error', 'aborted']) {
      expect(text).toMatch(
        new RegExp(
          `provider_request_duration_seconds_count\\{[^}]*provider="test",operation="generate",outcome="${outcome}"[^}]*\\} 1`,
        ),
      );
    }
    expect(text).toMatch(/provider_errors_total\{[^}]*provider="test",operation="generate"[^}]*\} 1/);
  });

  it('without an observer passes calls through', async () => {
    const p = resolveProvider('test', { test: () => fakeProvider('fail') });
    await expect(p.generate({} as never, opts())).rejects.toThrow('provider refused');
  });
});
