/**
 * The studio end to end, on the real stack with a worker in-process and the local synth (see support/stack.ts):
 * sign up, create a project, generate an 8 s song and watch its progress, find it in the library with its waveform,
 * drag it with the mouse onto the timeline (a new lane), play it through Web Audio (the master level rises above
 * silence and the position advances), mute the lane (its meter falls to silence), save a screenshot of the studio at
 * 1280×800 (test-results/studio.png), undo and redo the mute from the keyboard, then move and trim the clip with the
 * mouse and move it again from the keyboard. Then two tabs on one project: one tab's edit shows in the other live; an
 * edit made on a stale version (a change whose live notice was lost) is refused with CONFLICT, nothing is written, the
 * tab says so and shows the latest state; tempo and undo still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from '@dawg/api';
import { SESSION_COOKIE_NAME } from '@dawg/shared';
import { createUser, screenshotPath, waitFor } from '@dawg/testing';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack({ label: 'web-studio-e2e', worker: true, env: { MUSIC_PROVIDER: 'local' } });
});

afterAll(async () => {
  await stack?.stop();
});

function started(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

const USER = {
  name: 'Delia Derbyshire',
  email: `delia-${Date.now().toString(36)}@test.dawg.local`,
  password: 'radiophonic workshop 1963',
};

/** RMS below this (−60 dBFS) is silence. */
const SILENCE = 0.001;

/** The engine's test hooks (window.__dawg, see src/audio/engine.ts). */
const dawg = {
  state: (page: Page) => page.evaluate(() => window.__dawg?.state ?? 'missing'),
  masterRms: (page: Page) => page.evaluate(() => window.__dawg?.masterRms() ?? -1),
  laneRms: (page: Page, laneId: string) => page.evaluate((id) => window.__dawg?.laneRms(id) ?? -1, laneId),
  position: (page: Page) => page.evaluate(() => window.__dawg?.position() ?? -1),
};

/** The project as the api has it, read with the page's own session. */
type SavedClip = { laneId: string; startSec: number; offsetSec: number; lengthSec: number };

async function projectState(page: Page, id: string): Promise<{ clips: SavedClip[] }> {
  const input = encodeURIComponent(JSON.stringify({ id }));
  const res = await page.context().request.get(`${started().webUrl}/trpc/project.get?input=${input}`);
  expect(res.status()).toBe(200);
  const body = (await res.json()) as { result: { data: { clips: SavedClip[] } } };
  return body.result.data;
}

async function center(locator: Locator): Promise<{ x: number; y: number; left: number; top: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('element has no box');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2, left: box.x, top: box.y };
}

