/**
 * Accounts in the browser, against the real stack (see support/stack.ts): sign-up with a field error first, landing
 * in the studio home, sign-out, sign-in with a wrong then the right password, and the account page: revoking another
 * device's session, creating an API key that is shown once and works over plain HTTP, revoking it (the key then
 * fails with 401), changing the password after a wrong current one, deleting the account, and finally the sign-in
 * rate limit's message. Screenshots go to test-results/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { API_KEY_PREFIX, LIMITS } from '@dawg/shared';
import { screenshotPath, waitFor } from '@dawg/testing';
import { startStack, type Stack } from './support/stack';

let stack: Stack | undefined;

beforeAll(async () => {
  stack = await startStack({ label: 'web-auth-e2e' });
});

afterAll(async () => {
  await stack?.stop();
});

function started(): Stack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

const USER = {
  name: 'Ada Lovelace',
  email: `ada-${Date.now().toString(36)}@test.dawg.local`,
  password: 'analytical engine 1843',
};

const NEW_PASSWORD = 'difference engine 1822';

/** The element that has keyboard focus, described by its test-relevant attributes. */
async function focused(page: Page): Promise<{ tag: string; name: string | null; text: string }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return {
      tag: el?.tagName.toLowerCase() ?? '',
      name: el?.getAttribute('name') ?? null,
      text: (el?.textContent ?? '').trim(),
    };
  });
}

/** Waits until the focused element matches; focus moves in a render just after the content it follows. */
async function expectFocus(page: Page, expected: { tag?: string; name?: string; text?: string }): Promise<void> {
  let last: Awaited<ReturnType<typeof focused>> | undefined;
  try {
    await waitFor(
      async () => {
        last = await focused(page);
        return (
          (expected.tag === undefined || last.tag === expected.tag) &&
          (expected.name === undefined || last.name === expected.name) &&
          (expected.text === undefined || last.text.includes(expected.text))
        );
      },
      { timeoutMs: 2_000, description: `focus on ${JSON.stringify(expected)}` },
    );
  } catch (err) {
    throw new Error(`focus is on ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`, { cause: err });
  }
}

/** GET /api/auth/me over plain HTTP (no browser), straight to the api. */
async function restMe(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const res = await fetch(`${started().apiUrl}/api/auth/me`, { headers });
  return { status: res.status, body: await res.text() };
}

