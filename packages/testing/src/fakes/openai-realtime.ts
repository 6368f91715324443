/**
 * A local OpenAI Realtime server (GA protocol) over TLS, so the real `openai` SDK's realtime WebSocket client (which
 * only speaks `wss`) runs against it. The certificate is issued at start by a throwaway CA made with `openssl`; the
 * client trusts it by being handed `ca` (the PEM, also written to `caFile`) — nothing disables TLS verification.
 *
 * Speaks `wss://127.0.0.1:<port>/v1/realtime?model=…` with `Authorization: Bearer <apiKey>`:
 * - on connect: `session.created`; `session.update` → `session.updated` (the session merged);
 * - `input_audio_buffer.append` (base64 PCM16) is decoded and kept per session (`audio`, `appendCount`);
 *   `input_audio_buffer.commit` → `input_audio_buffer.committed`, then the script's `onCommit` (as the real API with
 *   `turn_detection: null`, a commit alone does not answer);
 * - `conversation.item.create` → `conversation.item.created`; `response.create` → the script's `onResponse`;
 *   `response.cancel` → `response.done` with status `cancelled`.
 *
 * Tests script a session with helpers that emit the GA server events: `transcribeInput` (the user's words),
 * `speak` (transcript deltas + `response.output_audio.delta` + `response.done` with usage), `callFunction`
 * (`response.function_call_arguments.delta|done` + `response.done`), and `drop` (the connection dies). Connections are
 * counted (`opened`, `open()`) so a test can prove that no upstream socket outlives its relay.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';

export interface RealtimeUsage {
  textInputTokens?: number;
  audioInputTokens?: number;
  cachedTextInputTokens?: number;
  textOutputTokens?: number;
  audioOutputTokens?: number;
}

export interface FakeRealtimeSession {
  id: string;
  model: string;
  /** The session as configured by the client (`session.update`s merged). */
  config: Record<string, unknown>;
  /** Every client event received, in order (audio appends without their payload). */
  events: { type: string; [key: string]: unknown }[];
  /** All input audio received (PCM16 bytes, decoded from base64). */
  audio: Buffer;
  appendCount: number;
  /** Function outputs received (`conversation.item.create` of type function_call_output). */
  functionOutputs: { call_id: string; output: string }[];
  readonly closed: boolean;
  send(event: Record<string, unknown>): void;
  /** The user's words, as input transcription of the last committed buffer. */
  transcribeInput(text: string): void;
  /** One response: transcript deltas, `audioBytes` of PCM16 in deltas of `chunkBytes`, then response.done. */
  speak(text: string, opts?: { audioBytes?: number; chunkBytes?: number; usage?: RealtimeUsage }): void;
  /** One response whose output is a function call. */
  callFunction(name: string, args: Record<string, unknown>, opts?: { usage?: RealtimeUsage; callId?: string }): void;
  /** An `error` event (the connection stays open, as the real API does). */
  error(message: string, code?: string): void;
  /** The connection dies without a close frame. */
  drop(): void;
}

export interface FakeRealtimeScript {
  /** After `input_audio_buffer.commit` (default: transcribe "hello"). */
  onCommit?: (session: FakeRealtimeSession) => void;
  /** After the n-th `response.create` (n from 1; default: speak "Hi there.", or "Done." after function outputs). */
  onResponse?: (session: FakeRealtimeSession, event: Record<string, unknown>, n: number) => void;
  /** Right after the connection opens (after `session.created`). */
  onConnect?: (session: FakeRealtimeSession) => void;
  /** Each `input_audio_buffer.append`, decoded (benchmarks time frames with it). */
  onAudio?: (session: FakeRealtimeSession, pcm16: Buffer) => void;
}

export interface FakeOpenAIRealtime {
  /** The SDK's baseURL (`https://127.0.0.1:<port>/v1`). */
  baseURL: string;
  /** The realtime endpoint (`wss://127.0.0.1:<port>/v1/realtime`). */
  url: string;
  apiKey: string;
  /** PEM of the CA that issued the server's certificate. */
  ca: string;
  /** The same PEM in a file (for OPENAI_REALTIME_CA_FILE). */
  caFile: string;
  sessions: FakeRealtimeSession[];
  /** Connections accepted so far. */
  opened(): number;
  /** Connections open now. */
  open(): number;
  /** Replaces the script (per test). */
  script(script: FakeRealtimeScript): void;
  /** Refuse new connections with this HTTP status (null: accept again). */
  refuse(status: number | null): void;
  close(): Promise<void>;
}

interface Certificates {
  dir: string;
  ca: string;
  key: string;
  cert: string;
}

