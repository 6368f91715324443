/**
 * Demo mode (VITE_DEMO_MODE): "Try the studio" gives a visitor who is not signed in an ephemeral account of their own
 * with a sample project and opens it; the banner tells a demo account how long its work is kept; "Keep my work" turns
 * the account into a normal one (sign-up's fields and checks) and keeps its projects.
 */
import { useState } from 'react';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { type KeepDemoWorkInput, keepDemoWorkInputSchema } from '@dawg/shared';
import { FormAlert, SubmitButton, TextField, useForm } from '../components/form';
import { useToast } from '../components/toasts';
import { type PublicUser, useChangeIdentity, useSignedInUser } from '../lib/auth';
import {
  collect,
  emailProblem,
  firstErrors,
  nameProblem,
  newPasswordProblem,
  PASSWORD_POLICY,
  schemaErrors,
} from '../lib/auth-validation';
import { errorsFromFailure } from '../lib/form-errors';
import { withNext } from '../lib/redirect';
import { trpc } from '../lib/trpc';
import { usePageTitle } from '../lib/use-page-title';

/** Whether this build offers the demo (the api must run DEMO_MODE too). */
export const DEMO_MODE = import.meta.env.VITE_DEMO_MODE === 'true';

/** "Try the studio": starts a demo and opens its sample project. */
export function TryStudio() {
  const start = trpc.demo.start.useMutation();
  const changeIdentity = useChangeIdentity();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const [error, setError] = useState<string | null>(null);
  if (!DEMO_MODE) return null;

  async function begin() {
    if (start.isPending) return;
    setError(null);
    try {
      const { user, projectId } = await start.mutateAsync();
      // The sign-in page's guard takes a signed-in user on to `next`: the sample project.
      await navigate(withNext(pathname, `/projects/${projectId}`), { replace: true });
      changeIdentity(user);
    } catch (err) {
      setError(errorsFromFailure(err, []).form ?? 'The demo could not start. Try again.');
    }
  }

  return (
    <div className="card demo-card" data-testid="demo-try">
      <h2>No account yet?</h2>
      <p className="muted">
        Try the studio with a sample project: play it, mix it and generate a few songs. Nothing to fill in.
      </p>
      {error && (
        <p className="form-alert" role="alert">
          {error}
        </p>
      )}
      <button
        type="button"
        className="button"
        onClick={() => void begin()}
        aria-disabled={start.isPending || undefined}
      >
        {start.isPending ? 'Setting up your studio…' : 'Try the studio'}
      </button>
    </div>
  );
}

function hoursLeft(expiresAt: string): number {
  return Math.max(1, Math.ceil((Date.parse(expiresAt) - Date.now()) / 3_600_000));
}

/** Shown on every page to a demo account. */
export function DemoBanner({ user }: { user: PublicUser | null | undefined }) {
  if (!user?.demo) return null;
  return (
    <div className="demo-banner" role="status" data-testid="demo-banner">
      <span>
        <strong>Demo</strong> — your work is kept for {hoursLeft(user.demo.expiresAt)} h.
      </span>
      <Link to="/keep-work" className="button button-small">
        Keep my work
      </Link>
    </div>
  );
}

function keepInput(v: { name: string; email: string; password: string }): KeepDemoWorkInput {
  const name = v.name.trim();
  return { email: v.email.trim(), password: v.password, ...(name ? { name } : {}) };
}

/** "Keep my work": the sign-up form, turning the demo account into a normal one. */
export function KeepWorkPage() {
  usePageTitle('Keep my work');
  const user = useSignedInUser();
  const keep = trpc.demo.keep.useMutation();
  const changeIdentity = useChangeIdentity();
  const { notify } = useToast();
  const form = useForm(
    { name: '', email: '', password: '' },
    {
      validate: (v, fields) =>
        firstErrors(
          () =>
            collect({
              name: nameProblem(v.name),
              email: emailProblem(v.email),
              password: newPasswordProblem(v.password),
            }),
          () => schemaErrors(keepDemoWorkInputSchema, keepInput(v), fields),
        ),
      mapping: { fieldFor: { CONFLICT: 'email' } },
    },
  );

  // A full account has nothing to keep (this is also how a successful keep leaves the page).
  if (!user.demo) return <Navigate to="/" replace />;

  return (
    <section className="page auth-page" aria-labelledby="keep-title">
      <h1 id="keep-title">Keep my work</h1>
      <p className="lede">Create your account: your projects and tracks stay, and nothing expires.</p>
      <form
        ref={form.formRef}
        className="card form"
        noValidate
        aria-labelledby="keep-title"
        onSubmit={form.submit(async (values) => {
          const kept = await keep.mutateAsync(keepInput(values));
          notify('Your work is kept. Welcome to DAWG AI.', { tone: 'success' });
          // The same person, now with a full account and a new session: the page sees it and goes on to the home
          // page (below), as sign-up's guard does; a fresh load then drops everything fetched as the demo.
          changeIdentity(kept.user);
          window.location.replace('/');
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
        <SubmitButton pending={form.pending} pendingLabel="Keeping your work…">
          Keep my work
        </SubmitButton>
      </form>
    </section>
  );
}
