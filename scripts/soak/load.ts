/**
 * The soak's mixed load: a few concurrent loops ("actors"), each repeating one kind of client work against the api
 * until told to stop, counting what succeeded and what failed:
 * - reads: /health, tRPC project.list and track.list, REST /api/tracks and a generation's status;
 * - projects: tRPC mutations project.create → project.update → project.delete;
 * - ws: a tRPC WebSocket opened, `project.live` subscribed, held a moment, stopped and closed; every fifth time the
 *   plain `/` socket's ping/pong;
 * - chat: a turn against the fake Anthropic, alternately tRPC chat.send + `chat.onEvent` over WebSocket until the
 *   final message, and REST POST /api/chat; the conversation is deleted afterwards;
 * - generate: a 5 s local-synth song with POST /api/generate, its status polled until completed, its tracks deleted;
 * - upload: a WAV through POST /api/tracks/upload, polled until the worker analysed it, then deleted.
 * Everything created is deleted again, so the data stays the same size and memory growth is the processes' own.
 */
import { Agent, request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { testWav } from '../ops/smoke';
import type { OperationStats } from './report';

const REQUEST_TIMEOUT_MS = 30_000;
const ERRORS_KEPT = 5;

export class SoakClient {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  /** Keep-alive connections of the soak's requests; close() ends them, so the quiet counts see none of ours. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  close(): void {
    this.agent.destroy();
  }

  private async call(method: string, path: string, body?: unknown, form?: FormData): Promise<any> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    let payload: Buffer | undefined;
    if (form) {
      const encoded = new Response(form);
      payload = Buffer.from(await encoded.arrayBuffer());
      headers['content-type'] = encoded.headers.get('content-type') ?? 'multipart/form-data';
    } else if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      headers['content-type'] = 'application/json';
    }
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${this.base}${path}`, { method, headers, agent: this.agent }, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(REQUEST_TIMEOUT_MS, () =>
        req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.end(payload);
    });
    if (status < 200 || status >= 300) throw new Error(`${method} ${path} answered ${status}: ${text.slice(0, 200)}`);
    return text ? JSON.parse(text) : undefined;
  }

  get(path: string): Promise<any> {
    return this.call('GET', path);
  }
  post(path: string, body: unknown): Promise<any> {
    return this.call('POST', path, body);
  }
  upload(path: string, form: FormData): Promise<any> {
    return this.call('POST', path, undefined, form);
  }
  async query(proc: string, input?: unknown): Promise<any> {
    const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return (await this.get(`/trpc/${proc}${qs}`)).result.data;
  }
  async mutate(proc: string, input: unknown): Promise<any> {
    return (await this.post(`/trpc/${proc}`, input)).result.data;
  }

  /**
   * One tRPC subscription on its own WebSocket (the tRPC wire protocol, JSON, no transformer): resolves once
   * `until` matched a data item (or, without `until`, after `holdMs` from the start), having stopped the
   * subscription and closed the socket.
   */
  subscribe(path: string, input: unknown, opts: { holdMs?: number; until?: (data: any) => boolean }): Promise<number> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}/trpc`, {
        headers: { authorization: `Bearer ${this.token}` },
      });
      let items = 0;
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id: 1, method: 'subscription.stop' }));
        const closed = () => (err ? reject(err) : resolve(items));
        if (ws.readyState === WebSocket.CLOSED) return closed();
        ws.once('close', closed);
        ws.close(1000);
      };
      const timer = setTimeout(
        () => finish(new Error(`${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
        REQUEST_TIMEOUT_MS,
      );
      ws.once('open', () => ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path, input } })));
      ws.on('message', (raw) => {
        const text = String(raw);
        if (text === 'PING') return ws.send('PONG');
        const msg = JSON.parse(text) as {
          id?: number;
          result?: { type: string; id?: string; data?: any };
          error?: { message?: string };
        };
        if (msg.id !== 1) return;
        if (msg.error) return finish(new Error(`${path}: ${msg.error.message ?? JSON.stringify(msg.error)}`));
        if (msg.result?.type === 'started' && opts.holdMs !== undefined) setTimeout(() => finish(), opts.holdMs);
        if (msg.result?.type === 'data') {
          items++;
          // A tracked() item arrives as { id, data }.
          const item = msg.result.id === undefined ? msg.result.data : msg.result.data?.data;
          if (opts.until?.(item)) finish();
        }
        if (msg.result?.type === 'stopped' && opts.until)
          finish(new Error(`${path}: stopped before the expected item`));
      });
      ws.once('error', (err) => finish(err));
      ws.once('close', (code) => {
        if (!settled) finish(new Error(`${path}: socket closed (${code}) before the end`));
      });
    });
  }

  /** The plain `/` socket: one ping, one pong. */
  ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.base.replace(/^http/, 'ws')}/`);
      const timer = setTimeout(() => ws.terminate(), REQUEST_TIMEOUT_MS);
      ws.once('open', () => ws.send(JSON.stringify({ type: 'ping' })));
      ws.once('message', (data) => {
        const ok = String(data) === JSON.stringify({ type: 'pong' });
        ws.once('close', () =>
          ok ? resolve() : reject(new Error(`expected a pong, got ${String(data).slice(0, 100)}`)),
        );
        ws.close(1000);
      });
      ws.once('error', reject);
      ws.once('close', () => clearTimeout(timer));
    });
  }
}

async function waitUntil<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not done in ${timeoutMs} ms`);
    await sleep(300);
  }
}

export interface Actor {
  name: string;
  /** How many loops of it run concurrently. */
  concurrency: number;
  /** Pause between two rounds of one loop. */
  thinkMs: number;
  /** `round`: how many rounds this loop has run before (0, 1, 2, ...). */
  once(client: SoakClient, state: LoadState, round: number): Promise<void>;
}

