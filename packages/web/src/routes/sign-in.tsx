/**
 * Sign-in. On success the form only reports the new identity; the page's guard (RedirectIfSignedIn) then takes the
 * user to `next` or the studio home.
 */
import { Link, useSearchParams } from 'react-router';
import { loginInputSchema } from '@dawg/shared';
import { FormAlert, SubmitButton, TextField, useForm } from '../components/form';
import { useChangeIdentity } from '../lib/auth';
import { collect, emailProblem, firstErrors, schemaErrors } from '../lib/auth-validation';
import { safeNext, withNext } from '../lib/redirect';
import { trpc } from '../lib/trpc';
import { usePageTitle } from '../lib/use-page-title';
import { TryStudio } from './demo';

function loginInput(v: { email: string; password: string }) {
  return { email: v.email.trim(), password: v.password };
}

export function SignInPage() {
  usePageTitle('Sign in');
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const login = trpc.auth.login.useMutation();
  const changeIdentity = useChangeIdentity();
  const form = useForm(
    { email: '', password: '' },
    {
      validate: (v, fields) =>
        firstErrors(
          () => collect({ email: emailProblem(v.email), password: v.password ? null : 'Enter your password.' }),
          () => schemaErrors(loginInputSchema, loginInput(v), fields),
        ),
      // Which of the two was wrong is not said, on purpose: it would tell an attacker which emails have accounts.
      mapping: { messages: { UNAUTHORIZED: 'Invalid email or password.' } },
    },
  );

  return (
    <section className="page auth-page" aria-labelledby="signin-title">
      <h1 id="signin-title">Sign in</h1>
      <p className="lede">Welcome back. Sign in to open your studio.</p>
      <form
        ref={form.formRef}
        className="card form"
        noValidate
        aria-labelledby="signin-title"
        onSubmit={form.submit(async ({ email, password }) => {
          const { user } = await login.mutateAsync(loginInput({ email, password }));
          changeIdentity(user);
        })}
      >
        <FormAlert message={form.errors.form} alertRef={form.alertRef} />
        <TextField
          label="Email"
          type="email"
          inputMode="email"
          autoComplete="email"
          autoCapitalize="none"
          spellCheck={false}
          required
          autoFocus
          {...form.bind('email')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          required
          reveal
          {...form.bind('password')}
        />
        <SubmitButton pending={form.pending} pendingLabel="Signing in…">
          Sign in
        </SubmitButton>
      </form>
      <p className="auth-switch">
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <TryStudio />
      <p className="auth-switch">
        New to DAWG AI? <Link to={withNext('/signup', next)}>Create an account</Link>
      </p>
    </section>
  );
}
