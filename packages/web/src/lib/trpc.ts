/**
 * The typed tRPC client: subscriptions over one shared WebSocket, queries and mutations over batched HTTP with the
 * session cookie. Only the router's TYPE comes from @dawg/api; no server code reaches the bundle.
 */
import { createWSClient, httpBatchLink, splitLink, wsLink, type TRPCWebSocketClient } from '@trpc/client';
import { createTRPCReact } from '@trpc/react-query';
import { QueryClient } from '@tanstack/react-query';
import type { AppRouter } from '@dawg/api';
import { reconnectDelayMs, trpcHttpUrl, trpcWsUrl } from './api-url';

export const trpc = createTRPCReact<AppRouter>();

export interface ApiClients {
  queryClient: QueryClient;
  trpcClient: ReturnType<typeof trpc.createClient>;
  wsClient: TRPCWebSocketClient;
}

export function createApiClients(apiUrl: string | undefined = import.meta.env.VITE_API_URL): ApiClients {
  const wsClient = createWSClient({
    // Resolved at connect time so a page served from a new host after a deploy still reaches the right origin.
    url: () => trpcWsUrl(apiUrl, window.location),
    // Open only while a subscription or request is in flight; reconnects (with the last event id) when it drops.
    lazy: { enabled: true, closeMs: 10_000 },
    retryDelayMs: reconnectDelayMs,
    // A half-open socket (laptop sleep, proxy cut) is noticed within seconds instead of at the next TCP timeout.
    keepAlive: { enabled: true, intervalMs: 5_000, pongTimeoutMs: 2_000 },
  });

  const trpcClient = trpc.createClient({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink<AppRouter>({ client: wsClient }),
        false: httpBatchLink<AppRouter>({
          url: trpcHttpUrl(apiUrl),
          fetch: (input, init) => fetch(input, { ...init, credentials: 'include' }),
        }),
      }),
    ],
  });

  const queryClient = new QueryClient({
    defaultOptions: {
      queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: false },
    },
  });

  return { queryClient, trpcClient, wsClient };
}
