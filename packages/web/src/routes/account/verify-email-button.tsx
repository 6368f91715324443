/** Mails a link confirming the account's address (`auth.requestEmailVerification`); the link opens /verify-email. */
import { trpc } from '../../lib/trpc';

export function VerifyEmailButton() {
  const request = trpc.auth.requestEmailVerification.useMutation();
  if (request.isSuccess) {
    return (
      <span className="small muted" role="status" data-testid="verify-email-sent">
        Confirmation link sent; check your inbox.
      </span>
    );
  }
  return (
    <button type="button" className="link-button" disabled={request.isPending} onClick={() => request.mutate()}>
      {request.isPending ? 'Sending…' : 'Send a confirmation link'}
    </button>
  );
}
