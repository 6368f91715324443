/**
 * The AI producer end to end in Chromium, on the real stack (worker in-process, the local synth) with the offline
 * producer (no ANTHROPIC_API_KEY): in a new project, "make a 90 bpm lofi beat" sets the tempo and starts a
 * generation; its card in the chat shows live progress; when the track is ready the producer adds a lane and places
 * it there, and the studio shows the clip on that lane. The turn's answer and cost stay in the conversation after a
 * reload. A screenshot of the studio with the chat is saved as test-results/chat.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshotPath, waitFor } from '@dawg/testing';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack({ label: 'web-chat-e2e', worker: true, env: { MUSIC_PROVIDER: 'local' } });
});

afterAll(async () => {
  await stack?.stop();
});

function started(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

const USER = {
  name: 'Suzanne Ciani',
  email: `suzanne-${Date.now().toString(36)}@test.dawg.local`,
  password: 'buchla music easel 1974',
};

describe('the AI producer', () => {
  it('makes a 90 bpm lofi beat: a generation with live progress that lands on a lane', async () => {
    const { webUrl } = started();
    const { page, pageErrors, close } = await started().openPage('/signup', { viewport: { width: 1280, height: 800 } });
    try {
      await page.getByLabel('Name').fill(USER.name);
      await page.getByLabel('Email').fill(USER.email);
      await page.getByLabel('Password', { exact: true }).fill(USER.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${webUrl}/`);
      await page.getByLabel('Project name').fill('Chat beat');
      await page.getByRole('button', { name: 'New project' }).click();
      await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
      const projectId = page.url().split('/').pop()!;
      await page.getByTestId('studio').waitFor();

      const chat = page.getByTestId('chat-panel');
      await chat.getByTestId('chat-input').fill('make a 90 bpm lofi beat');
      await chat.getByTestId('chat-input').press('Enter');

      // The tool cards appear while the answer runs; the generation card shows live progress.
      const card = chat.getByTestId('chat-generation').first();
      await card.waitFor({ timeout: 20_000 });
      const bar = card.getByRole('progressbar');
      const seen: { status: string | null; now: number | null }[] = [];
      await waitFor(
        async () => {
          const sample = {
            status: await card.getAttribute('data-status', { timeout: 500 }).catch(() => null),
            now: Number(await bar.getAttribute('aria-valuenow', { timeout: 500 }).catch(() => 'NaN')),
          };
          seen.push(sample);
          if (sample.status === 'failed') throw new Error('the generation failed');
          return sample.status === 'succeeded';
        },
        { timeoutMs: 120_000, intervalMs: 100, description: 'the generation to succeed' },
      );
      expect(seen.some((s) => s.status !== 'succeeded' && s.now !== null && s.now < 100)).toBe(true);
      expect(await bar.getAttribute('aria-valuenow')).toBe('100');

      // The producer puts it on a new lane; the studio shows the clip there and the tempo it set.
      const lane = page.getByRole('group', { name: 'Lofi beat: 1 clip' });
      await lane.waitFor({ timeout: 30_000 });
      const answer = page.getByTestId('chat-panel').getByText('Placed it on');
      await answer.first().waitFor({ timeout: 30_000 });
      await page.screenshot({ path: screenshotPath('chat') });
      const tools = await chat
        .getByTestId('chat-tool')
        .evaluateAll((els) => els.map((el) => [el.getAttribute('data-tool'), el.getAttribute('data-state')]));
      expect(tools).toEqual([
        ['set_tempo', 'done'],
        ['generate_music', 'done'],
        ['get_generation_status', 'done'],
        ['add_lane', 'done'],
        ['place_clip', 'done'],
      ]);

      const input = encodeURIComponent(JSON.stringify({ id: projectId }));
      const res = await page.context().request.get(`${webUrl}/trpc/project.get?input=${input}`);
      const state = (
        (await res.json()) as {
          result: {
            data: { project: { bpm: number }; lanes: { id: string; name: string }[]; clips: { laneId: string }[] };
          };
        }
      ).result.data;
      expect(state.project.bpm).toBe(90);
      expect(state.lanes.map((l) => l.name)).toEqual(['Lofi beat']);
      expect(state.clips.map((c) => c.laneId)).toEqual([state.lanes[0]!.id]);

      // The answer and its cost are kept: after a reload the conversation shows them.
      await page.reload();
      await page.getByTestId('studio').waitFor();
      await page.getByTestId('chat-panel').getByText('Placed it on').first().waitFor({ timeout: 15_000 });
      expect(await page.getByTestId('chat-turn-cost').first().textContent()).toBe('Cost $0.00');
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});
