/**
 * `generation.onProgress`: the generation as it is now, then every progress event after it, each tagged with its
 * stream id (the `tracked()` id). A client that reconnects sends the last id it saw (tRPC does it by itself) and
 * gets exactly the events after it: none lost, none twice, whichever api instance it lands on. The subscription
 * ends after the final event (succeeded, failed or canceled).
 *
 * Order matters: register with the hub first (so nothing appended from then on is missed), note the stream's last
 * id, read the row (which is at least as new as that id), yield the row, then the backlog after the cursor, then
 * live entries; anything seen twice (backlog and live overlap) is dropped by id.
 */
import { findGenerationOfOwner, type Database } from '@dawg/db';
import { AppError, isTerminalStatus, type GenerationProgressItem } from '@dawg/shared';
import { tracked, type TrackedEnvelope } from '@trpc/server';
import type { Kysely } from 'kysely';
import { generationView } from './generation';
import type { Storage } from './generation-view';
import { compareStreamIds, isStreamId, type ProgressEntry, type ProgressHub } from './progress-hub';

/** The cursor of a client that has seen nothing: before any stream entry. */
export const START_ID = '0-0';
/** A finished row whose final event is not yet on the stream (commit precedes publish) waits this long for it. */
const FINAL_EVENT_GRACE_MS = 1_000;

/** An unbounded in-process buffer between the hub's callback and the generator. */
class EntryQueue {
  private items: ProgressEntry[] = [];
  private waiter: (() => void) | undefined;

  push(entry: ProgressEntry): void {
    this.items.push(entry);
    this.waiter?.();
  }

  /** The next entry, or undefined when the signal fires or `timeoutMs` passes first. */
  async next(signal: AbortSignal, timeoutMs?: number): Promise<ProgressEntry | undefined> {
    for (;;) {
      const item = this.items.shift();
      if (item) return item;
      if (signal.aborted) return undefined;
      const woke = await new Promise<boolean>((resolve) => {
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => done(false), timeoutMs);
        const onAbort = () => done(false);
        const done = (value: boolean) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          this.waiter = undefined;
          resolve(value);
        };
        this.waiter = () => done(true);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (!woke) return this.items.shift();
    }
  }
}

export interface ProgressDeps {
  db: Kysely<Database>;
  storage: Storage;
  progress: ProgressHub;
}

export async function* generationProgress(
  deps: ProgressDeps,
  ownerId: string,
  input: { id: string; lastEventId?: string | undefined },
  signal: AbortSignal,
): AsyncGenerator<TrackedEnvelope<GenerationProgressItem>> {
  const queue = new EntryQueue();
  const unsubscribe = await deps.progress.subscribe(input.id, (entry) => queue.push(entry));
  try {
    const resumeFrom = input.lastEventId && isStreamId(input.lastEventId) ? input.lastEventId : null;
    let cursor = resumeFrom ?? (await deps.progress.lastId(input.id)) ?? START_ID;
    const row = await findGenerationOfOwner(deps.db, ownerId, input.id);
    if (!row) throw new AppError('NOT_FOUND', 'Generation not found');
    // On resume the snapshot carries the client's own id, so its cursor does not move past unseen events.
    yield tracked(cursor, { type: 'snapshot', generation: await generationView(deps, row) });

    const rowFinished = isTerminalStatus(row.status);
    const emit = (entry: ProgressEntry) => {
      cursor = entry.id;
      return tracked(entry.id, { type: 'event' as const, event: entry.event });
    };
    for (const entry of await deps.progress.range(input.id, cursor === START_ID ? null : cursor)) {
      if (compareStreamIds(entry.id, cursor) <= 0) continue;
      yield emit(entry);
      if (isTerminalStatus(entry.event.status)) return;
    }
    // A fresh subscriber of a finished generation has the final state in the snapshot: nothing more to wait for.
    if (rowFinished && !resumeFrom) return;
    for (;;) {
      const entry = await queue.next(signal, rowFinished ? FINAL_EVENT_GRACE_MS : undefined);
      if (!entry) return;
      if (compareStreamIds(entry.id, cursor) <= 0) continue;
      yield emit(entry);
      if (isTerminalStatus(entry.event.status)) return;
    }
  } finally {
    unsubscribe();
  }
}
