/**
 * The typed tRPC client: subscriptions over one shared WebSocket, queries and mutations over batched HTTP with the
 * session cookie. Only the router's TYPE comes from @dawg/api; no server code reaches the bundle.
 */
import { createWSClient, httpBatchLink, splitLink, wsLink, type TRPCWebSocketClient } from '@trpc/client';
import { createTRPCReact, getQueryKey } from '@trpc/react-query';
import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import type { AppRouter, RouterOutputs } from '@dawg/api';
import { reconnectDelayMs, trpcHttpUrl, trpcWsUrl } from './api-url';
import { errorCode } from './form-errors';

export const trpc = createTRPCReact<AppRouter>();

/** Records who is signed in (null = nobody) without asking the api, e.g. right after sign-in returned the user. */
export function setCurrentUser(queryClient: QueryClient, user: RouterOutputs['auth']['me']): void {
  queryClient.setQueryData(getQueryKey(trpc.auth.me, undefined, 'query'), user);
}

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

  // A call refused as UNAUTHORIZED: the session expired or was revoked elsewhere (or, on sign-in, there was none to
  // begin with). Forgetting the user lets the route guards send them to sign-in, with the way back, instead of leaving
  // a screen of errors.
  const forgetUserIfUnauthorized = (error: unknown) => {
    if (errorCode(error) === 'UNAUTHORIZED') setCurrentUser(queryClient, null);
  };
  const queryClient: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError: forgetUserIfUnauthorized }),
    mutationCache: new MutationCache({ onError: forgetUserIfUnauthorized }),
    defaultOptions: {
      queries: { staleTime: 5_000, retry: retryOnce, refetchOnWindowFocus: false },
    },
  });

  return { queryClient, trpcClient, wsClient };
}

/** Transient failures earn one retry; an answer such as UNAUTHORIZED or NOT_FOUND will not change by asking again. */
const TRANSIENT = new Set([null, 'INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'TIMEOUT']);

function retryOnce(failureCount: number, error: unknown): boolean {
  return failureCount < 1 && TRANSIENT.has(errorCode(error));
}
