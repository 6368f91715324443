/**
 * The WebSocket's state as React state, so any screen can say whether live updates are flowing.
 */
import { createContext, useCallback, useContext, useSyncExternalStore, type ReactNode } from 'react';
import type { TRPCWebSocketClient } from '@trpc/client';

export type WsState = 'idle' | 'connecting' | 'open' | 'reconnecting';

const WsClientContext = createContext<TRPCWebSocketClient | null>(null);

export function WsClientProvider({ client, children }: { client: TRPCWebSocketClient; children: ReactNode }) {
  return <WsClientContext.Provider value={client}>{children}</WsClientContext.Provider>;
}

export function useWsState(): WsState {
  const client = useContext(WsClientContext);
  if (!client) throw new Error('useWsState must be used inside <WsClientProvider>');
  const subscribe = useCallback(
    (onChange: () => void) => {
      const subscription = client.connectionState.subscribe({ next: onChange });
      return () => subscription.unsubscribe();
    },
    [client],
  );
  const snapshot = useSyncExternalStore(subscribe, () => client.connectionState.get());
  if (snapshot.state === 'pending') return 'open';
  if (snapshot.state === 'connecting') return snapshot.error ? 'reconnecting' : 'connecting';
  return 'idle';
}

export const WS_STATE_LABELS: Record<WsState, string> = {
  idle: 'idle (opens when needed)',
  connecting: 'connecting',
  open: 'connected',
  reconnecting: 'reconnecting',
};
