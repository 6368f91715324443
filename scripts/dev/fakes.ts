/**
 * `DEV_FAKES=suno,openai pnpm dev` (or `DEV_FAKES=all`): the stack talks to the local Suno and OpenAI fakes of
 * @dawg/testing instead of the real services, so Suno generations (streamed first audio, two takes, extend) and
 * written lyrics work offline. The fakes run inside the dev process on loopback; the api and worker get their URLs
 * and keys (and MUSIC_PROVIDER=suno unless it is set). `openai` also starts the Realtime fake, so voice answers
 * ("Hi there.") offline.
 */
import { startFakeOpenAI } from '@dawg/testing/fakes/openai';
import { startFakeOpenAIRealtime } from '@dawg/testing/fakes/openai-realtime';
import { startFakeSuno } from '@dawg/testing/fakes/suno';

export const DEV_FAKE_NAMES = ['suno', 'openai'] as const;

export function parseDevFakes(spec: string | undefined): Set<(typeof DEV_FAKE_NAMES)[number]> {
  const names = (spec ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.includes('all')) return new Set(DEV_FAKE_NAMES);
  const unknown = names.filter((n) => !(DEV_FAKE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0)
    throw new Error(`DEV_FAKES: unknown fake ${unknown.join(', ')} (have ${DEV_FAKE_NAMES.join(', ')}, all)`);
  return new Set(names as (typeof DEV_FAKE_NAMES)[number][]);
}

/** Starts the fakes named in DEV_FAKES and points `childEnv` at them; returns what to stop at the end. */
export async function startDevFakes(
  spec: string | undefined,
  childEnv: Record<string, string>,
  say: (text: string) => void,
): Promise<{ name: string; stop(): Promise<void> }[]> {
  const wanted = parseDevFakes(spec);
  const started: { name: string; stop(): Promise<void> }[] = [];
  if (wanted.has('suno')) {
    // A few seconds per status, so the studio shows each stage and plays the stream before the final file.
    const suno = await startFakeSuno({ stepMs: 3_000, clipSeconds: 20 });
    childEnv.SUNO_API_KEY = suno.apiKey;
    childEnv.SUNO_BASE_URL = suno.url;
    childEnv.SUNO_POLL_INTERVAL_MS ??= '1000';
    childEnv.MUSIC_PROVIDER ??= 'suno';
    started.push({ name: 'fake-suno', stop: () => suno.close() });
    say(`suno: local fake at ${suno.url} (DEV_FAKES)`);
  }
  if (wanted.has('openai')) {
    const openai = await startFakeOpenAI();
    childEnv.OPENAI_API_KEY = openai.apiKey;
    childEnv.OPENAI_BASE_URL = openai.baseURL;
    started.push({ name: 'fake-openai', stop: () => openai.close() });
    say(`openai: local fake at ${openai.baseURL} (DEV_FAKES)`);
    // Voice: the Realtime fake (TLS with its own CA, trusted by the api for this connection only).
    const realtime = await startFakeOpenAIRealtime({ apiKey: openai.apiKey });
    childEnv.OPENAI_REALTIME_URL = realtime.url;
    childEnv.OPENAI_REALTIME_CA_FILE = realtime.caFile;
    started.push({ name: 'fake-openai-realtime', stop: () => realtime.close() });
    say(`openai realtime: local fake at ${realtime.url} (DEV_FAKES)`);
  }
  return started;
}
