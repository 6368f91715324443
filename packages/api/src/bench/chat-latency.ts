/**
 * Benchmark `chat.added_latency_first_token` (goal: median ≤ 20 ms): what the AI producer's pipeline adds between
 * the provider sending an answer's first token and a subscriber receiving it. One api (buildServer, on a scratch
 * migrated database, Redis under a throwaway prefix) talks to a local Anthropic server; each measured turn is sent
 * with `chat.send`, followed with `chat.onEvent` over the tRPC WebSocket, and the fake holds the first token until
 * the subscriber has the turn's first event. Latency = the subscriber's receipt of the first `text_delta` − the
 * fake writing it. The baseline, measured in the same run and interleaved, is the SDK alone in the same process
 * (the provider's stream reading the same fake): the difference is what XADD, the stream reader and the socket add.
 * Needs Postgres (DATABASE_URL or the local admin database) and Redis (REDIS_URL or 127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { createDb, migrateToLatest } from '@dawg/db';
import { apiEnvSchema, parseEnv } from '@dawg/shared';
import { createUser } from '@dawg/testing/fixtures';
import { startFakeAnthropic } from '@dawg/testing/fakes/anthropic';
import { adminUrl, databaseUrl, quoteIdent, withAdminClient } from '@dawg/testing/pg-admin';
import { flushPrefix } from '@dawg/testing/redis';
import { createTRPCClient, createWSClient, httpLink, wsLink } from '@trpc/client';
import { WebSocket } from 'ws';
import type { AppRouter } from '../router';
import { buildServer } from '../server';
import { createAnthropicProvider } from '../services/chat/anthropic';

export interface ChatLatencyResult {
  /** Per round: median ms from the fake's first token to the tRPC subscriber. */
  pipeline: number[];
  /** Per round: median ms from the fake's first token to the SDK's text callback, same process. */
  baseline: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export async function run({ rounds = 7, turns = 20 } = {}): Promise<ChatLatencyResult> {
  const base = process.env.DATABASE_URL ?? adminUrl();
  const dbName = `dawg_bench_chat_${randomBytes(4).toString('hex')}`;
  const prefix = `bench:chat:${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(dbName)}`), base);
  const db = createDb({ connectionString: databaseUrl(base, dbName), max: 4 });
  let firstTokenAt: number | undefined;
  const fake = await startFakeAnthropic({
    onEvent: (type, data) => {
      if (firstTokenAt === undefined && type === 'content_block_delta' && (data.delta as { type?: string }).type === 'text_delta') {
        firstTokenAt = performance.now();
      }
    },
  });
  const cleanup: (() => Promise<unknown> | void)[] = [];
  try {
    await migrateToLatest(db);
    const env = parseEnv(apiEnvSchema, {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: databaseUrl(base, dbName),
      DATABASE_MAX_CONNECTIONS: '6',
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      HOST: '127.0.0.1',
      PORT: '0',
      ENABLE_METRICS: 'false',
      WHITELISTED_IPS: '127.0.0.1',
      ANTHROPIC_API_KEY: fake.apiKey,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MAX_RETRIES: '0',
    });
    const server = await buildServer({ env, logger: false });
    cleanup.push(() => server.close());
    const url = await server.listen();
    const { token } = await createUser(db);
    const http = createTRPCClient<AppRouter>({
      links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
    });
    const socket = createWSClient({
      url: `${url.replace(/^http/, 'ws')}/trpc`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: { token },
    });
    cleanup.push(() => socket.close());
    const ws = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
    const provider = createAnthropicProvider(env);

    const answer = (hold: Gate) => ({ steps: [{ wait: hold.promise }, { text: ['first', ' token', ' and the rest'] }] });

    async function pipelineTurn(): Promise<number> {
      const hold = gate();
      fake.enqueue(answer(hold));
      firstTokenAt = undefined;
      const sent = await http.chat.send.mutate({ message: 'latency probe' });
      return new Promise<number>((resolve, reject) => {
        let receivedAt: number | undefined;
        const sub = ws.chat.onEvent.subscribe(
          { turnId: sent.turnId },
          {
            onData: ({ data }) => {
              if (data.type === 'turn_started') hold.open();
              if (data.type === 'text_delta' && receivedAt === undefined) receivedAt = performance.now();
              if (data.type === 'message' || data.type === 'error') {
                sub.unsubscribe();
                if (data.type === 'error') return reject(new Error(data.message));
                if (receivedAt === undefined || firstTokenAt === undefined) return reject(new Error('no first token'));
                resolve(receivedAt - firstTokenAt);
              }
            },
            onError: reject,
          },
        );
      });
    }

    async function baselineTurn(): Promise<number> {
      const hold = gate();
      fake.enqueue(answer(hold));
      firstTokenAt = undefined;
      let receivedAt: number | undefined;
      const streaming = provider.stream(
        { system: 'bench', messages: [{ role: 'user', content: [{ type: 'text', text: 'latency probe' }] }], tools: [], maxTokens: 64 },
        {
          signal: new AbortController().signal,
          onText: () => {
            receivedAt ??= performance.now();
          },
        },
      );
      hold.open();
      await streaming;
      if (receivedAt === undefined || firstTokenAt === undefined) throw new Error('no first token');
      return receivedAt - firstTokenAt;
    }

    // Warm-up: connections, JIT, the stream reader's first blocking read.
    for (let i = 0; i < 3; i++) {
      await pipelineTurn();
      await baselineTurn();
    }
    const result: ChatLatencyResult = { pipeline: [], baseline: [] };
    for (let round = 0; round < rounds; round++) {
      const p: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < turns; i++) {
        p.push(await pipelineTurn());
        b.push(await baselineTurn());
      }
      result.pipeline.push(median(p));
      result.baseline.push(median(b));
    }
    return result;
  } finally {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => undefined);
    await fake.close();
    await flushPrefix(redisUrl, prefix).catch(() => undefined);
    await db.destroy();
    await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS ${quoteIdent(dbName)} WITH (FORCE)`), base);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await run(), null, 2)}\n`);
}
