/**
 * Emailed single-use links through a local SMTP server (the real nodemailer client) on real Postgres and Redis:
 * - password reset: the link arrives by mail, works once, expires, sets the password and revokes every session;
 *   an unknown address gets the same answer and no mail; only the token's hash is stored;
 * - email verification: the link marks the address verified, once;
 * - without an SMTP server (development) the mail lands in the outbox the web app shows; with one, the outbox is
 *   empty.
 */
import { createHash } from 'node:crypto';
import {
  createTestDatabase,
  defaultRedisUrl,
  flushPrefix,
  uniqueRedisPrefix,
  waitFor,
  type TestDatabase,
} from '@dawg/testing';
import { startFakeSmtpServer, type FakeSmtpServer, type ReceivedMail } from '@dawg/testing/fakes/smtp';
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppRouter } from '../src/index';
import { startApi, type TestApi } from './helpers/api';
import { codeOf, httpClient } from './helpers/generation';

let database: TestDatabase;
let smtp: FakeSmtpServer;
let api: TestApi;
let devApi: TestApi;
const prefix = uniqueRedisPrefix('email-flows');
const devPrefix = uniqueRedisPrefix('email-outbox');
const PASSWORD = 'correct horse battery staple 1';
const NEW_PASSWORD = 'a brand new passphrase 2';

