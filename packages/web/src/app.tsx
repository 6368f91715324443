/**
 * The app's providers and routes. Providers are created once per page load; the router owns the URL.
 */
import { useState } from 'react';
import { createBrowserRouter } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { QueryClientProvider } from '@tanstack/react-query';
import { Layout } from './components/layout';
import { ToastProvider } from './components/toasts';
import { WsClientProvider } from './lib/connection';
import { createApiClients, trpc } from './lib/trpc';
import { HomePage } from './routes/home';
import { NotFoundPage } from './routes/not-found';
import { RouteError } from './routes/route-error';
import { StatusPage } from './routes/status';

const router = createBrowserRouter([
  {
    path: '/',
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <HomePage /> },
      { path: 'status', element: <StatusPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);

export function App() {
  const [clients] = useState(() => createApiClients());
  return (
    <trpc.Provider client={clients.trpcClient} queryClient={clients.queryClient}>
      <QueryClientProvider client={clients.queryClient}>
        <WsClientProvider client={clients.wsClient}>
          <ToastProvider>
            <RouterProvider router={router} />
          </ToastProvider>
        </WsClientProvider>
      </QueryClientProvider>
    </trpc.Provider>
  );
}
