/**
 * The page frame every route shares: skip link, header with the product name, navigation and the account area
 * (who is signed in, sign out), the routed content inside an error boundary, and the notices about the live
 * connection.
 */
import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { useChangeIdentity, useCurrentUser } from '../lib/auth';
import { useWsState, type WsState } from '../lib/connection';
import { errorCode, errorsFromFailure } from '../lib/form-errors';
import { trpc } from '../lib/trpc';
import { DemoBanner } from '../routes/demo';
import { ErrorBoundary } from './error-boundary';
import { useToast } from './toasts';

const NAV = [
  { to: '/', label: 'Studio', end: true },
  { to: '/usage', label: 'Usage', end: false },
  { to: '/billing', label: 'Billing', end: false },
  { to: '/status', label: 'Status', end: false },
] as const;

export function Layout() {
  const { pathname } = useLocation();
  const queryClient = useQueryClient();
  const me = useCurrentUser().data;
  const isAdmin = me?.role === 'admin';
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to main content
      </a>
      <header className="site-header">
        <NavLink to="/" className="brand" aria-label="DAWG AI home">
          <span className="brand-mark" aria-hidden="true" />
          DAWG AI
        </NavLink>
        <nav aria-label="Main">
          <ul className="nav-list">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.end} className="nav-link">
                  {item.label}
                </NavLink>
              </li>
            ))}
            {isAdmin && (
              <li>
                <NavLink to="/admin/costs" className="nav-link">
                  AI costs
                </NavLink>
              </li>
            )}
          </ul>
        </nav>
        <AccountArea />
      </header>
      <DemoBanner user={me} />
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={pathname} onReset={() => void queryClient.resetQueries()}>
          <Outlet />
        </ErrorBoundary>
      </main>
      <ConnectionNotices />
    </>
  );
}

function AccountArea() {
  const me = useCurrentUser();
  const logout = trpc.auth.logout.useMutation();
  const changeIdentity = useChangeIdentity();
  const navigate = useNavigate();
  const { notify } = useToast();

  async function signOut() {
    if (logout.isPending) return;
    try {
      await logout.mutateAsync();
    } catch (err) {
      // UNAUTHORIZED: the session had already ended, which is what the user asked for.
      if (errorCode(err) !== 'UNAUTHORIZED') {
        notify(`Could not sign out. ${errorsFromFailure(err, []).form ?? ''}`, { tone: 'error' });
        return;
      }
    }
    changeIdentity(null);
    await navigate('/signin', { replace: true });
    notify('Signed out.', { tone: 'success' });
  }

  // Until the api answers, showing neither avoids flashing "Sign in" at a signed-in user.
  if (me.data === undefined) return <div className="account-area" />;
  if (me.data === null) {
    return (
      <div className="account-area">
        <NavLink to="/signin" className="nav-link">
          Sign in
        </NavLink>
        <NavLink to="/signup" className="button button-small">
          Sign up
        </NavLink>
      </div>
    );
  }
  const user = me.data;
  return (
    <div className="account-area">
      <NavLink to="/account" className="nav-link account-link" data-testid="header-user">
        <span className="visually-hidden">Account: </span>
        {user.name?.trim() || user.email}
      </NavLink>
      <button
        type="button"
        className="button button-secondary button-small"
        onClick={() => void signOut()}
        aria-disabled={logout.isPending || undefined}
      >
        {logout.isPending ? 'Signing out…' : 'Sign out'}
      </button>
    </div>
  );
}

/** Tells the user when live updates stop and when they come back; a lazily closed idle socket is not news. */
function ConnectionNotices() {
  const state = useWsState();
  const { notify } = useToast();
  const previous = useRef<WsState>(state);
  useEffect(() => {
    const before = previous.current;
    previous.current = state;
    if (state === 'reconnecting' && before === 'open') {
      notify('Live connection lost. Reconnecting…', { tone: 'error' });
    } else if (state === 'open' && before === 'reconnecting') {
      notify('Live connection restored.', { tone: 'success' });
    }
  }, [state, notify]);
  return null;
}