beforeAll(async () => {
  [database, smtp] = await Promise.all([createTestDatabase(), startFakeSmtpServer()]);
  [api, devApi] = await Promise.all([
    startApi({
      database,
      prefix,
      overrides: { WHITELISTED_IPS: '127.0.0.1', SMTP_HOST: smtp.host, SMTP_PORT: String(smtp.port) },
    }),
    startApi({ database, prefix: devPrefix, overrides: { WHITELISTED_IPS: '127.0.0.1' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([api?.close(), devApi?.close()]);
  await smtp?.close();
  await Promise.all([flushPrefix(defaultRedisUrl(), prefix), flushPrefix(defaultRedisUrl(), devPrefix)]);
  await database?.drop();
});

function anonymous(base: string) {
  return createTRPCClient<AppRouter>({ links: [httpLink({ url: `${base}/trpc` })] });
}

/** The body of a mail, quoted-printable decoded. */
function bodyOf(mail: ReceivedMail): string {
  const body = mail.raw.split('\r\n\r\n').slice(1).join('\r\n\r\n');
  return body
    .replace(/=\r\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function linkIn(mail: ReceivedMail, path: string): URL {
  const match = new RegExp(`https?://\\S+${path}\\?token=[A-Za-z0-9_-]+`).exec(bodyOf(mail));
  if (!match) throw new Error(`no ${path} link in:\n${bodyOf(mail)}`);
  return new URL(match[0]);
}

async function register(base: string, email: string) {
  const signedUp = await anonymous(base).auth.register.mutate({ email, password: PASSWORD, name: 'Mail Tester' });
  const second = await anonymous(base).auth.login.mutate({ email, password: PASSWORD });
  return { userId: signedUp.user.id, tokens: [signedUp.token, second.token] };
}

async function nextMail(count: number): Promise<ReceivedMail> {
  const mails = await smtp.waitFor(count);
  return mails[count - 1]!;
}

describe('password reset by emailed link', () => {
  it('works once, revokes every session, and stores only the hash', async () => {
    const email = `reset-${Date.now().toString(36)}@test.dawg.local`;
    const { userId, tokens } = await register(api.base, email);
    const before = smtp.mails.length;

    // An unknown address: the same answer, and (seen once the real mail arrives) no mail.
    expect(await anonymous(api.base).auth.requestPasswordReset.mutate({ email: 'nobody@test.dawg.local' })).toEqual({
      success: true,
    });
    expect(await anonymous(api.base).auth.requestPasswordReset.mutate({ email: email.toUpperCase() })).toEqual({
      success: true,
    });
    const mail = await nextMail(before + 1);
    expect(smtp.mails.length).toBe(before + 1);
    expect(mail.to).toEqual([email]);
    expect(mail.header('subject')).toMatch(/reset your dawg ai password/i);
    const link = linkIn(mail, '/reset-password');
    expect(link.origin).toBe('http://localhost:5173');
    const token = link.searchParams.get('token')!;

    const stored = await database.db.selectFrom('email_tokens').selectAll().where('user_id', '=', userId).execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(token);
    // An hour to use it.
    const ttl = stored[0]!.expires_at.getTime() - stored[0]!.created_at.getTime();
    expect(Math.round(ttl / 60_000)).toBe(60);

    // Both sessions work before the reset.
    for (const t of tokens) expect(await httpClient(api.base, t).auth.me.query()).toMatchObject({ id: userId });

    expect(await anonymous(api.base).auth.resetPassword.mutate({ token, newPassword: NEW_PASSWORD })).toEqual({
      success: true,
    });

    // Every old session is revoked; the old password no longer signs in, the new one does.
    for (const t of tokens) expect(await httpClient(api.base, t).auth.me.query()).toBeNull();
    expect(await codeOf(anonymous(api.base).auth.login.mutate({ email, password: PASSWORD }))).toBe('UNAUTHORIZED');
    expect(await anonymous(api.base).auth.login.mutate({ email, password: NEW_PASSWORD })).toMatchObject({
      user: { id: userId },
    });

    // The link works once.
    const again = anonymous(api.base).auth.resetPassword.mutate({ token, newPassword: 'yet another passphrase 3' });
    expect(await codeOf(again)).toBe('NOT_FOUND');
    expect(await anonymous(api.base).auth.login.mutate({ email, password: NEW_PASSWORD })).toBeTruthy();
  });

  it('expires: a link past its hour is refused and changes nothing', async () => {
    const email = `expire-${Date.now().toString(36)}@test.dawg.local`;
    const { userId, tokens } = await register(api.base, email);
    const before = smtp.mails.length;
    await anonymous(api.base).auth.requestPasswordReset.mutate({ email });
    const token = linkIn(await nextMail(before + 1), '/reset-password').searchParams.get('token')!;
    // The hour passes (the row's clock is moved, not the test's).
    await database.db
      .updateTable('email_tokens')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', userId)
      .execute();
    expect(await codeOf(anonymous(api.base).auth.resetPassword.mutate({ token, newPassword: NEW_PASSWORD }))).toBe(
      'NOT_FOUND',
    );
    expect(await httpClient(api.base, tokens[0]!).auth.me.query()).toMatchObject({ id: userId });
    expect(await anonymous(api.base).auth.login.mutate({ email, password: PASSWORD })).toBeTruthy();
  });
});

describe('email verification', () => {
  it('marks the address verified, once', async () => {
    const email = `verify-${Date.now().toString(36)}@test.dawg.local`;
    const { userId, tokens } = await register(api.base, email);
    const before = smtp.mails.length;
    await httpClient(api.base, tokens[0]!).auth.requestEmailVerification.mutate();
    const token = linkIn(await nextMail(before + 1), '/verify-email').searchParams.get('token')!;
    const unverified = await database.db
      .selectFrom('users')
      .select('email_verified_at')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(unverified.email_verified_at).toBeNull();
    expect(await anonymous(api.base).auth.verifyEmail.mutate({ token })).toEqual({ success: true });
    const verified = await database.db
      .selectFrom('users')
      .select('email_verified_at')
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();
    expect(verified.email_verified_at).toBeInstanceOf(Date);
    expect(await codeOf(anonymous(api.base).auth.verifyEmail.mutate({ token }))).toBe('NOT_FOUND');
  });
});

describe('development outbox', () => {
  it('holds the mail when no SMTP server is configured, and is empty when one is', async () => {
    const email = `outbox-${Date.now().toString(36)}@test.dawg.local`;
    await register(devApi.base, email);
    await anonymous(devApi.base).auth.requestPasswordReset.mutate({ email });
    const outbox = await waitFor(
      async () => {
        const mails = await anonymous(devApi.base).auth.devOutbox.query();
        return mails.find((m) => m.to === email);
      },
      { timeoutMs: 10_000, description: 'the reset mail in the outbox' },
    );
    expect(outbox).toMatchObject({
      subject: expect.stringMatching(/reset/i),
      link: expect.stringContaining('/reset-password?token='),
    });
    const token = new URL(outbox.link!).searchParams.get('token')!;
    expect(await anonymous(devApi.base).auth.resetPassword.mutate({ token, newPassword: NEW_PASSWORD })).toEqual({
      success: true,
    });
    expect(await anonymous(api.base).auth.devOutbox.query()).toEqual([]);
  });
});