export interface LoadState {
  /** A project of the soak user, for project.live. */
  projectId: string;
  /** The last completed generation and its owner's client, for its status. */
  lastGeneration?: { client: SoakClient; id: string };
  /** Tracks of generations, deleted once a newer generation completed. */
  pendingDeletes: string[];
  /**
   * A client signed in as a new user: generations are limited to 20 an hour per user (the product's policy, not
   * configurable), so the generate loop moves to a fresh user every GENERATIONS_PER_USER, as many users would.
   */
  newUserClient(): Promise<SoakClient>;
  /** The generate loop's current client and how many generations it has made. */
  generator?: { client: SoakClient; made: number };
}

export const GENERATIONS_PER_USER = 15;

export const ACTORS: readonly Actor[] = [
  {
    name: 'reads',
    concurrency: 2,
    thinkMs: 20,
    async once(client, state) {
      await client.get('/health');
      await client.query('project.list');
      await client.query('track.list', {});
      await client.get('/api/tracks');
      const last = state.lastGeneration;
      if (last) await last.client.get(`/api/generate/${last.id}/status`);
    },
  },
  {
    name: 'projects',
    concurrency: 1,
    thinkMs: 100,
    async once(client, state, round) {
      const created = await client.mutate('project.create', { name: `Soak ${round}` });
      const updated = await client.mutate('project.update', {
        id: created.project.id,
        expectedVersion: created.project.version,
        name: `Soak ${round} renamed`,
        bpm: 128,
      });
      if (updated.project.name !== `Soak ${round} renamed`) throw new Error('project.update did not rename');
      await client.mutate('project.delete', { id: created.project.id });
    },
  },
  {
    name: 'ws',
    concurrency: 2,
    thinkMs: 100,
    async once(client, state, round) {
      await client.subscribe('project.live', { projectId: state.projectId }, { holdMs: 300 + (round % 5) * 300 });
      if (round % 5 === 0) await client.ping();
    },
  },
  {
    name: 'chat',
    concurrency: 1,
    thinkMs: 500,
    async once(client, state, round) {
      let conversationId: string;
      if (round % 2 === 0) {
        const sent = await client.mutate('chat.send', { message: `Soak round ${round}: one idea for a bassline?` });
        conversationId = sent.conversationId;
        await client.subscribe(
          'chat.onEvent',
          { turnId: sent.turnId },
          { until: (data) => data?.type === 'message' || data?.type === 'error' },
        );
      } else {
        const answer = await client.post('/api/chat', {
          message: `Soak round ${round}: a chord idea?`,
          conversationId: null,
        });
        if (answer?.message?.role !== 'assistant')
          throw new Error(`/api/chat answered ${JSON.stringify(answer).slice(0, 200)}`);
        conversationId = answer.conversationId;
      }
      await client.mutate('chat.delete', { id: conversationId });
    },
  },
  {
    name: 'generate',
    concurrency: 1,
    thinkMs: 500,
    async once(_client, state, round) {
      if (!state.generator || state.generator.made >= GENERATIONS_PER_USER) {
        // The previous user's last tracks stay (their status was read); the new user starts a new list.
        state.pendingDeletes = [];
        state.generator = { client: await state.newUserClient(), made: 0 };
      }
      state.generator.made++;
      const client = state.generator.client;
      const { jobId } = await client.post('/api/generate', { prompt: `soak groove ${round}`, duration: 5 });
      await waitUntil('generation', 120_000, async () => {
        const status = await client.get(`/api/generate/${jobId}/status`);
        if (status.status === 'failed' || status.status === 'canceled') {
          throw new Error(`generation ${status.status}: ${JSON.stringify(status).slice(0, 300)}`);
        }
        return status.status === 'completed' ? true : undefined;
      });
      state.lastGeneration = { client, id: jobId };
      const view = await client.query('generation.get', { id: jobId });
      // Keep the last generation's tracks (its status is read); delete the ones before.
      for (const track of view.tracks ?? []) state.pendingDeletes.push(track.id);
      while (state.pendingDeletes.length > (view.tracks?.length ?? 0)) {
        await client.mutate('track.delete', { id: state.pendingDeletes.shift() });
      }
    },
  },
  {
    name: 'upload',
    concurrency: 1,
    thinkMs: 1_000,
    async once(client) {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(testWav())], { type: 'audio/wav' }), 'soak.wav');
      const { tracks } = await client.upload('/api/tracks/upload', form);
      const id = tracks[0].id as string;
      await waitUntil('upload analysis', 60_000, async () => {
        const track = await client.query('track.get', { id });
        if (track.status === 'failed') throw new Error(`uploaded track failed: ${JSON.stringify(track).slice(0, 200)}`);
        return track.status === 'ready' ? true : undefined;
      });
      await client.mutate('track.delete', { id });
    },
  },
];

/** Runs every actor until `stopAt` (ms since the epoch); resolves when every loop has finished its round. */
export async function runLoad(
  client: SoakClient,
  state: LoadState,
  stopAt: number,
  stats: Record<string, OperationStats>,
  actors: readonly Actor[] = ACTORS,
): Promise<void> {
  const loops = actors.flatMap((actor) =>
    Array.from({ length: actor.concurrency }, async () => {
      const s = (stats[actor.name] ??= { ok: 0, failed: 0, errors: [] });
      let round = 0;
      do {
        try {
          await actor.once(client, state, round++);
          s.ok++;
        } catch (err) {
          s.failed++;
          if (s.errors.length < ERRORS_KEPT) s.errors.push((err as Error).message.slice(0, 300));
        }
        await sleep(actor.thinkMs);
      } while (Date.now() < stopAt);
    }),
  );
  await Promise.all(loops);
}
