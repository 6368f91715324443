/**
 * Audio in and out of the studio in Chromium, on the real stack with a worker in-process: sign up, create a project,
 * upload a WAV made here by ffmpeg (a progress bar per file, then analysis), drag it from the library onto a lane,
 * auto-mix (the fader change is listed before → after), mix down with a progress bar, and download the WAV. Then
 * sharing: the owner invites a second account as editor; each sees the other's avatar; the editor's change reaches
 * the owner's open studio live.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import { waitFor } from '@dawg/testing';
import { startStack, type Stack } from './support/stack';

const run = promisify(execFile);

let stack: Stack | undefined;
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dawg-io-e2e-'));
  stack = await startStack({ label: 'web-studio-io-e2e', worker: true });
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function started(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

async function center(locator: Locator): Promise<{ x: number; y: number; left: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('element has no box');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2, left: box.x };
}

describe('studio audio in and out', () => {
  it('uploads with a progress bar, drags to a lane, auto-mixes, mixes down and downloads', async () => {
    const file = join(dir, 'Bass tone.wav');
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'aevalsrc=0.5*sin(2*PI*110*t):s=48000:d=4',
      '-ac',
      '2',
      '-c:a',
      'pcm_s16le',
      file,
    ]);
    const { webUrl } = started();
    const { page, pageErrors, close } = await started().openPage('/signup', {
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    try {
      await page.getByLabel('Name').fill('Wendy Carlos');
      await page.getByLabel('Email').fill(`wendy-${Date.now().toString(36)}@test.dawg.local`);
      await page.getByLabel('Password', { exact: true }).fill('switched on bach 1968');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${webUrl}/`);
      await page.getByLabel('Project name').fill('Moog study');
      await page.getByRole('button', { name: 'New project' }).click();
      await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
      await page.getByTestId('studio').waitFor();

      // --- Upload: a row with a progress bar, then analysed and ready.
      await page.getByText('Upload · Mix · Share').click();
      await page.getByTestId('upload-input').setInputFiles(file);
      const upload = page.getByTestId('upload').first();
      const bar = upload.getByTestId('upload-progress');
      await bar.waitFor();
      expect(await bar.isVisible()).toBe(true);
      await waitFor(
        async () => {
          const state = await upload.getAttribute('data-state');
          if (state === 'failed') throw new Error(`upload failed: ${await upload.textContent()}`);
          return state === 'ready';
        },
        { timeoutMs: 60_000, description: 'the upload analysed' },
      );
      expect(await bar.getAttribute('aria-valuenow')).toBe('100');

      // --- It is in the library; drag it onto the timeline (a new lane).
      const track = page.locator('[data-testid="library-track"][data-status="ready"]').filter({ hasText: 'Bass tone' });
      await track.first().waitFor({ timeout: 20_000 });
      await track.first().scrollIntoViewIfNeeded();
      const from = await center(track.first().getByTestId('track-title'));
      const drop = await center(page.getByTestId('new-lane-drop'));
      await page.mouse.move(from.x, from.y);
      await page.mouse.down();
      for (let i = 1; i <= 12; i++) {
        await page.mouse.move(from.x + ((drop.left + 8 - from.x) * i) / 12, from.y + ((drop.y - from.y) * i) / 12);
      }
      await page.mouse.up();
      await waitFor(async () => (await page.getByTestId('lane-row').count()) === 1, { description: 'a lane' });
      await waitFor(async () => (await page.getByTestId('save-state').textContent()) === 'Saved', {
        description: 'the drop saved',
      });

      // --- Auto-mix: the fader moves, shown before → after.
      await page.getByTestId('auto-mix').click();
      const result = page.getByTestId('auto-mix-result');
      await result.waitFor({ timeout: 15_000 });
      expect(await result.textContent()).toMatch(/Bass tone: \+?0\.0 dB → -?\d+\.\d dB/);

      // --- Mix down: progress, then the download.
      await page.getByTestId('mixdown').click();
      await page.getByTestId('mixdown-progress').waitFor();
      const status = page.getByTestId('mixdown-status');
      await waitFor(
        async () => {
          const s = await status.getAttribute('data-status');
          if (s === 'failed') throw new Error(`mixdown failed: ${await status.textContent()}`);
          return s === 'succeeded';
        },
        { timeoutMs: 60_000, description: 'the mixdown' },
      );
      expect(await page.getByTestId('mixdown-progress').getAttribute('aria-valuenow')).toBe('100');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-wav').click()]);
      expect(download.suggestedFilename()).toMatch(/\.wav$/);
      const saved = join(dir, 'mix.wav');
      await download.saveAs(saved);
      const bytes = await readFile(saved);
      expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
      expect(bytes.toString('ascii', 8, 12)).toBe('WAVE');
      // 4 s of 48 kHz 16-bit stereo, dropped at the first bar.
      expect(bytes.byteLength).toBeGreaterThan(4 * 48_000 * 4 * 0.9);
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });

  it("shares a project: the invitee sees the owner here, and the owner sees the invitee's edit live", async () => {
    const { webUrl } = started();
    const stamp = Date.now().toString(36);
    const signUp = async (name: string, email: string) => {
      const opened = await started().openPage('/signup', { viewport: { width: 1280, height: 800 } });
      await opened.page.getByLabel('Name').fill(name);
      await opened.page.getByLabel('Email').fill(email);
      await opened.page.getByLabel('Password', { exact: true }).fill('a long shared passphrase');
      await opened.page.getByRole('button', { name: 'Create account' }).click();
      await opened.page.waitForURL(`${webUrl}/`);
      return opened;
    };
    const owner = await signUp('Pauline Oliveros', `pauline-${stamp}@test.dawg.local`);
    const guestEmail = `laurie-${stamp}@test.dawg.local`;
    const guest = await signUp('Laurie Spiegel', guestEmail);
    try {
      await owner.page.getByLabel('Project name').fill('Deep listening');
      await owner.page.getByRole('button', { name: 'New project' }).click();
      await owner.page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
      await owner.page.getByTestId('studio').waitFor();

      await owner.page.getByText('Upload · Mix · Share').click();
      await owner.page.getByTestId('share').click();
      await owner.page.getByTestId('share-email').fill(guestEmail);
      await owner.page.getByTestId('share-role').selectOption('editor');
      await owner.page.getByRole('button', { name: 'Invite' }).click();
      await waitFor(async () => (await owner.page.getByTestId('members').textContent())?.includes('Laurie Spiegel'), {
        description: 'the invitee listed',
      });
      await owner.page.getByRole('button', { name: 'Close' }).click();

      await guest.page.goto(owner.page.url());
      await guest.page.getByTestId('studio').waitFor();
      // Each sees the other here.
      await guest.page
        .getByTestId('presence')
        .getByText('Pauline Oliveros', { exact: false })
        .waitFor({ timeout: 15_000 });
      await owner.page
        .getByTestId('presence')
        .getByText('Laurie Spiegel', { exact: false })
        .waitFor({ timeout: 15_000 });

      // The invitee (an editor) renames the project; the owner's studio follows without a reload.
      const name = guest.page.getByTestId('project-name');
      await name.fill('Deep listening II');
      await name.press('Enter');
      await waitFor(async () => (await owner.page.getByTestId('project-name').inputValue()) === 'Deep listening II', {
        timeoutMs: 15_000,
        description: 'the rename reaching the owner',
      });
      expect(owner.pageErrors).toEqual([]);
      expect(guest.pageErrors).toEqual([]);
    } finally {
      await owner.close();
      await guest.close();
    }
  });
});
