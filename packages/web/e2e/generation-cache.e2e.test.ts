/**
 * The generation cache in the studio, on the real stack with the local Suno fake: a finished song asked for again
 * (same description and length, differently spaced) is offered with the saving; "Reuse it" shows the existing
 * generation, and the fake is asked nothing and no generation row is added.
 */
import { startFakeSuno, waitFor, type FakeSuno } from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;
let suno: FakeSuno;

beforeAll(async () => {
  suno = await startFakeSuno({ clipSeconds: 12 });
  const env = {
    MUSIC_PROVIDER: 'suno',
    SUNO_API_KEY: suno.apiKey,
    SUNO_BASE_URL: suno.url,
    SUNO_POLL_INTERVAL_MS: '334',
  };
  stack = await startStack({ label: 'web-gen-cache-e2e', worker: { env }, env });
});

afterAll(async () => {
  await stack?.stop();
  await suno?.close();
});

describe('generation cache in the studio', () => {
  it('offers the identical finished song with the saving, and reusing it calls no provider', async () => {
    const { webUrl, db } = stack!;
    const { page, pageErrors, close } = await stack!.openPage('/signup', { viewport: { width: 1280, height: 800 } });
    try {
      const email = `cache-${Date.now().toString(36)}@test.dawg.local`;
      await page.getByLabel('Name').fill('Delia Derbyshire');
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill('radiophonic workshop 1963');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${webUrl}/`);
      await page.getByLabel('Project name').fill('Themes');
      await page.getByRole('button', { name: 'New project' }).click();
      await page.getByTestId('studio').waitFor();

      await page.getByLabel('Describe the song').fill('Doctor Who theme on oscillators');
      await page.getByLabel('Length (s)').fill('20');
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      const job = page.getByTestId('generation').first();
      await waitFor(async () => (await job.getAttribute('data-status')) === 'succeeded', {
        timeoutMs: 90_000,
        description: 'the first generation to succeed',
      });
      expect(await page.getByTestId('cache-offer').count()).toBe(0);
      const submits = suno.counts.submit;

      // The same request again, differently spaced and cased: offered, with what it would have cost.
      await page.getByLabel('Describe the song').fill('  doctor who THEME on   oscillators');
      await page.getByRole('button', { name: 'Generate', exact: true }).click();
      const offer = page.getByTestId('cache-offer');
      await offer.waitFor({ timeout: 15_000 });
      expect(await offer.textContent()).toMatch(/Reuse it and save \$\d+\.\d{2}/);
      await offer.getByRole('button', { name: 'Reuse it' }).click();
      await offer.waitFor({ state: 'detached' });
      await page.getByText(/Reused your earlier song/).waitFor({ timeout: 10_000 });

      expect(suno.counts.submit).toBe(submits);
      const user = await db.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
      const rows = await db.db.selectFrom('generations').select('id').where('owner_id', '=', user.id).execute();
      expect(rows).toHaveLength(1);
      expect(await page.getByTestId('generation').count()).toBe(1);
      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});
