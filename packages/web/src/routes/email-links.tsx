/**
 * The emailed single-use links: "forgot password" (asks for a link), the reset page the link opens (a new password;
 * every session is signed out), the email confirmation page, and — in development, when no SMTP server is configured —
 * the local outbox where those mails land.
 */
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { requestPasswordResetInputSchema } from '@dawg/shared';
import { FormAlert, SubmitButton, TextField, useForm } from '../components/form';
import { collect, emailProblem, firstErrors, schemaErrors } from '../lib/auth-validation';
import { trpc } from '../lib/trpc';
import { usePageTitle } from '../lib/use-page-title';

export function ForgotPasswordPage() {
  usePageTitle('Forgot password');
  const request = trpc.auth.requestPasswordReset.useMutation();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useForm(
    { email: '' },
    {
      validate: (v, fields) =>
        firstErrors(
          () => collect({ email: emailProblem(v.email) }),
          () => schemaErrors(requestPasswordResetInputSchema, { email: v.email.trim() }, fields),
        ),
    },
  );
  return (
    <section className="page auth-page" aria-labelledby="forgot-title">
      <h1 id="forgot-title">Forgot your password?</h1>
      {sentTo ? (
        <p className="card" role="status" data-testid="reset-requested">
          If {sentTo} has an account, a link to choose a new password is on its way. It works once, for an hour.
        </p>
      ) : (
        <form
          ref={form.formRef}
          className="card form"
          noValidate
          aria-labelledby="forgot-title"
          onSubmit={form.submit(async ({ email }) => {
            await request.mutateAsync({ email: email.trim() });
            setSentTo(email.trim());
          })}
        >
          <FormAlert message={form.errors.form} alertRef={form.alertRef} />
          <TextField label="Email" type="email" autoComplete="email" required autoFocus {...form.bind('email')} />
          <SubmitButton pending={form.pending} pendingLabel="Sending…">
            Email me a link
          </SubmitButton>
        </form>
      )}
      <p className="auth-switch">
        <Link to="/signin">Back to sign in</Link>
      </p>
    </section>
  );
}

export function ResetPasswordPage() {
  usePageTitle('Choose a new password');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const reset = trpc.auth.resetPassword.useMutation();
  const [done, setDone] = useState(false);
  const form = useForm(
    { newPassword: '' },
    {
      validate: (v) => collect({ newPassword: v.newPassword ? null : 'Choose a new password.' }),
      mapping: { messages: { NOT_FOUND: 'This link is invalid, used or expired; ask for a new one.' } },
    },
  );
  return (
    <section className="page auth-page" aria-labelledby="reset-title">
      <h1 id="reset-title">Choose a new password</h1>
      {done ? (
        <p className="card" role="status" data-testid="password-reset-done">
          Your password is changed and every device was signed out. <Link to="/signin">Sign in</Link>
        </p>
      ) : (
        <form
          ref={form.formRef}
          className="card form"
          noValidate
          aria-labelledby="reset-title"
          onSubmit={form.submit(async ({ newPassword }) => {
            await reset.mutateAsync({ token, newPassword });
            setDone(true);
          })}
        >
          <FormAlert message={form.errors.form} alertRef={form.alertRef} />
          <TextField
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            reveal
            {...form.bind('newPassword')}
          />
          <SubmitButton pending={form.pending} pendingLabel="Saving…">
            Set the new password
          </SubmitButton>
        </form>
      )}
    </section>
  );
}

export function VerifyEmailPage() {
  usePageTitle('Confirm your email');
  const [params] = useSearchParams();
  const token = params.get('token') ?? '';
  const verify = trpc.auth.verifyEmail.useMutation();
  const { mutate } = verify;
  useEffect(() => {
    if (token) mutate({ token });
  }, [token, mutate]);
  return (
    <section className="page auth-page" aria-labelledby="verify-title">
      <h1 id="verify-title">Confirm your email</h1>
      <p className="card" role="status" data-testid="verify-email-status">
        {verify.isSuccess
          ? 'Your email address is confirmed.'
          : verify.isError || !token
            ? 'This link is invalid, used or expired; ask for a new one from your account page.'
            : 'Confirming…'}
      </p>
    </section>
  );
}

/** Development only: the mails the api would have sent (it keeps the newest 50). */
export function DevOutboxPage() {
  usePageTitle('Outbox');
  const outbox = trpc.auth.devOutbox.useQuery(undefined, { refetchInterval: 3_000 });
  const mails = outbox.data ?? [];
  return (
    <section className="page" aria-labelledby="outbox-title">
      <h1 id="outbox-title">Development outbox</h1>
      <p className="muted small">
        Without an SMTP server (SMTP_HOST) outside production, mail lands here instead of being sent.
      </p>
      {mails.length === 0 ? (
        <p className="muted">No mail.</p>
      ) : (
        <ul className="outbox" aria-label="Mails">
          {mails.map((m) => (
            <li key={m.id} className="card" data-testid="outbox-mail">
              <p className="small muted">
                To {m.to} · {new Date(m.sentAt).toLocaleString()}
              </p>
              <h2>{m.subject}</h2>
              <pre className="outbox-text">{m.text}</pre>
              {m.link && (
                <a href={m.link} data-testid="outbox-link">
                  Open the link
                </a>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