/** A CA and a server certificate for 127.0.0.1 / localhost, issued by `openssl` into a temporary directory. */
function issueCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'dawg-realtime-ca-'));
  const run = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=DAWG test CA']
      .concat(['-keyout', 'ca.key', '-out', 'ca.pem', '-addext', 'basicConstraints=critical,CA:TRUE'])
      .concat(['-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
  );
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  run(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'].concat([
      '-out',
      'server.pem',
      '-extfile',
      'server.ext',
    ]),
  );
  return {
    dir,
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
}

function usageOf(u: RealtimeUsage = {}) {
  const text_in = u.textInputTokens ?? 120;
  const audio_in = u.audioInputTokens ?? 40;
  const cached = u.cachedTextInputTokens ?? 0;
  const text_out = u.textOutputTokens ?? 12;
  const audio_out = u.audioOutputTokens ?? 60;
  return {
    total_tokens: text_in + audio_in + cached + text_out + audio_out,
    input_tokens: text_in + audio_in + cached,
    output_tokens: text_out + audio_out,
    input_token_details: {
      text_tokens: text_in + cached,
      audio_tokens: audio_in,
      cached_tokens: cached,
      cached_tokens_details: { text_tokens: cached, audio_tokens: 0 },
    },
    output_token_details: { text_tokens: text_out, audio_tokens: audio_out },
  };
}

/** A deterministic PCM16 tone (so a test can check the bytes that reach the browser). */
export function pcm16Tone(bytes: number, hz = 440, rate = 24_000): Buffer {
  const samples = Math.floor(bytes / 2);
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) out.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 8000), i * 2);
  return out;
}