/** POST /api/auth/login over plain HTTP, as a script would (its own session, its own User-Agent). */
async function restLogin(password: string): Promise<Response> {
  return fetch(`${started().apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'curl/8.5.0' },
    body: JSON.stringify({ email: USER.email, password }),
  });
}

describe('accounts', () => {
  it('signs up, out and in, manages devices, API keys and the password, and deletes the account', async () => {
    const { webUrl } = started();
    const { page, context, pageErrors, close } = await started().openPage('/', {
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    try {
      // A visitor is sent to sign-in; from there to sign-up.
      await page.waitForURL(`${webUrl}/signin`);
      await page.getByRole('link', { name: 'Create an account' }).click();
      await page.waitForURL(`${webUrl}/signup`);

      // --- Field error: a too-short password is refused on the password field, which gets focus.
      await page.getByLabel('Name').fill(USER.name);
      await page.getByLabel('Email').fill(USER.email);
      const password = page.getByLabel('Password', { exact: true });
      await password.fill('short');
      await page.getByRole('button', { name: 'Create account' }).click();
      const passwordError = page.getByTestId('error-password');
      await passwordError.waitFor();
      expect(await passwordError.textContent()).toContain(`at least ${LIMITS.PASSWORD_MIN_CHARS} characters`);
      expect(await password.getAttribute('aria-invalid')).toBe('true');
      const describedBy = (await password.getAttribute('aria-describedby'))?.split(' ') ?? [];
      expect(describedBy).toContain(await passwordError.getAttribute('id'));
      await expectFocus(page, { tag: 'input', name: 'password' });
      expect(await page.getByLabel('Email').getAttribute('aria-invalid')).toBeNull();
      await page.screenshot({ path: screenshotPath('auth-signup-field-error'), fullPage: true });

      // --- Sign up, submitting from the keyboard: the studio home greets the new user.
      await password.fill(USER.password);
      expect(await password.getAttribute('aria-invalid')).toBeNull();
      await password.press('Enter');
      await page.waitForURL(`${webUrl}/`);
      await page.getByTestId('current-user').waitFor();
      expect(await page.getByTestId('current-user').textContent()).toBe(USER.name);
      expect(await page.getByTestId('header-user').textContent()).toContain(USER.name);
      await page.screenshot({ path: screenshotPath('auth-studio-home'), fullPage: true });

      // --- Sign out: back to sign-in, and the browser's session no longer works.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${webUrl}/signin`);
      const afterSignOut = await context.request.get(`${webUrl}/api/auth/me`);
      expect(afterSignOut.status()).toBe(401);
      await page.goto(`${webUrl}/account`);
      await page.waitForURL(`${webUrl}/signin?next=%2Faccount`);

      // --- Sign in: a wrong password is a form-level error that takes focus; the right one returns to `next`.
      await page.getByLabel('Email').fill(USER.email);
      await page.getByLabel('Password', { exact: true }).fill('not the password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      const formError = page.getByRole('alert');
      await formError.waitFor();
      expect(await formError.textContent()).toContain('Invalid email or password');
      expect(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid')).toBeNull();
      await expectFocus(page, { text: 'Invalid email or password' });
      await page.screenshot({ path: screenshotPath('auth-signin-wrong-password'), fullPage: true });
      await page.getByLabel('Password', { exact: true }).fill(USER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${webUrl}/account`);
      await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
      expect(await page.getByTestId('profile-email').textContent()).toBe(USER.email);

      // --- Devices: a second session (a plain-HTTP login) is listed and can be signed out from here.
      const login = await restLogin(USER.password);
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      expect((await restMe({ authorization: `Bearer ${token}` })).status).toBe(200);
      await page.reload();
      const sessionRows = page.getByTestId('session-row');
      await waitFor(async () => (await sessionRows.count()) === 2, { description: 'two sessions listed' });
      expect(await page.locator('[data-testid="session-row"][data-current="true"]').count()).toBe(1);
      const other = page.locator('[data-testid="session-row"][data-current="false"]');
      expect(await other.locator('th').textContent()).toContain('curl');
      await other.getByRole('button', { name: /Sign out/ }).click();
      const sessionDialog = page.getByRole('dialog', { name: 'Sign out this device?' });
      await sessionDialog.waitFor();
      await sessionDialog.getByRole('button', { name: 'Sign out device' }).click();
      await waitFor(async () => (await sessionRows.count()) === 1, { description: 'the other session gone' });
      expect((await restMe({ authorization: `Bearer ${token}` })).status).toBe(401);

      // --- API key: created with a name, shown once in a copy box, copied.
      await page.getByLabel('Key name').fill('e2e script');
      await page.getByRole('button', { name: 'Create key' }).click();
      const keyBox = page.getByTestId('new-api-key');
      await keyBox.waitFor();
      const key = await keyBox.inputValue();
      expect(key.startsWith(API_KEY_PREFIX)).toBe(true);
      expect(key.length).toBeGreaterThan(API_KEY_PREFIX.length + 16);
      expect(await page.getByTestId('new-key').textContent()).toContain('won’t be shown again');
      await page.getByRole('button', { name: 'Copy', exact: true }).click();
      await waitFor(async () => (await page.getByTestId('copy-status').textContent()) === 'Copied to the clipboard.', {
        description: 'the copy confirmation',
      });
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
      const keyRow = page.getByTestId('api-key-row').filter({ hasText: 'e2e script' });
      await keyRow.waitFor();
      const shownPrefix = (await keyRow.getByTestId('api-key-prefix').textContent())?.replace(/…$/, '') ?? '';
      expect(shownPrefix.length).toBeGreaterThan(API_KEY_PREFIX.length);
      expect(key.startsWith(shownPrefix)).toBe(true);
      await page.screenshot({ path: screenshotPath('auth-account-new-key'), fullPage: true });

      // The key works over plain HTTP, as its user.
      const withKey = await restMe({ 'x-api-key': key });
      expect(withKey.status).toBe(200);
      expect(withKey.body).toContain(USER.email);

      // Once dismissed (or after a reload) the key is nowhere on the page.
      await page.getByRole('button', { name: 'Done, I have saved it' }).click();
      expect(await keyBox.count()).toBe(0);
      expect(await page.content()).not.toContain(key);
      await page.reload();
      await keyRow.waitFor();
      expect(await page.content()).not.toContain(key);

      // --- Revoke it, keyboard only: Enter opens the confirmation with focus on Cancel, Tab reaches Revoke.
      await keyRow.getByRole('button', { name: 'Revoke key e2e script' }).focus();
      await page.keyboard.press('Enter');
      const keyDialog = page.getByRole('dialog', { name: 'Revoke this API key?' });
      await keyDialog.waitFor();
      await expectFocus(page, { tag: 'button', text: 'Cancel' });
      await page.screenshot({ path: screenshotPath('auth-account-revoke-confirm'), fullPage: true });
      await page.keyboard.press('Tab');
      await expectFocus(page, { tag: 'button', text: 'Revoke key' });
      await page.keyboard.press('Enter');
      await keyDialog.waitFor({ state: 'hidden' });
      await waitFor(
        async () =>
          (await keyRow.count()) === 0 || (await keyRow.getAttribute('data-revoked', { timeout: 500 })) === 'true',
        { description: 'the key shown as revoked' },
      );
      expect((await restMe({ 'x-api-key': key })).status).toBe(401);
      await page.screenshot({ path: screenshotPath('auth-account-key-revoked'), fullPage: true });

      // --- Change password: the api's field error (a wrong current password) lands on that field, with focus.
      const passwordForm = page.getByRole('form', { name: 'Change password' });
      const current = passwordForm.getByLabel('Current password');
      await current.fill('not the password');
      await passwordForm.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
      await passwordForm.getByLabel('Repeat new password').fill(NEW_PASSWORD);
      await passwordForm.getByRole('button', { name: 'Change password' }).click();
      const currentError = passwordForm.getByTestId('error-currentPassword');
      await currentError.waitFor();
      expect(await currentError.textContent()).toContain('Current password is incorrect.');
      expect(await current.getAttribute('aria-invalid')).toBe('true');
      await expectFocus(page, { tag: 'input', name: 'currentPassword' });
      await page.screenshot({ path: screenshotPath('auth-account-wrong-current-password'), fullPage: true });
      await current.fill(USER.password);
      await passwordForm.getByRole('button', { name: 'Change password' }).click();
      await page.getByTestId('toast').filter({ hasText: 'Password changed' }).waitFor();
      expect(await current.inputValue()).toBe('');
      expect((await restLogin(NEW_PASSWORD)).status).toBe(200);
      expect((await restLogin(USER.password)).status).toBe(401);

      // --- Delete the account: password, then a confirmation; the user ends up signed out and cannot sign in.
      const deleteForm = page.getByRole('form', { name: 'Delete account' });
      await deleteForm.getByLabel('Your password').fill(NEW_PASSWORD);
      await deleteForm.getByRole('button', { name: 'Delete account…' }).click();
      const deleteDialog = page.getByRole('dialog', { name: 'Delete your account?' });
      await deleteDialog.waitFor();
      await deleteDialog.getByRole('button', { name: 'Delete my account' }).click();
      await page.waitForURL(`${webUrl}/signin`);
      await page.getByTestId('toast').filter({ hasText: 'Your account was deleted.' }).waitFor();
      expect((await context.request.get(`${webUrl}/api/auth/me`)).status()).toBe(401);
      expect((await restLogin(NEW_PASSWORD)).status).toBe(401);

      // --- Brute force: after the auth limit's failed attempts (5 per 15 minutes per IP, shared with REST), the
      // sign-in form says when to try again.
      await page.getByLabel('Email').fill(USER.email);
      let alertText = '';
      for (let attempt = 0; attempt < 6 && !alertText.includes('Too many attempts'); attempt++) {
        await page.getByLabel('Password', { exact: true }).fill(`wrong guess ${attempt}`);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('alert').waitFor();
        // The alert is re-rendered per attempt; wait for the request to settle before reading it.
        await page.getByRole('button', { name: 'Sign in' }).waitFor();
        alertText = (await page.getByRole('alert').textContent()) ?? '';
      }
      expect(alertText).toContain('Too many attempts, try again in 15 minutes.');
      await expectFocus(page, { text: 'Too many attempts' });
      await page.screenshot({ path: screenshotPath('auth-signin-rate-limited'), fullPage: true });

      expect(pageErrors).toEqual([]);
    } finally {
      await close();
    }
  });
});
