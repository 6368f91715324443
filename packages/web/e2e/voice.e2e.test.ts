/**
 * Talking to the studio end to end in Chromium with a fake microphone (a 440 Hz tone made with ffmpeg, played by
 * `--use-file-for-fake-audio-capture`), the api relaying to the local Realtime server over TLS: hold to talk, the
 * upstream receives PCM16 at 24 kHz (the tone's pitch survives, which it would not at another rate), the scripted
 * model calls set_tempo and the project's tempo changes, the reply is played by the page and its words are in the
 * transcript. A screenshot is saved as test-results/voice.png.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotPath, startFakeOpenAIRealtime, waitFor, type FakeOpenAIRealtime } from '@dawg/testing';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;
let fake: FakeOpenAIRealtime | undefined;
let dir: string | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'dawg-voice-e2e-'));
  const wav = path.join(dir, 'mic.wav');
  execFileSync(
    'ffmpeg',
    ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=4', '-ar', '48000'].concat([
      '-ac',
      '1',
      '-c:a',
      'pcm_s16le',
      '-y',
      wav,
    ]),
  );
  fake = await startFakeOpenAIRealtime();
  stack = await startStack({
    label: 'web-voice-e2e',
    env: {
      OPENAI_API_KEY: fake.apiKey,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_REALTIME_CA_FILE: fake.caFile,
    },
    browserArgs: [
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
    ],
  });
});

afterAll(async () => {
  await stack?.stop();
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function started(): { stack: Stack; fake: FakeOpenAIRealtime } {
  if (!stack || !fake) throw new Error('stack not started');
  return { stack, fake };
}

/** Frequency of a PCM16 tone from its zero crossings. */
function pitchOf(pcm: Buffer, rate: number): number {
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, Math.floor(pcm.length / 2));
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) if (samples[i - 1]! < 0 !== samples[i]! < 0) crossings++;
  return crossings / 2 / (samples.length / rate);
}

describe('voice in the studio', () => {
  it('hold to talk: 24 kHz PCM16 goes up, set_tempo changes the project, the reply plays', async () => {
    const { stack: s, fake: upstreamFake } = started();
    upstreamFake.script({
      onCommit: (session) => session.transcribeInput('Set the tempo to 100'),
      onResponse: (session, _event, n) =>
        n === 1
          ? session.callFunction('set_tempo', { bpm: 100 })
          : session.speak('Tempo is now 100.', { audioBytes: 24_000 }),
    });
    const { page, pageErrors, close } = await s.openPage('/signup', { viewport: { width: 1280, height: 900 } });
    try {
      await page.getByLabel('Name').fill('Laurie Spiegel');
      await page.getByLabel('Email').fill(`laurie-${Date.now().toString(36)}@test.dawg.local`);
      await page.getByLabel('Password', { exact: true }).fill('music mouse intelligent instrument');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${s.webUrl}/`);
      await page.getByLabel('Project name').fill('Voice session');
      await page.getByRole('button', { name: 'New project' }).click();
      await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
      const projectId = page.url().split('/').pop()!;
      await page.getByTestId('studio').waitFor();

      const panel = page.getByTestId('voice-panel');
      await waitFor(async () => (await panel.getAttribute('data-phase')) === 'idle', {
        description: 'voice available',
      });
      await panel.getByTestId('voice-start').click();
      await waitFor(async () => (await panel.getAttribute('data-phase')) === 'ready', {
        timeoutMs: 15_000,
        description: 'voice connected',
      });
      const upstream = upstreamFake.sessions.at(-1)!;
      expect(upstream.config).toMatchObject({ audio: { input: { format: { type: 'audio/pcm', rate: 24_000 } } } });

      // Hold to talk for about a second of audio, then release.
      const talk = panel.getByTestId('voice-talk');
      await talk.hover();
      await page.mouse.down();
      await waitFor(() => upstream.audio.length >= 48_000, {
        timeoutMs: 15_000,
        description: '1 s of microphone audio',
      });
      await page.mouse.up();

      expect(upstream.audio.length % 2).toBe(0);
      // The fake microphone plays a 440 Hz tone: at 24 kHz it still measures 440 Hz.
      const pitch = pitchOf(upstream.audio.subarray(4_800), 24_000);
      expect(pitch).toBeGreaterThan(400);
      expect(pitch).toBeLessThan(480);

      await panel.getByText('Tempo is now 100.').waitFor({ timeout: 15_000 });
      await waitFor(async () => Number(await panel.getAttribute('data-played-samples')) >= 12_000, {
        timeoutMs: 15_000,
        description: 'the reply played',
      });
      const project = await s.db.db
        .selectFrom('projects')
        .select('bpm')
        .where('id', '=', projectId)
        .executeTakeFirstOrThrow();
      expect(Number(project.bpm)).toBe(100);
      await panel.getByText('Set the tempo to 100').waitFor();
      await panel.getByText('✓ Set the tempo').waitFor();
      await page.screenshot({ path: screenshotPath('voice') });

      await panel.getByTestId('voice-stop').click();
      await waitFor(() => upstreamFake.open() === 0, { description: 'upstream closed after stop' });
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('says voice needs a key when the server has no OPENAI_API_KEY', async () => {
    const { stack: s } = started();
    const { page, pageErrors, close } = await s.openPage('/signup');
    try {
      // The health answer of a server without the key (the api's side of it is covered by voice.int.test.ts).
      await page.route('**/api/voice/health', (route) =>
        route.fulfill({
          json: { status: 'healthy', service: 'realtime-voice', openai_configured: false, functions_cached: 16 },
        }),
      );
      await page.getByLabel('Name').fill('Delia Derbyshire');
      await page.getByLabel('Email').fill(`delia-${Date.now().toString(36)}@test.dawg.local`);
      await page.getByLabel('Password', { exact: true }).fill('radiophonic workshop doctor who');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${s.webUrl}/`);
      await page.getByLabel('Project name').fill('No key');
      await page.getByRole('button', { name: 'New project' }).click();
      await page.getByTestId('studio').waitFor();
      const panel = page.getByTestId('voice-panel');
      await waitFor(async () => (await panel.getAttribute('data-phase')) === 'unconfigured', {
        description: 'voice marked unconfigured',
      });
      expect(await panel.getByTestId('voice-state').textContent()).toContain('needs an OpenAI API key');
      expect(await panel.getByTestId('voice-start').count()).toBe(0);
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});
