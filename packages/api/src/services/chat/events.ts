/**
 * A turn's events on its Redis Stream (`<prefix>:chat:turn:<turnId>`): appended by the api process running the turn,
 * read by any api process through its one stream reader. `chatTurnEvents` is `chat.onEvent`: every event of the turn
 * from the start (or after the client's last id), each tagged with its stream id as the `tracked()` id, until the
 * final event. Listener first, then the backlog, then live entries, deduplicated by id: nothing lost, nothing twice.
 */
import { failStaleTurns, findTurnOfUser, listMessages, type Database } from '@dawg/db';
import {
  AppError,
  CHAT_EVENT_FIELD,
  CHAT_LIMITS,
  chatEventSchema,
  isFinalChatEvent,
  type ChatEvent,
} from '@dawg/shared';
import { tracked, type TrackedEnvelope } from '@trpc/server';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { compareStreamIds, isStreamId, type StreamEntry, type StreamHub } from '../stream-hub';

export function chatTurnKey(prefix: string, turnId: string): string {
  return `${prefix}:chat:turn:${turnId}`;
}

export interface ChatEntry {
  id: string;
  event: ChatEvent;
}

export function parseChatEntry(entry: StreamEntry): ChatEntry | null {
  const value = entry.fields[CHAT_EVENT_FIELD];
  if (value === undefined) return null;
  try {
    const parsed = chatEventSchema.safeParse(JSON.parse(value));
    return parsed.success ? { id: entry.id, event: parsed.data } : null;
  } catch {
    return null;
  }
}

/**
 * Appends events in order on one connection. Each XADD is sent at once (ioredis pipelines them in order); `flush`
 * waits for all of them and reports the first failure.
 */
export class ChatEventWriter {
  private pending: Promise<unknown>[] = [];
  private expiring = false;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
  ) {}

  append(event: ChatEvent): Promise<string | null> {
    const added = this.redis.xadd(
      this.key,
      'MAXLEN',
      '~',
      CHAT_LIMITS.EVENTS_MAXLEN,
      '*',
      CHAT_EVENT_FIELD,
      JSON.stringify(event),
    );
    this.pending.push(added);
    if (!this.expiring) {
      this.expiring = true;
      this.pending.push(this.redis.expire(this.key, CHAT_LIMITS.EVENTS_TTL_SEC));
    }
    if (this.pending.length > 256) this.pending = [Promise.all(this.pending)];
    return added;
  }

  async flush(): Promise<void> {
    const all = this.pending;
    this.pending = [];
    await Promise.all(all);
  }

  /** After the final event: the stream stays long enough for late readers, then goes. */
  async finish(): Promise<void> {
    await this.flush();
    await this.redis.expire(this.key, CHAT_LIMITS.EVENTS_DONE_TTL_SEC);
  }
}

/** An unbounded in-process buffer between the hub's callback and the generator. */
class EntryQueue {
  private items: ChatEntry[] = [];
  private waiter: (() => void) | undefined;

  push(entry: ChatEntry): void {
    this.items.push(entry);
    this.waiter?.();
  }

  /** The next entry, or undefined when the signal fires or `timeoutMs` passes first. */
  async next(signal: AbortSignal, timeoutMs: number): Promise<ChatEntry | undefined> {
    const item = this.items.shift();
    if (item || signal.aborted) return item;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      this.waiter = () => {
        this.waiter = undefined;
        done();
      };
      signal.addEventListener('abort', done, { once: true });
    });
    this.waiter = undefined;
    return this.items.shift();
  }
}

export interface ChatEventDeps {
  db: Kysely<Database>;
  streams: StreamHub;
  prefix: string;
}

export const LOST = 'The answer was lost (the server stopped while writing it); please send your message again';

/** How often a quiet subscription looks at the turn's row (a turn whose process died ends there, not in the stream). */
const QUIET_CHECK_MS = 15_000;

