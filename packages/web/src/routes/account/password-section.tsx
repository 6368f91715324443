/**
 * Changing the password. The api signs out every other session and keeps this one, so the device list is refreshed
 * afterwards.
 */
import { changePasswordInputSchema } from '@dawg/shared';
import { FormAlert, SubmitButton, TextField, useForm } from '../../components/form';
import { useToast } from '../../components/toasts';
import { collect, firstErrors, newPasswordProblem, PASSWORD_POLICY, schemaErrors } from '../../lib/auth-validation';
import { SESSION_ENDED } from '../../lib/form-errors';
import { trpc } from '../../lib/trpc';

function confirmProblem(password: string, repeated: string): string | null {
  if (repeated === '') return 'Repeat the new password.';
  return repeated === password ? null : 'The passwords do not match.';
}

export function PasswordSection({ email }: { email: string }) {
  const change = trpc.auth.changePassword.useMutation();
  const utils = trpc.useUtils();
  const { notify } = useToast();
  const form = useForm(
    { currentPassword: '', newPassword: '', confirmPassword: '' },
    {
      validate: (v, fields) =>
        firstErrors(
          () =>
            collect({
              currentPassword: v.currentPassword ? null : 'Enter your current password.',
              newPassword: newPasswordProblem(v.newPassword),
              confirmPassword: confirmProblem(v.newPassword, v.confirmPassword),
            }),
          () =>
            schemaErrors(
              changePasswordInputSchema,
              { currentPassword: v.currentPassword, newPassword: v.newPassword },
              fields,
            ),
        ),
      mapping: SESSION_ENDED,
    },
  );

  return (
    <section id="password" className="card" aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <p className="muted">Changing it signs out all your other devices.</p>
      <form
        ref={form.formRef}
        className="form"
        noValidate
        aria-labelledby="password-title"
        onSubmit={form.submit(async ({ currentPassword, newPassword }) => {
          await change.mutateAsync({ currentPassword, newPassword });
          form.reset();
          notify('Password changed. Your other devices were signed out.', { tone: 'success' });
          await utils.auth.sessions.invalidate();
        })}
      >
        {/* Lets password managers tell which account's password changed. */}
        <input type="email" name="username" autoComplete="username" value={email} readOnly hidden />
        <FormAlert message={form.errors.form} alertRef={form.alertRef} />
        <TextField label="Current password" type="password" autoComplete="current-password" required {...form.bind('currentPassword')} />
        <TextField
          label="New password"
          type="password"
          autoComplete="new-password"
          required
          reveal
          hint={PASSWORD_POLICY}
          {...form.bind('newPassword')}
        />
        <TextField label="Repeat new password" type="password" autoComplete="new-password" required {...form.bind('confirmPassword')} />
        <SubmitButton pending={form.pending} pendingLabel="Changing…">
          Change password
        </SubmitButton>
      </form>
    </section>
  );
}
