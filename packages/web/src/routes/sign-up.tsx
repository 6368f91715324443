/**
 * Account creation. The password policy is shown up front; the same checks run before sending, and the api's field
 * errors (e.g. an email already registered) land on the same fields.
 */
import { Link, useSearchParams } from 'react-router';
import { registerInputSchema, type RegisterInput } from '@dawg/shared';
import { FormAlert, SubmitButton, TextField, useForm } from '../components/form';
import { useToast } from '../components/toasts';
import { useChangeIdentity } from '../lib/auth';
import {
  collect,
  emailProblem,
  firstErrors,
  nameProblem,
  newPasswordProblem,
  PASSWORD_POLICY,
  schemaErrors,
} from '../lib/auth-validation';
import { safeNext, withNext } from '../lib/redirect';
import { trpc } from '../lib/trpc';
import { usePageTitle } from '../lib/use-page-title';

function registerInput(v: { name: string; email: string; password: string }): RegisterInput {
  const name = v.name.trim();
  return { email: v.email.trim(), password: v.password, ...(name ? { name } : {}) };
}

export function SignUpPage() {
  usePageTitle('Create your account');
  const [params] = useSearchParams();
  const next = safeNext(params.get('next'));
  const register = trpc.auth.register.useMutation();
  const changeIdentity = useChangeIdentity();
  const { notify } = useToast();
  const form = useForm(
    { name: '', email: '', password: '' },
    {
      validate: (v, fields) =>
        firstErrors(
          () =>
            collect({ name: nameProblem(v.name), email: emailProblem(v.email), password: newPasswordProblem(v.password) }),
          () => schemaErrors(registerInputSchema, registerInput(v), fields),
        ),
      // An email that is taken belongs on the email field, where the user can change it.
      mapping: { fieldFor: { CONFLICT: 'email' } },
    },
  );

  return (
    <section className="page auth-page" aria-labelledby="signup-title">
      <h1 id="signup-title">Create your account</h1>
      <p className="lede">Prompt songs and loops, then arrange and mix them in the browser.</p>
      <form
        ref={form.formRef}
        className="card form"
        noValidate
        aria-labelledby="signup-title"
        onSubmit={form.submit(async (values) => {
          const { user } = await register.mutateAsync(registerInput(values));
          changeIdentity(user);
          notify('Welcome to DAWG AI.', { tone: 'success' });
        })}
      >
        <FormAlert message={form.errors.form} alertRef={form.alertRef} />
        <TextField label="Name" autoComplete="name" optional autoFocus {...form.bind('name')} />
        <TextField
          label="Email"
          type="email"
          inputMode="email"
          autoComplete="email"
          autoCapitalize="none"
          spellCheck={false}
          required
          {...form.bind('email')}
        />
        <TextField
          label="Password"
          type="password"
          autoComplete="new-password"
          required
          reveal
          hint={PASSWORD_POLICY}
          {...form.bind('password')}
        />
        <SubmitButton pending={form.pending} pendingLabel="Creating your account…">
          Create account
        </SubmitButton>
      </form>
      <p className="auth-switch">
        Already have an account? <Link to={withNext('/signin', next)}>Sign in</Link>
      </p>
    </section>
  );
}
