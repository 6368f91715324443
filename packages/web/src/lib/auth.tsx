/**
 * Who is signed in, as the app sees it: `auth.me` through React Query, the guards that send visitors to sign-in (and
 * signed-in users on to where they were going), and the identity switch. Signing in or out replaces the api clients
 * (see app.tsx), so no cached data and no WebSocket authenticated as the previous identity survive the change.
 */
import { createContext, useContext, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import type { RouterOutputs } from '@dawg/api';
import { ErrorPanel } from '../components/error-boundary';
import { safeNext, signInPath } from './redirect';
import { trpc } from './trpc';

export type PublicUser = NonNullable<RouterOutputs['auth']['me']>;

interface IdentityApi {
  /** Call after sign-in (with the user) or sign-out / account deletion (with null). */
  changeIdentity(user: PublicUser | null): void;
}

const IdentityContext = createContext<IdentityApi | null>(null);

export function IdentityProvider({ value, children }: { value: IdentityApi; children: ReactNode }) {
  return <IdentityContext.Provider value={value}>{children}</IdentityContext.Provider>;
}

export function useChangeIdentity(): IdentityApi['changeIdentity'] {
  const api = useContext(IdentityContext);
  if (!api) throw new Error('useChangeIdentity must be used inside <IdentityProvider>');
  return api.changeIdentity;
}

/** Time a known identity is trusted without asking again; a revoked session shows up on its next protected call. */
const ME_STALE_MS = 5 * 60_000;

export function useCurrentUser() {
  return trpc.auth.me.useQuery(undefined, { staleTime: ME_STALE_MS });
}

const SignedInUserContext = createContext<PublicUser | null>(null);

/** The signed-in user, for screens under <RequireAuth>. */
export function useSignedInUser(): PublicUser {
  const user = useContext(SignedInUserContext);
  if (!user) throw new Error('useSignedInUser must be used inside <RequireAuth>');
  return user;
}

function Loading() {
  return (
    <p className="page muted" aria-busy="true" data-testid="auth-loading">
      Loading…
    </p>
  );
}

/** Renders its children for a signed-in user; sends anyone else to sign-in with the way back in `next`. */
export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useCurrentUser();
  const location = useLocation();
  if (me.data) return <SignedInUserContext.Provider value={me.data}>{children}</SignedInUserContext.Provider>;
  if (me.data === null) return <Navigate to={signInPath(location)} replace />;
  // The api could not say who this is: that is an outage to report, not a reason to ask for a password.
  if (me.error) return <ErrorPanel message={me.error.message} onRetry={() => void me.refetch()} />;
  return <Loading />;
}

/**
 * The sign-in and sign-up pages: a signed-in user goes on to `next`. This is also how a successful sign-in leaves
 * the page: the form only reports the new identity, and this guard does the navigation.
 */
export function RedirectIfSignedIn({ children }: { children: ReactNode }) {
  const me = useCurrentUser();
  const { search } = useLocation();
  if (me.data) return <Navigate to={safeNext(new URLSearchParams(search).get('next'))} replace />;
  return children;
}
