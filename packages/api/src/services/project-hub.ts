/**
 * A project's live channel across api instances: Redis pub/sub on `${prefix}:project:<id>:events`. Each api process
 * keeps ONE subscriber connection, subscribed to the channels its clients listen to (reference-counted), and fans
 * messages out in-process. Writers (any instance, and the worker for mixdown progress) PUBLISH events; presence
 * heartbeats live in a Redis hash per project, so every instance can answer who is here.
 * Pub/sub is fire-and-forget: the events say "reload" or "here is the state", never carry the only copy of data, so
 * a missed one is healed by the next (or by the client's own reload on reconnect).
 */
import {
  PRESENCE_TTL_MS,
  projectEventSchema,
  projectEventsChannel,
  projectPresenceKey,
  presenceUserSchema,
  type PresenceUser,
  type ProjectEvent,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';

export type ProjectListener = (event: ProjectEvent) => void;

export interface ProjectHub {
  /** Deliver the project's events from now on; returns the unsubscribe function. */
  subscribe(projectId: string, listener: ProjectListener): Promise<() => void>;
  /** Best effort: a Redis hiccup is logged, never thrown (the write it announces has committed). */
  publish(event: ProjectEvent): Promise<void>;
  /** Records the user's heartbeat and publishes the presence list. */
  heartbeat(projectId: string, user: { id: string; name: string }, playheadSec: number): Promise<PresenceUser[]>;
  /** Removes the user from the presence list and publishes it. */
  leave(projectId: string, userId: string): Promise<void>;
  presence(projectId: string): Promise<PresenceUser[]>;
  close(): Promise<void>;
}

export function createProjectHub(opts: {
  redisUrl: string;
  redis: Redis;
  prefix: string;
  log: FastifyBaseLogger;
}): ProjectHub {
  const { redis, prefix, log } = opts;
  const channels = new Map<string, Set<ProjectListener>>();
  let subscriber: Redis | undefined;
  let closed = false;

  function open(): Redis {
    if (subscriber) return subscriber;
    const sub = new Redis(opts.redisUrl, {
      connectionName: 'dawg-api-projects',
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    });
    sub.on('error', (err: Error) => log.debug({ err }, 'project channel connection error'));
    sub.on('message', (channel: string, message: string) => {
      const listeners = channels.get(channel);
      if (!listeners) return;
      let event: ProjectEvent;
      try {
        const parsed = projectEventSchema.safeParse(JSON.parse(message));
        if (!parsed.success) return;
        event = parsed.data;
      } catch {
        return;
      }
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (err) {
          log.error({ err }, 'project listener failed');
        }
      }
    });
    subscriber = sub;
    return sub;
  }

  async function presence(projectId: string): Promise<PresenceUser[]> {
    const key = projectPresenceKey(prefix, projectId);
    const raw = await redis.hgetall(key);
    const now = Date.now();
    const users: PresenceUser[] = [];
    const stale: string[] = [];
    for (const [field, value] of Object.entries(raw)) {
      try {
        const parsed = presenceUserSchema.safeParse(JSON.parse(value));
        if (parsed.success && now - parsed.data.at <= PRESENCE_TTL_MS) users.push(parsed.data);
        else stale.push(field);
      } catch {
        stale.push(field);
      }
    }
    if (stale.length > 0) await redis.hdel(key, ...stale).catch(() => undefined);
    return users.sort((a, b) => a.name.localeCompare(b.name) || a.userId.localeCompare(b.userId));
  }

  async function publish(event: ProjectEvent): Promise<void> {
    try {
      await redis.publish(projectEventsChannel(prefix, event.projectId), JSON.stringify(event));
    } catch (err) {
      log.warn({ err, projectId: event.projectId, type: event.type }, 'project event not published');
    }
  }

  return {
    async subscribe(projectId, listener) {
      if (closed) throw new Error('project hub is closed');
      const channel = projectEventsChannel(prefix, projectId);
      let listeners = channels.get(channel);
      if (!listeners) {
        listeners = new Set();
        channels.set(channel, listeners);
        await open().subscribe(channel);
      }
      listeners.add(listener);
      const mine = listeners;
      return () => {
        mine.delete(listener);
        if (mine.size === 0 && channels.get(channel) === mine) {
          channels.delete(channel);
          subscriber?.unsubscribe(channel).catch(() => undefined);
        }
      };
    },
    publish,
    async heartbeat(projectId, user, playheadSec) {
      const key = projectPresenceKey(prefix, projectId);
      const entry: PresenceUser = { userId: user.id, name: user.name, playheadSec, at: Date.now() };
      await redis
        .multi()
        .hset(key, user.id, JSON.stringify(entry))
        .pexpire(key, PRESENCE_TTL_MS * 2)
        .exec();
      const users = await presence(projectId);
      await publish({ type: 'presence', projectId, users });
      return users;
    },
    async leave(projectId, userId) {
      try {
        await redis.hdel(projectPresenceKey(prefix, projectId), userId);
        await publish({ type: 'presence', projectId, users: await presence(projectId) });
      } catch (err) {
        log.debug({ err, projectId }, 'presence leave not recorded');
      }
    },
    presence,
    async close() {
      closed = true;
      channels.clear();
      if (subscriber) {
        await subscriber.quit().catch(() => subscriber?.disconnect());
      }
    },
  };
}
