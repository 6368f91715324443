/**
 * The page frame every route shares: skip link, header with the product name and navigation, the routed content
 * inside an error boundary, and the notices about the live connection.
 */
import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import { useWsState, type WsState } from '../lib/connection';
import { ErrorBoundary } from './error-boundary';
import { useToast } from './toasts';

const NAV = [
  { to: '/', label: 'Studio', end: true },
  { to: '/status', label: 'Status', end: false },
] as const;

export function Layout() {
  const { pathname } = useLocation();
  const queryClient = useQueryClient();
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
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <ErrorBoundary resetKey={pathname} onReset={() => void queryClient.resetQueries()}>
          <Outlet />
        </ErrorBoundary>
      </main>
      <ConnectionNotices />
    </>
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
