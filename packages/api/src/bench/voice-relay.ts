/**
 * Benchmark of the realtime voice relay (goal: median added latency ≤ 5 ms per audio frame, each way). One api
 * (buildServer, on a scratch migrated database, Redis under a throwaway prefix) relays `/voice` to the local Realtime
 * server (TLS). Each frame is 20 ms of PCM16 at 24 kHz with a sequence number in its first 4 bytes:
 * - up: the client writes a binary frame to `/voice` → the fake decodes the `input_audio_buffer.append`;
 * - down: the fake writes a `response.output_audio.delta` → the client receives the binary frame.
 * The baseline, measured in the same run and interleaved, is a direct connection from the same process to the same
 * fake (the SDK's transport: `ws` over TLS, JSON + base64 as the Realtime API wants). Frames are sent one at a time
 * (each waits for the previous one to arrive), so a number is a frame's own latency, not a queue's.
 * Needs Postgres (DATABASE_URL or the local admin database) and Redis (REDIS_URL or 127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { createDb, migrateToLatest } from '@dawg/db';
import { apiEnvSchema, parseEnv } from '@dawg/shared';
import { createUser } from '@dawg/testing/fixtures';
import { startFakeOpenAIRealtime, type FakeRealtimeSession } from '@dawg/testing/fakes/openai-realtime';
import { adminUrl, databaseUrl, quoteIdent, withAdminClient } from '@dawg/testing/pg-admin';
import { flushPrefix } from '@dawg/testing/redis';
import { WebSocket } from 'ws';
import { buildServer } from '../server';

export interface VoiceRelayResult {
  /** Per round: median ms per frame, browser → relay → upstream. */
  relayUp: number[];
  /** Per round: median ms per frame, upstream → relay → browser. */
  relayDown: number[];
  /** Per round: median ms per frame over a direct connection to the upstream, each way. */
  directUp: number[];
  directDown: number[];
}

const FRAME_BYTES = 960;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function frame(seq: number): Buffer {
  const f = Buffer.alloc(FRAME_BYTES);
  f.writeUInt32LE(seq, 0);
  return f;
}

/** Resolves `wait(seq)` when `arrived(seq)` is called, with the arrival time. */
function arrivals() {
  const waiting = new Map<number, (at: number) => void>();
  return {
    wait: (seq: number) => new Promise<number>((resolve) => waiting.set(seq, resolve)),
    arrived(seq: number) {
      const at = performance.now();
      waiting.get(seq)?.(at);
      waiting.delete(seq);
    },
  };
}

export async function run({ rounds = 7, frames = 50 } = {}): Promise<VoiceRelayResult> {
  const base = process.env.DATABASE_URL ?? adminUrl();
  const dbName = `dawg_bench_voice_${randomBytes(4).toString('hex')}`;
  const prefix = `bench:voice:${randomBytes(4).toString('hex')}`;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  await withAdminClient((c) => c.query(`CREATE DATABASE ${quoteIdent(dbName)}`), base);
  const db = createDb({ connectionString: databaseUrl(base, dbName), max: 4 });
  const up = arrivals();
  const down = arrivals();
  const fake = await startFakeOpenAIRealtime({
    script: { onAudio: (_session, pcm) => up.arrived(pcm.readUInt32LE(0)) },
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
      CORS_ORIGINS: 'http://localhost:5173',
      OPENAI_API_KEY: fake.apiKey,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_REALTIME_CA_FILE: fake.caFile,
    });
    const server = await buildServer({ env, logger: false });
    cleanup.push(() => server.close());
    const url = await server.listen();
    const { token } = await createUser(db);

    // The relayed session.
    const relay = new WebSocket(`${url.replace(/^http/, 'ws')}/voice`, {
      headers: { origin: 'http://localhost:5173', authorization: `Bearer ${token}` },
    });
    cleanup.push(() => relay.terminate());
    relay.on('message', (data, isBinary) => {
      if (isBinary) down.arrived((data as Buffer).readUInt32LE(0));
    });
    await new Promise<void>((resolve, reject) => {
      relay.once('open', resolve);
      relay.once('error', reject);
    });
    const connected = new Promise<void>((resolve, reject) =>
      relay.on('message', (data, isBinary) => {
        if (isBinary) return;
        const event = JSON.parse(data.toString()) as { type: string; error?: string };
        if (event.type === 'voice-connected') resolve();
        if (event.type === 'error') reject(new Error(event.error));
      }),
    );
    relay.send(JSON.stringify({ type: 'voice-connect', voice: 'alloy' }));
    await connected;
    const relayed: FakeRealtimeSession = fake.sessions.at(-1)!;

    // The direct session (same fake, same process).
    const direct = new WebSocket(`${fake.url}?model=gpt-realtime`, {
      headers: { authorization: `Bearer ${fake.apiKey}` },
      ca: fake.ca,
      perMessageDeflate: false,
    });
    cleanup.push(() => direct.terminate());
    direct.on('message', (data) => {
      const event = JSON.parse(data.toString()) as { type: string; delta?: string };
      if (event.type === 'response.output_audio.delta') down.arrived(Buffer.from(event.delta ?? '', 'base64').readUInt32LE(0));
    });
    await new Promise<void>((resolve, reject) => {
      direct.once('open', resolve);
      direct.once('error', reject);
    });
    const directSession: FakeRealtimeSession = fake.sessions.at(-1)!;

    let seq = 0;
    const delta = (s: FakeRealtimeSession, n: number) =>
      s.send({
        type: 'response.output_audio.delta',
        response_id: 'resp_bench',
        item_id: 'item_bench',
        output_index: 0,
        content_index: 0,
        delta: frame(n).toString('base64'),
      });
    async function relayUp(): Promise<number> {
      const n = ++seq;
      const arrived = up.wait(n);
      const at = performance.now();
      relay.send(frame(n), { binary: true });
      return (await arrived) - at;
    }
    async function directUp(): Promise<number> {
      const n = ++seq;
      const arrived = up.wait(n);
      const at = performance.now();
      direct.send(JSON.stringify({ type: 'input_audio_buffer.append', audio: frame(n).toString('base64') }));
      return (await arrived) - at;
    }
    async function relayDown(): Promise<number> {
      const n = ++seq;
      const arrived = down.wait(n);
      const at = performance.now();
      delta(relayed, n);
      return (await arrived) - at;
    }
    async function directDown(): Promise<number> {
      const n = ++seq;
      const arrived = down.wait(n);
      const at = performance.now();
      delta(directSession, n);
      return (await arrived) - at;
    }

    // Warm-up: JIT and the sockets' first writes.
    for (let i = 0; i < 20; i++) {
      await relayUp();
      await directUp();
      await relayDown();
      await directDown();
    }
    const result: VoiceRelayResult = { relayUp: [], relayDown: [], directUp: [], directDown: [] };
    for (let round = 0; round < rounds; round++) {
      const samples = { relayUp: [] as number[], relayDown: [] as number[], directUp: [] as number[], directDown: [] as number[] };
      for (let i = 0; i < frames; i++) {
        samples.relayUp.push(await relayUp());
        samples.directUp.push(await directUp());
        samples.relayDown.push(await relayDown());
        samples.directDown.push(await directDown());
      }
      result.relayUp.push(median(samples.relayUp));
      result.relayDown.push(median(samples.relayDown));
      result.directUp.push(median(samples.directUp));
      result.directDown.push(median(samples.directDown));
      // The fake keeps every byte it heard: start each round with an empty buffer.
      relayed.audio = Buffer.alloc(0);
      directSession.audio = Buffer.alloc(0);
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
