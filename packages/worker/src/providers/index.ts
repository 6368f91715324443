/**
 * Which provider serves a generation row. The row's `provider` was chosen by the api at admission; the worker only
 * resolves it. A provider this worker cannot run fails the generation at once (UnrecoverableError), with the reason.
 */
import { DEFAULT_MUSIC_MODELS, sunoCallbackSignature, type Provider, type WorkerEnv } from '@dawg/shared';
import { UnrecoverableError } from 'bullmq';
import { createLocalProvider } from './local';
import { createSunoProvider } from './suno';
import { createTestToneProvider } from './test-tone';
import { observed } from './observe';
import type { MusicProvider } from './types';

export type { MusicProvider, MusicRequest, ProviderClip, StageUpdate } from './types';

export type ProviderFactories = Partial<Record<Provider, () => MusicProvider>>;

export const DEFAULT_PROVIDERS: ProviderFactories = {
  local: createLocalProvider,
  test: createTestToneProvider,
};

/** The providers this worker can run with its environment: Suno only with SUNO_API_KEY. */
export function providersFor(
  env: Pick<
    WorkerEnv,
    'SUNO_API_KEY' | 'SUNO_BASE_URL' | 'SUNO_POLL_INTERVAL_MS' | 'SUNO_CALLBACK_URL' | 'SUNO_CALLBACK_SECRET'
  >,
): ProviderFactories {
  const apiKey = env.SUNO_API_KEY;
  if (!apiKey) return DEFAULT_PROVIDERS;
  const { SUNO_CALLBACK_URL: callbackUrl, SUNO_CALLBACK_SECRET: secret } = env;
  const callbackUrlFor =
    callbackUrl && secret
      ? async (generationId: string) => {
          const url = new URL(callbackUrl);
          url.searchParams.set('g', generationId);
          url.searchParams.set('sig', await sunoCallbackSignature(secret, generationId));
          return url.toString();
        }
      : undefined;
  return {
    ...DEFAULT_PROVIDERS,
    suno: () =>
      createSunoProvider({
        apiKey,
        model: DEFAULT_MUSIC_MODELS.suno,
        pollIntervalMs: env.SUNO_POLL_INTERVAL_MS,
        ...(env.SUNO_BASE_URL ? { baseUrl: env.SUNO_BASE_URL } : {}),
        ...(callbackUrlFor ? { callbackUrlFor } : {}),
      }),
  };
}

export function resolveProvider(id: Provider, factories: ProviderFactories = DEFAULT_PROVIDERS): MusicProvider {
  const factory = factories[id];
  if (!factory) throw new UnrecoverableError(`music provider "${id}" is not available on this worker`);
  // Timed and counted in the worker's provider metrics (providers/observe).
  return observed(factory());
}
