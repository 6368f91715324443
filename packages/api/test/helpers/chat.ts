/**
 * Helpers of the AI producer tests: a recorder of `chat.onEvent` over a tRPC WebSocket client, and a gate the fake
 * Anthropic server waits on (the test decides when the next part of an answer is sent: no timers).
 */
import type { ChatEvent } from '@dawg/shared';
import { waitFor } from '@dawg/testing';
import type { wsClient } from './generation';

export interface ReceivedChatEvent {
  id: string;
  data: ChatEvent;
}

export function subscribeTurn(
  client: ReturnType<typeof wsClient>['client'],
  input: { turnId: string; lastEventId?: string },
) {
  const items: ReceivedChatEvent[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const sub = client.chat.onEvent.subscribe(input, {
    onData: (item) => void items.push(item as unknown as ReceivedChatEvent),
    onError: (err) => void errors.push(err),
    onComplete: () => {
      completed = true;
    },
  });
  return {
    items,
    errors,
    isCompleted: () => completed,
    deltas: () => items.filter((i) => i.data.type === 'text_delta'),
    text: () => items.map((i) => (i.data.type === 'text_delta' ? i.data.text : '')).join(''),
    final: () => items.find((i) => i.data.type === 'message' || i.data.type === 'error'),
    until: (match: (item: ReceivedChatEvent) => boolean, description: string, timeoutMs = 20_000) =>
      waitFor(() => items.find(match), { timeoutMs, description }),
    done: (timeoutMs = 20_000) => waitFor(() => completed, { timeoutMs, description: 'subscription completed' }),
    unsubscribe: () => sub.unsubscribe(),
  };
}

export interface Gate {
  promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
