/**
 * Which provider serves a generation row. The row's `provider` was chosen by the api at admission; the worker only
 * resolves it. A provider this worker cannot run fails the generation at once (UnrecoverableError), with the reason.
 */
import type { Provider } from '@dawg/shared';
import { UnrecoverableError } from 'bullmq';
import { createLocalProvider } from './local';
import { createTestToneProvider } from './test-tone';
import type { MusicProvider } from './types';

export type { MusicProvider, MusicRequest, ProviderClip, StageUpdate } from './types';

export type ProviderFactories = Partial<Record<Provider, () => MusicProvider>>;

export const DEFAULT_PROVIDERS: ProviderFactories = {
  local: createLocalProvider,
  test: createTestToneProvider,
};

export function resolveProvider(id: Provider, factories: ProviderFactories = DEFAULT_PROVIDERS): MusicProvider {
  const factory = factories[id];
  if (!factory) throw new UnrecoverableError(`music provider "${id}" is not available on this worker`);
  return factory();
}
