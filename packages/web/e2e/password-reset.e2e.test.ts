/**
 * Password reset in the browser, on the real stack without an SMTP server (development): "Forgot your password?"
 * mails a link to the local outbox (`/dev/outbox`), the link opens the reset page, the new password is set, the
 * session that was open is signed out, the new password signs in, and the link does not work a second time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack({ label: 'web-reset-e2e' });
});

afterAll(async () => {
  await stack?.stop();
});

describe('password reset by emailed link', () => {
  it('goes from "forgot" through the outbox to a new password, signing the old session out', async () => {
    const { webUrl } = stack!;
    const email = `reset-${Date.now().toString(36)}@test.dawg.local`;
    const signedIn = await stack!.openPage('/signup');
    const visitor = await stack!.openPage('/signin');
    try {
      // An account with an open session (in its own browser context).
      await signedIn.page.getByLabel('Name').fill('Forgetful');
      await signedIn.page.getByLabel('Email').fill(email);
      await signedIn.page.getByLabel('Password', { exact: true }).fill('the first passphrase 1');
      await signedIn.page.getByRole('button', { name: 'Create account' }).click();
      await signedIn.page.waitForURL(`${webUrl}/`);

      const page = visitor.page;
      await page.getByRole('link', { name: 'Forgot your password?' }).click();
      await page.waitForURL(`${webUrl}/forgot-password`);
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Email me a link' }).click();
      await page.getByTestId('reset-requested').waitFor();

      await page.goto(`${webUrl}/dev/outbox`);
      const mail = page.getByTestId('outbox-mail').filter({ hasText: email });
      await mail.waitFor({ timeout: 15_000 });
      const link = (await mail.getByTestId('outbox-link').getAttribute('href'))!;
      expect(link).toMatch(/\/reset-password\?token=[A-Za-z0-9_-]{43}$/);
      const resetPath = new URL(link).pathname + new URL(link).search;

      await page.goto(`${webUrl}${resetPath}`);
      await page.getByLabel('New password', { exact: true }).fill('the second passphrase 2');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await page.getByTestId('password-reset-done').waitFor();

      // The session that was open is gone: its next navigation lands on sign-in.
      await signedIn.page.goto(`${webUrl}/account`);
      await signedIn.page.waitForURL(/\/signin/);

      await page.goto(`${webUrl}/signin`);
      await page.getByLabel('Email').fill(email);
      await page.getByLabel('Password', { exact: true }).fill('the second passphrase 2');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${webUrl}/`);

      // The link works once.
      await page.goto(`${webUrl}${resetPath}`);
      await page.getByLabel('New password', { exact: true }).fill('the third passphrase 3');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await page.getByText('This link is invalid, used or expired; ask for a new one.').waitFor();
      expect(visitor.pageErrors).toEqual([]);
    } finally {
      await Promise.all([signedIn.close(), visitor.close()]);
    }
  });
});
