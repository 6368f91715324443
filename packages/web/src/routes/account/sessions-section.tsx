/**
 * The devices signed in to the account, this one marked, each other one revocable after a confirmation.
 */
import { useRef, useState } from 'react';
import type { RouterOutputs } from '@dawg/api';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { ErrorPanel } from '../../components/error-boundary';
import { useToast } from '../../components/toasts';
import { errorsFromFailure } from '../../lib/form-errors';
import { describeUserAgent, formatDateTime, isoString, toDate } from '../../lib/format';
import { trpc } from '../../lib/trpc';

type SessionRow = RouterOutputs['auth']['sessions'][number];

/** This device first, then the most recently active. */
function byRelevance(a: SessionRow, b: SessionRow): number {
  if (a.current !== b.current) return a.current ? -1 : 1;
  return (toDate(b.lastSeenAt)?.getTime() ?? 0) - (toDate(a.lastSeenAt)?.getTime() ?? 0);
}

export function SessionsSection() {
  const sessions = trpc.auth.sessions.useQuery();
  const revoke = trpc.auth.revokeSession.useMutation();
  const utils = trpc.useUtils();
  const { notify } = useToast();
  const [target, setTarget] = useState<SessionRow | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);

  async function confirmRevoke() {
    if (!target) return;
    const device = describeUserAgent(target.userAgent);
    try {
      await revoke.mutateAsync({ id: target.id });
      notify(`${device} was signed out.`, { tone: 'success' });
      await utils.auth.sessions.invalidate();
    } catch (err) {
      notify(`Could not sign out ${device}. ${errorsFromFailure(err, []).form ?? ''}`, { tone: 'error' });
    } finally {
      setTarget(null);
      // The row (and its button) may be gone; the section heading is the stable place to continue from.
      headingRef.current?.focus();
    }
  }

  const rows = sessions.data ? [...sessions.data].sort(byRelevance) : [];

  return (
    <section id="sessions" className="card" aria-labelledby="sessions-title">
      <h2 id="sessions-title" ref={headingRef} tabIndex={-1}>
        Devices
      </h2>
      <p className="muted">Where your account is signed in. Sign out any device you do not recognise.</p>
      {sessions.error ? (
        <ErrorPanel message={sessions.error.message} onRetry={() => void sessions.refetch()} />
      ) : !sessions.data ? (
        <p className="muted" aria-busy="true">
          Loading devices…
        </p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" data-testid="sessions">
            <caption className="visually-hidden">Signed-in devices</caption>
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">IP address</th>
                <th scope="col">Signed in</th>
                <th scope="col">Last active</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.id} data-testid="session-row" data-current={s.current}>
                  <th scope="row" title={s.userAgent ?? undefined}>
                    {describeUserAgent(s.userAgent)}
                    {s.current && <span className="badge badge-ok badge-inline">This device</span>}
                  </th>
                  <td>{s.ip || <span className="muted">unknown</span>}</td>
                  <td>
                    <time dateTime={isoString(s.createdAt)}>{formatDateTime(s.createdAt)}</time>
                  </td>
                  <td>
                    <time dateTime={isoString(s.lastSeenAt)}>{formatDateTime(s.lastSeenAt)}</time>
                  </td>
                  <td className="actions">
                    {s.current ? (
                      <span className="visually-hidden">Sign out this device with the Sign out button at the top</span>
                    ) : (
                      <button type="button" className="button button-secondary button-small" onClick={() => setTarget(s)}>
                        Sign out<span className="visually-hidden"> {describeUserAgent(s.userAgent)}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={target !== null}
        title="Sign out this device?"
        confirmLabel="Sign out device"
        pending={revoke.isPending}
        onConfirm={() => void confirmRevoke()}
        onCancel={() => setTarget(null)}
      >
        {target && (
          <p>
            {describeUserAgent(target.userAgent)}
            {target.ip ? ` at ${target.ip}` : ''}, last active {formatDateTime(target.lastSeenAt)}, will have to sign
            in again.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