describe('studio', () => {
  it('generates a song, drags it onto a lane, plays, meters, mutes and edits it', async () => {
    const { webUrl } = started();
    const { page, pageErrors, close } = await started().openPage('/signup', { viewport: { width: 1280, height: 800 } });
    try {
      // --- Sign up and create a project.
      await page.getByLabel('Name').fill(USER.name);
      await page.getByLabel('Email').fill(USER.email);
      await page.getByLabel('Password', { exact: true }).fill(USER.password);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${webUrl}/`);
      await page.getByTestId('no-projects').waitFor();
      await page.getByLabel('Project name').fill('Radiophonic sketch');
      await page.getByRole('button', { name: 'New project' }).click();
      await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
      await page.getByTestId('studio').waitFor();
      expect(await page.getByTestId('project-name').inputValue()).toBe('Radiophonic sketch');
      await waitFor(async () => (await page.title()) === 'Radiophonic sketch · DAWG AI', { description: 'the title' });
      expect(await page.getByTestId('plan-limits').textContent()).toContain('songs up to 60 s');

      // --- Generate 8 s with the local synth; the progress bar is there while it runs.
      await page.getByLabel('Describe the song').fill('Warm lofi beat with soft piano');
      await page.getByLabel('Length (s)').fill('8');
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      const job = page.getByTestId('generation').first();
      const bar = job.getByRole('progressbar');
      await bar.waitFor();
      const seen: { stage: string | null; now: string | null; status: string | null }[] = [];
      await waitFor(
        async () => {
          const sample = {
            stage: await job.getAttribute('data-stage', { timeout: 500 }).catch(() => null),
            now: await bar.getAttribute('aria-valuenow', { timeout: 500 }).catch(() => null),
            status: await job.getAttribute('data-status', { timeout: 500 }).catch(() => null),
          };
          seen.push(sample);
          if (sample.status === 'failed') {
            throw new Error(`generation failed: ${await job.getByTestId('generation-error').textContent()}`);
          }
          return sample.status === 'succeeded';
        },
        { timeoutMs: 90_000, intervalMs: 100, description: 'the generation to succeed' },
      );
      // Progress was visible before the end, and ends at 100 with every stage done.
      expect(seen.some((s) => s.status !== 'succeeded' && s.now !== null && Number(s.now) < 100)).toBe(true);
      expect(await bar.getAttribute('aria-valuenow')).toBe('100');
      expect(await job.locator('.stage-steps li[data-state="done"]').count()).toBe(7);
      expect(await job.getByTestId('generation-cost').textContent()).toMatch(/^Charged \$0\.00/);

      // --- The track is in the library with its waveform.
      const track = page.locator('[data-testid="library-track"][data-status="ready"]').first();
      await track.waitFor({ timeout: 15_000 });
      await waitFor(async () => (await track.getByTestId('track-waveform').getAttribute('data-peaks')) === 'loaded', {
        timeoutMs: 15_000,
        description: 'the waveform peaks',
      });
      const title = (await track.getByTestId('track-title').textContent())?.trim() ?? '';
      expect(title.length).toBeGreaterThan(0);

      // --- Drag it with the mouse onto the timeline's "new lane" row, near the start.
      // The page never scrolls; the library pane does, if the track is below its fold.
      expect(await page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight)).toBe(true);
      await track.scrollIntoViewIfNeeded();
      const from = await center(track.getByTestId('track-title'));
      const drop = await center(page.getByTestId('new-lane-drop'));
      await page.mouse.move(from.x, from.y);
      await page.mouse.down();
      const steps = 12;
      for (let i = 1; i <= steps; i++) {
        await page.mouse.move(
          from.x + ((drop.left + 8 - from.x) * i) / steps,
          from.y + ((drop.y - from.y) * i) / steps,
        );
      }
      await page.mouse.up();
      const laneRow = page.getByTestId('lane-row');
      await waitFor(async () => (await laneRow.count()) === 1, { description: 'a lane made by the drop' });
      const laneId = (await laneRow.getAttribute('data-lane-id')) ?? '';
      const laneCanvas = laneRow.getByTestId('lane-canvas');
      expect(await laneCanvas.getAttribute('aria-label')).toContain('1 clip');
      // Saved: the api's answer replaced the optimistic state, and undo is available.
      await waitFor(async () => (await page.getByTestId('save-state').textContent()) === 'Saved', {
        description: 'the drop saved',
      });
      expect(await page.getByTestId('undo').getAttribute('aria-disabled')).toBeNull();
      const laneName = await laneRow.getByLabel('Lane name').inputValue();
      expect(laneName).toBe(title.slice(0, 60));
      // Dropped 8 px into the timeline at 40 px/s: 0.2 s, snapped to the first bar; the whole 8 s track.
      const projectId = new URL(page.url()).pathname.split('/').pop() ?? '';
      const saved = await projectState(page, projectId);
      expect(saved.clips).toEqual([
        expect.objectContaining({ laneId, startSec: 0, offsetSec: 0, lengthSec: expect.closeTo(8, 1) as number }),
      ]);
      // The lane's canvas starts where the ruler does, so what is drawn at a time is where the ruler says.
      const rulerBox = await page.getByTestId('timeline-ruler').boundingBox();
      const laneBox = await laneCanvas.boundingBox();
      expect(laneBox?.x).toBe(rulerBox?.x);

      // --- Play (looping the first four bars, so the clip keeps sounding): level above silence, position advancing.
      await page.getByTestId('loop').click();
      expect(await page.getByTestId('loop').getAttribute('aria-pressed')).toBe('true');
      await page.getByTestId('play').click();
      await waitFor(async () => (await dawg.state(page)) === 'playing', {
        timeoutMs: 15_000,
        description: 'playback to start',
      });
      await waitFor(async () => (await dawg.masterRms(page)) > 0.01, {
        timeoutMs: 10_000,
        description: 'the master level above silence',
      });
      const p1 = await dawg.position(page);
      await page.waitForTimeout(600);
      const p2 = await dawg.position(page);
      // Advancing, or wrapped by the loop back to its start.
      expect(p2 > p1 + 0.3 || p2 < p1).toBe(true);
      await waitFor(async () => (await dawg.laneRms(page, laneId)) > 0.01, {
        description: 'the lane level above silence',
      });
      const meter = laneRow.getByRole('meter');
      await waitFor(async () => Number(await meter.getAttribute('aria-valuenow')) > -60, {
        description: 'the lane meter moving',
      });
      expect(await page.getByTestId('position-bars').textContent()).toMatch(/^\d+\.\d+\.\d+$/);
      await page.screenshot({ path: screenshotPath('studio-playing') });

      // --- Mute the lane: its meter (and the master, it is the only lane) fall to silence while playback goes on.
      await laneRow.getByRole('button', { name: `Mute ${laneName}` }).click();
      expect(await laneRow.getByRole('button', { name: `Mute ${laneName}` }).getAttribute('aria-pressed')).toBe('true');
      await waitFor(async () => (await dawg.laneRms(page, laneId)) < SILENCE, {
        description: 'the muted lane silent',
      });
      await waitFor(async () => (await meter.getAttribute('aria-valuenow')) === '-60', {
        description: 'the lane meter at its floor',
      });
      expect(await dawg.masterRms(page)).toBeLessThan(SILENCE);
      expect(await dawg.state(page)).toBe('playing');
      await page.screenshot({ path: screenshotPath('studio') });

      // --- Undo the mute from the keyboard (focus on the timeline): the lane sounds again; redo mutes it again.
      await laneCanvas.focus();
      await waitFor(async () => (await page.getByTestId('save-state').textContent()) === 'Saved', {
        description: 'the mute saved',
      });
      await page.keyboard.press('Control+z');
      await waitFor(async () => (await dawg.laneRms(page, laneId)) > 0.01, {
        description: 'the lane audible after undo',
      });
      await page.keyboard.press('Control+Shift+z');
      await waitFor(async () => (await dawg.laneRms(page, laneId)) < SILENCE, {
        description: 'the lane silent after redo',
      });

      // --- Space pauses; the position holds.
      await page.keyboard.press('Space');
      await waitFor(async () => (await dawg.state(page)) !== 'playing', { description: 'paused' });
      const held = await dawg.position(page);
      await page.waitForTimeout(300);
      expect(await dawg.position(page)).toBe(held);

      // --- Edit the clip with the mouse (40 px a second, 2 s a bar): move it two bars right, trim a bar off its end;
      // then from the keyboard move it a bar back. Each edit is saved with the version it was made on.
      const clipOf = async () => (await projectState(page, projectId)).clips[0];
      const lane = await laneCanvas.boundingBox();
      if (!lane) throw new Error('no lane canvas');
      const y = lane.y + lane.height / 2;
      await page.mouse.move(lane.x + 160, y);
      await page.mouse.down();
      await page.mouse.move(lane.x + 240, y, { steps: 5 });
      await page.mouse.move(lane.x + 320, y, { steps: 5 });
      await page.mouse.up();
      await waitFor(async () => (await clipOf())?.startSec === 4, { description: 'the clip moved to 4 s' });
      await page.mouse.move(lane.x + 478, y);
      await page.mouse.down();
      await page.mouse.move(lane.x + 400, y, { steps: 5 });
      await page.mouse.up();
      await waitFor(async () => Math.abs(((await clipOf())?.lengthSec ?? 0) - 6) < 1e-6, {
        description: 'the clip trimmed to 6 s',
      });
      await laneCanvas.focus();
      await page.keyboard.press('Alt+ArrowLeft');
      await waitFor(async () => (await clipOf())?.startSec === 2, { description: 'the clip moved back to 2 s' });
      expect(await clipOf()).toMatchObject({ offsetSec: 0, lengthSec: 6 });
      expect(await page.getByTestId('announcer').textContent()).toContain('bar 2.1.1');

      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('tells the user when an edit was made on a stale version, and shows the latest', async () => {
    const { browser, webUrl, apiUrl, db } = started();
    const { token } = await createUser(db.db, { name: 'Two Tabs' });
    const api = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${apiUrl}/trpc`, headers: { authorization: `Bearer ${token}` } })],
    });
    const project = await api.project.create.mutate({ name: 'Shared sketch' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    try {
      await context.addCookies([{ name: SESSION_COOKIE_NAME, value: token, url: webUrl }]);
      const open = async () => {
        const page = await context.newPage();
        page.on('pageerror', (err) => errors.push(err.message));
        await page.goto(`${webUrl}/projects/${project.project.id}`);
        await page.getByTestId('studio').waitFor();
        return page;
      };
      const a = await open();
      const b = await open();

      // Tab A adds a lane (saved: version 2).
      await a.getByRole('button', { name: 'Add lane' }).first().click();
      await a.getByTestId('lane-row').waitFor();
      await waitFor(async () => (await a.getByTestId('save-state').textContent()) === 'Saved', {
        description: 'A saved',
      });

      // The live project channel tells tab B at once: it shows A's lane without the user doing anything.
      await waitFor(async () => (await b.getByTestId('lane-row').count()) === 1, { description: "B shows A's lane" });

      // A change whose live notice never arrived (here: the version moved in the database behind every tab's back)
      // leaves B stale: its edit (the N shortcut) is refused, and B shows the latest state instead of its own edit.
      await db.db
        .updateTable('projects')
        .set((eb) => ({ version: eb('version', '+', 1) }))
        .where('id', '=', project.project.id)
        .execute();
      await b.locator('body').press('n');
      await b.getByTestId('toast').filter({ hasText: 'changed somewhere else' }).waitFor();
      await waitFor(async () => (await b.getByTestId('save-state').textContent()) === 'Saved', {
        description: 'B settled',
      });
      await waitFor(async () => (await b.getByTestId('lane-row').count()) === 1, { description: 'B showing one lane' });
      expect(await b.getByTestId('lane-row').getByLabel('Lane name').inputValue()).toBe('Lane 1');
      const afterConflict = await api.project.get.query({ id: project.project.id });
      expect(afterConflict.lanes).toHaveLength(1);
      expect(afterConflict.project.version).toBe(3);

      // Now up to date, B's next edit goes through; undo takes it back.
      await b.locator('body').press('n');
      await waitFor(async () => (await b.getByTestId('lane-row').count()) === 2, { description: 'B adding a lane' });
      await waitFor(async () => (await api.project.get.query({ id: project.project.id })).lanes.length === 2, {
        description: 'the lane saved',
      });
      // The tempo is a project setting, saved the same way.
      await b.getByLabel('Tempo', { exact: true }).fill('96');
      await b.getByLabel('Tempo', { exact: true }).press('Enter');
      await waitFor(async () => (await api.project.get.query({ id: project.project.id })).project.bpm === 96, {
        description: 'the tempo saved',
      });
      await b.getByTestId('undo').click();
      await waitFor(async () => (await api.project.get.query({ id: project.project.id })).lanes.length === 1, {
        description: 'the undo saved',
      });
      await waitFor(async () => (await b.getByTestId('lane-row').count()) === 1, { description: 'B after undo' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
