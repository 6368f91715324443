/**
 * Closing the WebSockets of revoked credentials, on every api instance. tRPC builds a socket's context once, when it
 * connects, so a socket would otherwise keep the identity of a session that was logged out, revoked, replaced by a
 * password change, or of an API key that was revoked. Each instance keeps a registry of its authenticated sockets
 * (by session, user and API key); a revocation closes the matching local sockets at once and is published on Redis
 * (`${prefix}:auth:revocations`) so the other instances close theirs. As a safety net for a revocation published
 * while Redis was away, every instance re-checks its sockets' credentials against the database once a minute.
 */
import type { Database } from '@dawg/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { RequestAuth } from './context-user';

export const revocationSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session'), sessionId: z.string() }),
  z.object({ kind: z.literal('user'), userId: z.string(), exceptSessionId: z.string().optional() }),
  z.object({ kind: z.literal('api-key'), apiKeyId: z.string() }),
]);
export type Revocation = z.infer<typeof revocationSchema>;

/** Application close code (4000-4999 are ours): the socket's credential is no longer valid. */
export const WS_CLOSE_REVOKED = 4401;
const SWEEP_INTERVAL_MS = 60_000;

interface Entry {
  userId: string;
  sessionId: string | null;
  apiKeyId: string | null;
}

export interface Revocations {
  /** Tracks an authenticated socket until it closes. */
  register(ws: WebSocket, auth: RequestAuth): void;
  /** Closes the matching sockets here and on every other instance. */
  revoke(revocation: Revocation): Promise<void>;
  /** Sockets currently registered on this instance. */
  size(): number;
  /** Re-checks every registered socket against the database (runs every minute). */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

export function createRevocations(opts: {
  redis: Redis;
  db: Kysely<Database>;
  channel: string;
  log: FastifyBaseLogger;
}): Revocations {
  const sockets = new Map<WebSocket, Entry>();
  const { log, channel } = opts;

  function matches(entry: Entry, r: Revocation): boolean {
    switch (r.kind) {
      case 'session':
        return entry.sessionId === r.sessionId;
      case 'user':
        return entry.userId === r.userId && (r.exceptSessionId === undefined || entry.sessionId !== r.exceptSessionId);
      case 'api-key':
        return entry.apiKeyId === r.apiKeyId;
    }
  }

  function closeSocket(ws: WebSocket, reason: string): void {
    sockets.delete(ws);
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(WS_CLOSE_REVOKED, reason);
  }

  function closeMatching(r: Revocation): number {
    let closed = 0;
    for (const [ws, entry] of sockets) {
      if (!matches(entry, r)) continue;
      closeSocket(ws, 'Credentials revoked');
      closed++;
    }
    if (closed > 0) log.info({ kind: r.kind, closed }, 'closed websockets of revoked credentials');
    return closed;
  }

  // Subscriber mode needs its own connection; it queues the SUBSCRIBE until Redis is reachable and resubscribes
  // after every reconnect by itself.
  const subscriber = opts.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: false });
  subscriber.on('error', (err: Error) => log.debug({ err }, 'revocation subscriber error'));
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    let parsed: Revocation;
    try {
      parsed = revocationSchema.parse(JSON.parse(message));
    } catch (err) {
      log.warn({ err }, 'ignoring a malformed revocation message');
      return;
    }
    closeMatching(parsed);
  });
  subscriber.subscribe(channel).catch((err: unknown) => log.warn({ err }, 'subscribing to revocations failed'));

  async function sweep(): Promise<void> {
    const entries = [...sockets.entries()];
    if (entries.length === 0) return;
    const sessionIds = [...new Set(entries.flatMap(([, e]) => (e.sessionId ? [e.sessionId] : [])))];
    const keyIds = [...new Set(entries.flatMap(([, e]) => (e.apiKeyId ? [e.apiKeyId] : [])))];
    const now = new Date();
    const [liveSessions, liveKeys] = await Promise.all([
      sessionIds.length === 0
        ? []
        : opts.db
            .selectFrom('sessions')
            .innerJoin('users', 'users.id', 'sessions.user_id')
            .select('sessions.id')
            .where('sessions.id', 'in', sessionIds)
            .where('sessions.expires_at', '>', now)
            .where('users.disabled_at', 'is', null)
            .execute(),
      keyIds.length === 0
        ? []
        : opts.db
            .selectFrom('api_keys')
            .innerJoin('users', 'users.id', 'api_keys.user_id')
            .select('api_keys.id')
            .where('api_keys.id', 'in', keyIds)
            .where('api_keys.revoked_at', 'is', null)
            .where('users.disabled_at', 'is', null)
            .execute(),
    ]);
    const sessionsAlive = new Set(liveSessions.map((r) => r.id));
    const keysAlive = new Set(liveKeys.map((r) => r.id));
    for (const [ws, entry] of entries) {
      const alive = entry.sessionId
        ? sessionsAlive.has(entry.sessionId)
        : entry.apiKeyId
          ? keysAlive.has(entry.apiKeyId)
          : true;
      if (!alive) closeSocket(ws, 'Credentials no longer valid');
    }
  }

  const timer = setInterval(() => {
    sweep().catch((err: unknown) => log.warn({ err }, 'websocket credential sweep failed'));
  }, SWEEP_INTERVAL_MS);
  timer.unref();

  return {
    register(ws, auth) {
      if (!auth.user) return;
      sockets.set(ws, { userId: auth.user.id, sessionId: auth.session?.id ?? null, apiKeyId: auth.apiKey?.id ?? null });
      ws.once('close', () => sockets.delete(ws));
    },
    async revoke(revocation) {
      closeMatching(revocation);
      try {
        await opts.redis.publish(channel, JSON.stringify(revocation));
      } catch (err) {
        // The other instances' sweep will close their sockets within a minute.
        log.warn({ err, kind: revocation.kind }, 'publishing a revocation failed');
      }
    },
    size: () => sockets.size,
    sweep,
    close() {
      clearInterval(timer);
      sockets.clear();
      // A subscriber holds no state worth a graceful QUIT (which would wait for Redis while it is away).
      subscriber.disconnect();
      return Promise.resolve();
    },
  };
}
