/**
 * The app's providers and routes. The api clients (query cache, HTTP and WebSocket links) belong to one identity:
 * signing in or out swaps them for fresh ones, so nothing fetched as one user is ever shown to the next and the
 * WebSocket reconnects with the new session cookie. The router lives outside and keeps the URL across the swap.
 */
import { lazy, Suspense, useCallback, useMemo, useRef, useState } from 'react';
import { createBrowserRouter } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { QueryClientProvider } from '@tanstack/react-query';
import { Layout } from './components/layout';
import { ToastProvider } from './components/toasts';
import { IdentityProvider, RedirectIfSignedIn, RequireAuth, type PublicUser } from './lib/auth';
import { WsClientProvider } from './lib/connection';
import { createApiClients, setCurrentUser, trpc } from './lib/trpc';
import { AccountPage } from './routes/account/account-page';
import { AdminCostsPage } from './routes/admin/costs-page';
import { DevOutboxPage, ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from './routes/email-links';
import { BillingPage } from './routes/billing/billing-page';
import { KeepWorkPage } from './routes/demo';
import { HomePage } from './routes/home';
import { NotFoundPage } from './routes/not-found';
import { RouteError } from './routes/route-error';
import { SignInPage } from './routes/sign-in';
import { SignUpPage } from './routes/sign-up';
import { StatusPage } from './routes/status';
import { UsagePage } from './routes/usage/usage-page';

// The studio (timeline, audio engine, generate panel) is its own chunk: sign-in and account pages load without it.
const StudioPage = lazy(() => import('./routes/studio/studio-page').then((m) => ({ default: m.StudioPage })));

function StudioLoading() {
  return (
    <p className="page muted" aria-busy="true">
      Opening the studio…
    </p>
  );
}

const router = createBrowserRouter([
  {
    path: '/',
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      {
        index: true,
        element: (
          <RequireAuth>
            <HomePage />
          </RequireAuth>
        ),
      },
      {
        path: 'projects/:id',
        element: (
          <RequireAuth>
            <Suspense fallback={<StudioLoading />}>
              <StudioPage />
            </Suspense>
          </RequireAuth>
        ),
      },
      {
        path: 'account',
        element: (
          <RequireAuth>
            <AccountPage />
          </RequireAuth>
        ),
      },
      {
        path: 'billing',
        element: (
          <RequireAuth>
            <BillingPage />
          </RequireAuth>
        ),
      },
      {
        path: 'usage',
        element: (
          <RequireAuth>
            <UsagePage />
          </RequireAuth>
        ),
      },
      {
        path: 'admin/costs',
        element: (
          <RequireAuth>
            <AdminCostsPage />
          </RequireAuth>
        ),
      },
      {
        path: 'keep-work',
        element: (
          <RequireAuth>
            <KeepWorkPage />
          </RequireAuth>
        ),
      },
      {
        path: 'signin',
        element: (
          <RedirectIfSignedIn>
            <SignInPage />
          </RedirectIfSignedIn>
        ),
      },
      {
        path: 'signup',
        element: (
          <RedirectIfSignedIn>
            <SignUpPage />
          </RedirectIfSignedIn>
        ),
      },
      { path: 'status', element: <StatusPage /> },
      {
        path: 'forgot-password',
        element: (
          <RedirectIfSignedIn>
            <ForgotPasswordPage />
          </RedirectIfSignedIn>
        ),
      },
      // A reset link signs every device out, so it opens whether or not someone is signed in here.
      { path: 'reset-password', element: <ResetPasswordPage /> },
      { path: 'verify-email', element: <VerifyEmailPage /> },
      { path: 'dev/outbox', element: <DevOutboxPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);

export function App() {
  const [clients, setClients] = useState(() => createApiClients());
  const current = useRef(clients);

  const changeIdentity = useCallback((user: PublicUser | null) => {
    const previous = current.current;
    const next = createApiClients();
    // Known already (sign-in returned it): the guards must not bounce the user while asking the api again.
    setCurrentUser(next.queryClient, user);
    current.current = next;
    setClients(next);
    void previous.wsClient.close();
    previous.queryClient.clear();
  }, []);
  const identity = useMemo(() => ({ changeIdentity }), [changeIdentity]);

  return (
    <trpc.Provider client={clients.trpcClient} queryClient={clients.queryClient}>
      <QueryClientProvider client={clients.queryClient}>
        <WsClientProvider client={clients.wsClient}>
          <IdentityProvider value={identity}>
            <ToastProvider>
              <RouterProvider router={router} />
            </ToastProvider>
          </IdentityProvider>
        </WsClientProvider>
      </QueryClientProvider>
    </trpc.Provider>
  );
}