export async function startFakeOpenAIRealtime(
  opts: { apiKey?: string; script?: FakeRealtimeScript } = {},
): Promise<FakeOpenAIRealtime> {
  const apiKey = opts.apiKey ?? 'sk-fake-realtime';
  const certs = issueCertificates();
  const caFile = join(certs.dir, 'ca.pem');
  let script: FakeRealtimeScript = opts.script ?? {};
  let refusal: number | null = null;
  let counter = 0;
  let opened = 0;
  const sockets = new Set<WebSocket>();
  const sessions: FakeRealtimeSession[] = [];

  const server: Server = createServer({ key: certs.key, cert: certs.cert });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  server.on('request', (_req, res) => {
    res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'https://fake');
    const refuse = (status: number, text: string) =>
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    if (url.pathname !== '/v1/realtime') return refuse(404, 'Not Found');
    if (req.headers.authorization !== `Bearer ${apiKey}`) return refuse(401, 'Unauthorized');
    if (refusal !== null) return refuse(refusal, 'Refused');
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, url.searchParams.get('model') ?? ''));
  });

  function accept(ws: WebSocket, model: string): void {
    opened++;
    sockets.add(ws);
    ws.once('close', () => sockets.delete(ws));
    ws.on('error', () => undefined);
    const id = `sess_${++counter}`;
    let closed = false;
    let lastItem: string | null = null;
    let afterFunctionOutput = false;
    ws.once('close', () => (closed = true));
    const eventId = () => `event_${++counter}`;
    const send = (event: Record<string, unknown>) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event_id: eventId(), ...event }));
    };
    const response = (body: (responseId: string) => Record<string, unknown>[], usage?: RealtimeUsage) => {
      const responseId = `resp_${++counter}`;
      send({
        type: 'response.created',
        response: { id: responseId, object: 'realtime.response', status: 'in_progress' },
      });
      const output = body(responseId);
      send({
        type: 'response.done',
        response: { id: responseId, object: 'realtime.response', status: 'completed', output, usage: usageOf(usage) },
      });
    };
    const session: FakeRealtimeSession = {
      id,
      model,
      config: { type: 'realtime', model, output_modalities: ['audio'] },
      events: [],
      audio: Buffer.alloc(0),
      appendCount: 0,
      functionOutputs: [],
      get closed() {
        return closed;
      },
      send,
      transcribeInput(text) {
        const item_id = lastItem ?? `item_${++counter}`;
        send({ type: 'conversation.item.input_audio_transcription.delta', item_id, content_index: 0, delta: text });
        send({
          type: 'conversation.item.input_audio_transcription.completed',
          item_id,
          content_index: 0,
          transcript: text,
          usage: { type: 'duration', seconds: 1 },
        });
      },
      speak(text, o = {}) {
        const audio = pcm16Tone(o.audioBytes ?? 4800);
        const chunk = o.chunkBytes ?? 2400;
        response((response_id) => {
          const item_id = `item_${++counter}`;
          const at = { response_id, item_id, output_index: 0, content_index: 0 };
          send({
            type: 'response.output_item.added',
            response_id,
            output_index: 0,
            item: { id: item_id, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
          });
          for (const word of text.split(/(?<= )/))
            send({ type: 'response.output_audio_transcript.delta', ...at, delta: word });
          for (let i = 0; i < audio.length; i += chunk) {
            send({
              type: 'response.output_audio.delta',
              ...at,
              delta: audio.subarray(i, i + chunk).toString('base64'),
            });
          }
          send({ type: 'response.output_audio.done', ...at });
          send({ type: 'response.output_audio_transcript.done', ...at, transcript: text });
          const item = {
            id: item_id,
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_audio', transcript: text }],
          };
          send({ type: 'response.output_item.done', response_id, output_index: 0, item });
          return [item];
        }, o.usage);
      },
      callFunction(name, args, o = {}) {
        const call_id = o.callId ?? `call_${++counter}`;
        response((response_id) => {
          const item_id = `item_${++counter}`;
          const text = JSON.stringify(args);
          const at = { response_id, item_id, output_index: 0, call_id };
          send({
            type: 'response.output_item.added',
            response_id,
            output_index: 0,
            item: { id: item_id, type: 'function_call', status: 'in_progress', name, call_id, arguments: '' },
          });
          const half = Math.ceil(text.length / 2);
          send({ type: 'response.function_call_arguments.delta', ...at, delta: text.slice(0, half) });
          send({ type: 'response.function_call_arguments.delta', ...at, delta: text.slice(half) });
          send({ type: 'response.function_call_arguments.done', ...at, name, arguments: text });
          const item = { id: item_id, type: 'function_call', status: 'completed', name, call_id, arguments: text };
          send({ type: 'response.output_item.done', response_id, output_index: 0, item });
          return [item];
        }, o.usage);
      },
      error(message, code = 'invalid_request_error') {
        send({ type: 'error', error: { type: 'invalid_request_error', code, message, param: null, event_id: null } });
      },
      drop() {
        ws.terminate();
      },
    };
    sessions.push(session);
    send({ type: 'session.created', session: { id, object: 'realtime.session', ...session.config } });
    script.onConnect?.(session);

    ws.on('message', (raw, isBinary) => {
      if (isBinary) return session.error('Binary frames are not supported', 'invalid_value');
      let event: { type?: string; [key: string]: unknown };
      try {
        event = JSON.parse(raw.toString()) as typeof event;
      } catch {
        return session.error('Invalid JSON', 'invalid_json');
      }
      const type = String(event.type);
      switch (type) {
        case 'session.update': {
          session.events.push({ type, session: event.session });
          Object.assign(session.config, (event.session ?? {}) as Record<string, unknown>);
          return send({ type: 'session.updated', session: { id, object: 'realtime.session', ...session.config } });
        }
        case 'input_audio_buffer.append': {
          const bytes = Buffer.from(String(event.audio ?? ''), 'base64');
          session.events.push({ type, bytes: bytes.length });
          session.audio = Buffer.concat([session.audio, bytes]);
          session.appendCount++;
          script.onAudio?.(session, bytes);
          return;
        }
        case 'input_audio_buffer.commit': {
          session.events.push({ type });
          lastItem = `item_${++counter}`;
          send({ type: 'input_audio_buffer.committed', previous_item_id: null, item_id: lastItem });
          if (script.onCommit) script.onCommit(session);
          else session.transcribeInput('hello');
          return;
        }
        case 'conversation.item.create': {
          session.events.push({ type, item: event.item });
          const item = (event.item ?? {}) as { type?: string; call_id?: string; output?: string };
          if (item.type === 'function_call_output') {
            session.functionOutputs.push({ call_id: String(item.call_id), output: String(item.output) });
            afterFunctionOutput = true;
          }
          return send({
            type: 'conversation.item.created',
            previous_item_id: null,
            item: { id: `item_${++counter}`, ...item },
          });
        }
        case 'response.create': {
          session.events.push({ type, response: event.response });
          const responses = session.events.filter((e) => e.type === 'response.create').length;
          if (script.onResponse) script.onResponse(session, event, responses);
          else session.speak(afterFunctionOutput ? 'Done.' : 'Hi there.');
          afterFunctionOutput = false;
          return;
        }
        case 'response.cancel': {
          session.events.push({ type });
          return;
        }
        default:
          session.events.push({ type, ...event });
      }
    });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `https://127.0.0.1:${port}/v1`,
    url: `wss://127.0.0.1:${port}/v1/realtime`,
    apiKey,
    ca: certs.ca,
    caFile,
    sessions,
    opened: () => opened,
    open: () => sockets.size,
    script(next) {
      script = next;
    },
    refuse(status) {
      refusal = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => {
          rmSync(certs.dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
