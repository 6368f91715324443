/**
 * Demo mode end to end (the web app built with VITE_DEMO_MODE=true, the api with DEMO_MODE=true, a worker running the
 * local synth): a visitor clicks "Try the studio" on the sign-in page and lands in a sample project of their own with
 * the demo banner; plays it (the master level rises above silence), mutes a lane, generates once with the local synth,
 * then keeps the work by signing up and finds the project on their home page, the banner gone. A second visitor (a new
 * browser context, its own cookies) gets a demo of their own and sees none of the first visitor's work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { waitFor } from '@dawg/testing';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack({
    label: 'web-demo-e2e',
    worker: true,
    env: { DEMO_MODE: 'true', REQUEST_TIMEOUT_MS: '60000' },
    webEnv: { VITE_DEMO_MODE: 'true' },
  });
});

afterAll(async () => {
  await stack?.stop();
});

function started(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

const dawg = {
  state: (page: Page) => page.evaluate(() => window.__dawg?.state ?? 'missing'),
  masterRms: (page: Page) => page.evaluate(() => window.__dawg?.masterRms() ?? -1),
};

/** "Try the studio" from the sign-in page: answers the sample project's id once its studio is open. */
async function tryStudio(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Try the studio' }).click();
  await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/, { timeout: 90_000 });
  await page.getByTestId('studio').waitFor({ timeout: 30_000 });
  return new URL(page.url()).pathname.split('/').pop()!;
}

describe('demo mode', () => {
  it('a visitor plays the sample, generates once, keeps the work; a second visitor sees none of it', async () => {
    const { db, webUrl } = started();
    const first = await started().openPage('/signin', { viewport: { width: 1280, height: 800 } });
    let firstProject: string;
    try {
      const { page } = first;
      firstProject = await tryStudio(page);
      const banner = page.getByTestId('demo-banner');
      expect((await banner.textContent())?.replace(/\s+/g, ' ')).toContain('Demo — your work is kept for 24 h.');

      // The sample: two lanes, each with a clip of a local-synth take.
      await page.getByLabel('Lane name').nth(1).waitFor();
      expect(await page.getByLabel('Lane name').nth(0).inputValue()).toBe('Beat');
      const input = encodeURIComponent(JSON.stringify({ id: firstProject }));
      const state = await page.context().request.get(`${webUrl}/trpc/project.get?input=${input}`);
      expect(state.status()).toBe(200);
      const body = (await state.json()) as { result: { data: { clips: { trackId: string }[] } } };
      expect(body.result.data.clips).toHaveLength(2);

      // Play it: the master level rises above silence.
      await page.getByTestId('play').click();
      await waitFor(async () => (await dawg.state(page)) === 'playing', {
        timeoutMs: 15_000,
        description: 'playback to start',
      });
      await waitFor(async () => (await dawg.masterRms(page)) > 0.01, {
        timeoutMs: 15_000,
        description: 'the master level above silence',
      });
      // Mix: mute the beat.
      const mute = page.getByRole('button', { name: 'Mute Beat' });
      await mute.click();
      await waitFor(async () => (await mute.getAttribute('aria-pressed')) === 'true', { description: 'beat muted' });
      await page.getByTestId('play').click();

      // Generate once, with the local synth.
      await page.getByLabel('Describe the song').fill('warm synthwave loop');
      await page.getByLabel('Length (s)').fill('5');
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      // The sample's two takes are listed too: this one is told by its prompt.
      const job = page.getByTestId('generation').filter({ hasText: 'warm synthwave loop' });
      await job.waitFor({ timeout: 15_000 });
      await waitFor(async () => (await job.getAttribute('data-status')) === 'succeeded', {
        timeoutMs: 90_000,
        description: 'the demo generation to succeed',
      });
      const demoUser = await db.db
        .selectFrom('projects')
        .innerJoin('users', 'users.id', 'projects.owner_id')
        .select(['users.id', 'users.ephemeral'])
        .where('projects.id', '=', firstProject)
        .executeTakeFirstOrThrow();
      expect(demoUser.ephemeral).toBe(true);
      const generated = await db.db
        .selectFrom('generations')
        .select(['provider', 'prompt'])
        .where('owner_id', '=', demoUser.id)
        .where('prompt', '=', 'warm synthwave loop')
        .execute();
      expect(generated).toEqual([{ provider: 'local', prompt: 'warm synthwave loop' }]);

      // Keep the work: sign up from the banner; the project is on the home page and the banner is gone.
      await banner.getByRole('link', { name: 'Keep my work' }).click();
      await page.waitForURL(`${webUrl}/keep-work`);
      const email = `keeper-${Date.now().toString(36)}@test.dawg.local`;
      await page.getByLabel('Name').fill('Wendy Carlos');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill('switched on bach 1968');
      await page.getByRole('button', { name: 'Keep my work' }).click();
      await page.waitForURL(`${webUrl}/`);
      await page.getByRole('link', { name: 'Demo Project' }).waitFor({ timeout: 15_000 });
      expect(await page.getByTestId('demo-banner').count()).toBe(0);
      const kept = await db.db
        .selectFrom('users')
        .select(['email', 'ephemeral', 'ephemeral_expires_at'])
        .where('id', '=', demoUser.id)
        .executeTakeFirstOrThrow();
      expect(kept).toEqual({ email, ephemeral: false, ephemeral_expires_at: null });
      expect(first.pageErrors).toEqual([]);
    } finally {
      await first.close();
    }

    // A second visitor: a demo of their own; the first visitor's project is nowhere to be seen.
    const second = await started().openPage('/signin', { viewport: { width: 1280, height: 800 } });
    try {
      const { page } = second;
      const secondProject = await tryStudio(page);
      expect(secondProject).not.toBe(firstProject);
      await page.goto(`${webUrl}/`);
      await page.getByRole('link', { name: 'Demo Project' }).waitFor({ timeout: 15_000 });
      expect(await page.getByRole('link', { name: 'Demo Project' }).count()).toBe(1);
      const href = await page.getByRole('link', { name: 'Demo Project' }).getAttribute('href');
      expect(href).toBe(`/projects/${secondProject}`);
      expect(await page.getByText('warm synthwave loop').count()).toBe(0);

      // Asked directly, the api does not show the first visitor's project to the second.
      const input = encodeURIComponent(JSON.stringify({ id: firstProject }));
      const res = await page.context().request.get(`${webUrl}/trpc/project.get?input=${input}`);
      expect([403, 404]).toContain(res.status());
      expect(second.pageErrors).toEqual([]);
    } finally {
      await second.close();
    }
  }, 300_000);
});
