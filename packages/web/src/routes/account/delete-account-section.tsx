/**
 * Deleting the account: the password proves it is the owner at the keyboard, a confirmation says what is lost, and
 * the api removes the data (files included) in a background job.
 */
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { deleteAccountInputSchema } from '@dawg/shared';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { FormAlert, TextField, useForm } from '../../components/form';
import { useToast } from '../../components/toasts';
import { useChangeIdentity } from '../../lib/auth';
import { collect, firstErrors, schemaErrors } from '../../lib/auth-validation';
import { SESSION_ENDED } from '../../lib/form-errors';
import { trpc } from '../../lib/trpc';

export function DeleteAccountSection() {
  const remove = trpc.auth.deleteAccount.useMutation();
  const changeIdentity = useChangeIdentity();
  const navigate = useNavigate();
  const { notify } = useToast();
  const [confirming, setConfirming] = useState(false);
  const form = useForm(
    { password: '' },
    {
      validate: (v, fields) =>
        firstErrors(
          () => collect({ password: v.password ? null : 'Enter your password to confirm.' }),
          () => schemaErrors(deleteAccountInputSchema, v, fields),
        ),
      mapping: SESSION_ENDED,
    },
  );

  async function deleteAccount() {
    const ok = await form.run(async ({ password }) => {
      await remove.mutateAsync({ password });
    });
    setConfirming(false);
    if (!ok) return;
    changeIdentity(null);
    await navigate('/signin', { replace: true });
    notify('Your account was deleted.', { tone: 'success' });
  }

  return (
    <section id="delete-account" className="card card-danger" aria-labelledby="delete-account-title">
      <h2 id="delete-account-title">Delete account</h2>
      <p>
        Deletes your projects, tracks, generations and API keys, and signs out every device. This cannot be undone.
      </p>
      <form
        ref={form.formRef}
        className="form"
        noValidate
        aria-labelledby="delete-account-title"
        onSubmit={(e) => {
          e.preventDefault();
          if (form.check()) setConfirming(true);
        }}
      >
        <FormAlert message={form.errors.form} alertRef={form.alertRef} />
        <TextField label="Your password" type="password" autoComplete="current-password" {...form.bind('password')} />
        <button type="submit" className="button button-danger">
          Delete account…
        </button>
      </form>
      <ConfirmDialog
        open={confirming}
        title="Delete your account?"
        confirmLabel="Delete my account"
        pending={form.pending}
        onConfirm={() => void deleteAccount()}
        onCancel={() => setConfirming(false)}
      >
        <p>Everything in it is removed for good, and you are signed out.</p>
      </ConfirmDialog>
    </section>
  );
}
