/**
 * Benchmark `progress.latency_worker_to_subscriber` (goal: median ≤ 20 ms): the time from a worker starting to
 * publish a progress event (MULTI XADD + EXPIRE on the generation's stream, exactly as the worker does) to the api
 * process's progress hub handing it to a subscriber, with 20 generations subscribed at once on the hub's single
 * blocking reader. Needs Redis (REDIS_URL, default 127.0.0.1:6379); keys live under a throwaway prefix.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GENERATION_EVENT_FIELD,
  GENERATION_EVENTS_MAXLEN,
  GENERATION_EVENTS_TTL_SEC,
  generationEventsKey,
  type GenerationProgressEvent,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createProgressHub } from '../services/progress-hub';

export interface Measurement {
  name: string;
  unit: string;
  value: number;
  goal?: { comparator: '<=' | '>='; target: number };
  details?: Record<string, number>;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

export async function run({ events = 400, streams = 20 } = {}): Promise<Measurement[]> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench:progress:${randomBytes(4).toString('hex')}`;
  const main = new Redis(redisUrl);
  const worker = new Redis(redisUrl);
  const hub = createProgressHub({
    redisUrl,
    redis: main,
    prefix,
    log: pino({ level: 'silent' }) as unknown as FastifyBaseLogger,
  });
  const ids = Array.from({ length: streams }, () => randomUUID());
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let received = 0;
  try {
    for (const id of ids) {
      await hub.subscribe(id, ({ event }) => {
        const seq = Number(event.message);
        const sent = sentAt.get(seq);
        if (sent !== undefined) latencies.push(performance.now() - sent);
        received++;
      });
    }
    for (let seq = 0; seq < events; seq++) {
      const generationId = ids[seq % streams]!;
      const key = generationEventsKey(prefix, generationId);
      const event: GenerationProgressEvent = {
        generationId,
        status: 'running',
        stage: 'processing',
        progress: 75,
        message: String(seq),
        at: Date.now(),
      };
      sentAt.set(seq, performance.now());
      await worker
        .multi()
        .xadd(key, 'MAXLEN', '~', GENERATION_EVENTS_MAXLEN, '*', GENERATION_EVENT_FIELD, JSON.stringify(event))
        .expire(key, GENERATION_EVENTS_TTL_SEC)
        .exec();
      // Stages are seconds apart in real jobs; a few ms apart keeps each event's latency its own.
      await sleep(3);
    }
    const deadline = Date.now() + 10_000;
    while (received < events && Date.now() < deadline) await sleep(10);
  } finally {
    await hub.close();
    await main.del(...ids.map((id) => generationEventsKey(prefix, id)));
    main.disconnect();
    worker.disconnect();
  }
  if (received < events) throw new Error(`only ${received} of ${events} events reached the subscriber`);
  return [
    {
      name: 'progress.latency_worker_to_subscriber',
      unit: 'ms',
      value: percentile(latencies, 50),
      goal: { comparator: '<=', target: 20 },
      details: { p95Ms: percentile(latencies, 95), maxMs: Math.max(...latencies), events, streams },
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