/** The final event of a turn whose stream is gone (expired, or its process died): rebuilt from the database. */
async function finalFromDb(deps: ChatEventDeps, userId: string, turnId: string): Promise<ChatEvent | null> {
  const turn = await findTurnOfUser(deps.db, userId, turnId);
  if (!turn || turn.status === 'running') return null;
  if (turn.status === 'failed') {
    return {
      type: 'error',
      code: 'SERVICE_UNAVAILABLE',
      message: turn.error ?? 'The answer failed',
      costMicro: turn.cost_micro,
    };
  }
  const messages = (await listMessages(deps.db, turn.conversation_id, CHAT_LIMITS.MESSAGES_MAX)).filter(
    (m) => m.turn_id === turnId && m.role === 'assistant',
  );
  return {
    type: 'message',
    messageId: messages.at(-1)?.id ?? null,
    content: messages
      .map((m) => m.content)
      .filter(Boolean)
      .join('\n\n'),
    status: turn.status === 'canceled' ? 'canceled' : 'succeeded',
    inputTokens: turn.input_tokens,
    outputTokens: turn.output_tokens,
    costMicro: turn.cost_micro,
  };
}

export async function* chatTurnEvents(
  deps: ChatEventDeps,
  userId: string,
  input: { turnId: string; lastEventId?: string | undefined },
  signal: AbortSignal,
): AsyncGenerator<TrackedEnvelope<ChatEvent>> {
  const turn = await findTurnOfUser(deps.db, userId, input.turnId);
  if (!turn) throw new AppError('NOT_FOUND', 'Turn not found');
  const key = chatTurnKey(deps.prefix, input.turnId);
  const queue = new EntryQueue();
  const unsubscribe = await deps.streams.subscribe(key, (raw) => {
    const entry = parseChatEntry(raw);
    if (entry) queue.push(entry);
  });
  try {
    let cursor = input.lastEventId && isStreamId(input.lastEventId) ? input.lastEventId : '0-0';
    const emit = (entry: ChatEntry) => {
      cursor = entry.id;
      return tracked(entry.id, entry.event);
    };
    const backlog = await deps.streams.range(key, cursor === '0-0' ? null : cursor);
    for (const raw of backlog) {
      const entry = parseChatEntry(raw);
      if (!entry || compareStreamIds(entry.id, cursor) <= 0) continue;
      yield emit(entry);
      if (isFinalChatEvent(entry.event)) return;
    }
    // A turn that ended without its final event on the stream (its process died, or the stream expired) ends
    // with the outcome stored in its row.
    const endedWithoutFinal = async (): Promise<ChatEvent | null> => {
      if (await streamHasFinal(deps, key)) return null;
      // A turn whose process died stopped beating: it is closed here, so its follower does not wait forever.
      await failStaleTurns(deps.db, turn.conversation_id, new Date(Date.now() - CHAT_LIMITS.STALE_TURN_MS), LOST);
      return finalFromDb(deps, userId, input.turnId);
    };
    if (turn.status !== 'running' || turn.updated_at.getTime() < Date.now() - CHAT_LIMITS.STALE_TURN_MS) {
      const final = await endedWithoutFinal();
      if (final) {
        yield tracked(cursor === '0-0' ? '0-1' : cursor, final);
        return;
      }
    }
    for (;;) {
      const entry = await queue.next(signal, QUIET_CHECK_MS);
      if (signal.aborted) return;
      if (!entry) {
        const final = await endedWithoutFinal();
        if (final) {
          yield tracked(cursor === '0-0' ? '0-1' : cursor, final);
          return;
        }
        continue;
      }
      if (compareStreamIds(entry.id, cursor) <= 0) continue;
      yield emit(entry);
      if (isFinalChatEvent(entry.event)) return;
    }
  } finally {
    unsubscribe();
  }
}

async function streamHasFinal(deps: ChatEventDeps, key: string): Promise<boolean> {
  const entries = await deps.streams.range(key, null);
  return entries.some((raw) => {
    const entry = parseChatEntry(raw);
    return entry !== null && isFinalChatEvent(entry.event);
  });
}
