/**
 * Generation II in the browser, on the real stack with a worker in-process and the local Suno fake: a generation
 * plays Suno's stream in the generate panel as soon as `first_audio` arrives (before the mastered tracks exist), its
 * tracks name their provider and model, a track is extended from the library (the continuation is a new track), and
 * a running generation is canceled with its Cancel button.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSuno, waitFor, type FakeSuno } from '@dawg/testing';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;
let suno: FakeSuno;

beforeAll(async () => {
  // Each status lasts a few seconds, so the stream plays while the task is still at FIRST_SUCCESS.
  suno = await startFakeSuno({ stepMs: 2_500, clipSeconds: 12 });
  const env = {
    MUSIC_PROVIDER: 'suno',
    SUNO_API_KEY: suno.apiKey,
    SUNO_BASE_URL: suno.url,
    SUNO_POLL_INTERVAL_MS: '334',
  };
  stack = await startStack({ label: 'web-suno-e2e', worker: { env }, env });
});

afterAll(async () => {
  await stack?.stop();
  await suno?.close();
});

function started(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

describe('generation with Suno in the studio', () => {
  it('plays first audio, shows the provider, extends from the library and cancels', async () => {
    const { webUrl } = started();
    const { page, pageErrors, close } = await started().openPage('/signup', { viewport: { width: 1280, height: 800 } });
    try {
      await page.getByLabel('Name').fill('Wendy Carlos');
      await page.getByLabel('Email').fill(`wendy-${Date.now().toString(36)}@test.dawg.local`);
      await page.getByLabel('Password', { exact: true }).fill('switched on bach 1968');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${webUrl}/`);
      await page.getByLabel('Project name').fill('Streams');
      await page.getByRole('button', { name: 'New project' }).click();
      await page.getByTestId('studio').waitFor();

      // --- Generate: the stream plays before the generation is done.
      await page.getByLabel('Describe the song').fill('Moog fugue in C');
      await page.getByLabel('Length (s)').fill('20');
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      const job = page.getByTestId('generation').first();
      const preview = job.getByTestId('stream-preview').locator('audio');
      await preview.waitFor({ timeout: 60_000 });
      expect(await preview.getAttribute('src')).toMatch(new RegExp(`^${suno.url}/stream/`));
      await waitFor(
        async () =>
          (await preview.evaluate((a: HTMLAudioElement) => !a.paused && a.currentTime > 0).catch(() => false)) &&
          (await job.getAttribute('data-status')) === 'running',
        { timeoutMs: 20_000, description: 'the stream playing while the generation runs' },
      );
      await waitFor(async () => (await job.getAttribute('data-status')) === 'succeeded', {
        timeoutMs: 60_000,
        description: 'the generation to succeed',
      });
      expect(await job.getByTestId('stream-preview').count()).toBe(0);
      // The finished tracks arrive with the final answer, just after the final event.
      await job.getByTestId('track-provider').first().waitFor({ timeout: 15_000 });
      expect(await job.getByTestId('track-provider').allTextContents()).toEqual(['Suno · V4_5']);

      // --- Extend the track from the library.
      const track = page.locator('[data-testid="library-track"][data-status="ready"]').first();
      await track.waitFor({ timeout: 15_000 });
      expect(await track.getByTestId('track-provider').textContent()).toBe('Suno · V4_5');
      await track.getByRole('button', { name: /^Extend/ }).click();
      const form = track.getByTestId('extend-form');
      await form.getByLabel('Continue at (s)').fill('6');
      await form.getByRole('button', { name: 'Extend', exact: true }).click();
      await form.waitFor({ state: 'detached' });
      const extendTask = await waitFor(() => [...suno.tasks.values()].find((t) => t.kind === 'extend'), {
        timeoutMs: 30_000,
        description: 'the extend task at Suno',
      });
      expect(extendTask.body).toMatchObject({ continueAt: 6 });
      await waitFor(async () => (await page.locator('[data-testid="library-track"]').count()) === 2, {
        timeoutMs: 90_000,
        description: 'the continuation in the library',
      });

      // --- Cancel a generation that never finishes.
      suno.configure({ statuses: ['PENDING'] });
      await page.getByLabel('Describe the song').fill('An endless drone');
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      const endless = page.locator('[data-testid="generation"]', { hasText: 'An endless drone' });
      await waitFor(async () => (await endless.getAttribute('data-status')) === 'running', {
        timeoutMs: 30_000,
        description: 'the endless generation running',
      });
      await endless.getByTestId('generation-cancel').click();
      await waitFor(async () => (await endless.getAttribute('data-status')) === 'canceled', {
        timeoutMs: 20_000,
        description: 'the generation canceled',
      });
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});
