/**
 * Cost pages in Chromium, on the real stack with a worker in-process (support/stack.ts): a user's generation runs to
 * the end, then /usage shows it in the spend-per-day chart (today's bar carries the call), in the spend-per-kind chart
 * and in the recent calls with its cost, with the quota meter at 1 of the plan's generations; /billing says billing
 * is not configured (this stack has no Stripe keys); an admin's /admin/costs lists the user's row and filters by kind.
 * Then, on a stack with the local Stripe server: /billing's checkout button takes the browser to the Checkout URL, the
 * completed checkout's webhook events make the plan Pro on the page, and "Manage billing" opens the portal.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { AppRouter } from '@dawg/api';
import { getPlan, SESSION_COOKIE_NAME } from '@dawg/shared';
import { createUser, type FakeStripe, screenshotPath, startFakeStripe, waitFor } from '@dawg/testing';
import type { Page } from 'playwright-core';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack({ label: 'web-usage-e2e', worker: true, env: { MUSIC_PROVIDER: 'test' } });
});

afterAll(async () => {
  await stack?.stop();
});

function started(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

async function signedIn(
  token: string,
  pathname: string,
  on: Stack = started(),
): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  const { browser, webUrl } = on;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addCookies([{ name: SESSION_COOKIE_NAME, value: token, url: webUrl }]);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${webUrl}${pathname}`);
  return { page, errors, close: () => context.close() };
}

describe('usage page', () => {
  it('shows the chart with the generation that just ran', async () => {
    const { db, apiUrl } = started();
    const { user, token } = await createUser(db.db, { name: 'Chart Reader' });
    const api = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${apiUrl}/trpc`, headers: { authorization: `Bearer ${token}` } })],
    });
    const { jobId } = await api.generation.create.mutate({
      prompt: 'a short test tone for the usage chart',
      duration: 10,
    });
    const done = await waitFor(
      async () => {
        const g = await api.generation.get.query({ id: jobId });
        return g.status === 'succeeded' || g.status === 'failed' ? g : undefined;
      },
      { timeoutMs: 60_000, description: 'the generation finished' },
    );
    expect(done.status).toBe('succeeded');

    const { page, errors, close } = await signedIn(token, '/usage');
    try {
      const chart = page.getByTestId('spend-by-day-chart');
      await chart.waitFor();
      const today = new Date().toISOString().slice(0, 10);
      const bar = chart.locator(`rect[data-day="${today}"]`);
      expect(await bar.getAttribute('data-calls')).toBe('1');
      expect(Number(await bar.getAttribute('data-cost-micro'))).toBe(done.actualCostMicro);
      expect(Number(await bar.getAttribute('height'))).toBeGreaterThan(0);
      // Every day of the month so far has its bar.
      expect(await chart.locator('rect').count()).toBe(new Date().getUTCDate());

      await expect.poll(() => page.getByTestId('spend-by-kind-chart').textContent()).toMatch(/music/i);
      const recent = page.getByTestId('recent-usage');
      await recent.waitFor();
      expect(await recent.locator('tbody tr').count()).toBe(1);
      expect(await recent.locator('tbody tr').first().textContent()).toMatch(/music.*test\/.*\$0\.00/i);
      const quota = page.getByTestId('quota-meter');
      expect(await quota.textContent()).toContain(`1 of ${getPlan('free').generationsPerMonth}`);
      await page.screenshot({ path: screenshotPath('usage.png'), fullPage: true });

      // The nav leads to billing, which says billing is not configured on this stack.
      await page.getByRole('link', { name: 'Billing', exact: true }).click();
      await page.getByTestId('billing-not-configured').waitFor();
      expect(await page.getByTestId('current-plan').textContent()).toContain('Free');
      expect(await page.getByRole('button', { name: /Choose/ }).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }

    // An admin's breakdown lists the user's row; a filter on another kind empties it.
    const admin = await createUser(db.db, { role: 'admin', name: 'Cost Admin' });
    const adminPage = await signedIn(admin.token, '/admin/costs');
    try {
      const rows = adminPage.page.getByTestId('costs-rows');
      await rows.waitFor();
      expect(await rows.locator('tbody tr').filter({ hasText: user.email }).count()).toBe(1);
      await adminPage.page.screenshot({ path: screenshotPath('admin-costs.png'), fullPage: true });
      await adminPage.page.locator('select#costs-kind').selectOption('chat');
      await adminPage.page.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(() => rows.locator('tbody tr').count()).toBe(0);
      expect(adminPage.errors).toEqual([]);
    } finally {
      await adminPage.close();
    }
  });
});

describe('billing with Stripe', () => {
  const WEBHOOK_SECRET = 'whsec_e2e_billing';
  let fake: FakeStripe | undefined;
  let paid: Stack | undefined;

  beforeAll(async () => {
    fake = await startFakeStripe();
    const stripeEnv = { STRIPE_SECRET_KEY: 'sk_test_e2e_billing', STRIPE_API_BASE_URL: fake.url };
    paid = await startStack({
      label: 'web-billing-e2e',
      worker: { env: stripeEnv },
      env: { ...stripeEnv, STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, MUSIC_PROVIDER: 'test' },
    });
  });

  afterAll(async () => {
    await paid?.stop();
    await fake?.close();
  });

  /** Stripe's signature scheme (v1 = HMAC-SHA256 of "t.body" with the endpoint secret). */
  async function deliver(event: unknown): Promise<number> {
    const body = JSON.stringify(event);
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex');
    const res = await fetch(`${paid!.apiUrl}/api/stripe/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` },
      body,
    });
    return res.status;
  }

  it('goes to Checkout, follows the completed subscription, and opens the portal', async () => {
    const stack = paid!;
    const stripe = fake!;
    const { token } = await createUser(stack.db.db, { name: 'Plan Buyer' });
    const { page, errors, close } = await signedIn(token, '/billing', stack);
    try {
      await page.getByRole('button', { name: 'Choose Pro' }).waitFor();
      await page.screenshot({ path: screenshotPath('billing.png'), fullPage: true });
      await page.getByRole('button', { name: 'Choose Pro' }).click();
      await page.waitForURL(new RegExp(`^${stripe.url}/checkout/cs_test_[0-9a-f]+$`));
      const sessionId = new URL(page.url()).pathname.split('/').at(-1)!;
      for (const event of stripe.completeCheckout(sessionId)) expect(await deliver(event)).toBe(200);

      // Stripe sends the browser back to the success URL; the page follows the plan as the job applies it.
      await page.goto(`${stack.webUrl}/billing?checkout=success&session_id=${sessionId}`);
      await expect
        .poll(() => page.getByTestId('current-plan').textContent(), { timeout: 20_000 })
        .toMatch(/Pro.*active/);
      await page.getByRole('button', { name: 'Manage billing' }).click();
      await page.waitForURL(new RegExp(`^${stripe.url}/portal/bps_`));
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });
});
