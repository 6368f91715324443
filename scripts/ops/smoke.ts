/**
 * The seed's post-deploy smoke test (Post-Deployment Verification 1 and 2.1–2.2, WebSocket 3.1) against any
 * BASE_URL: health, AI brain and voice health, the main WebSocket's ping/pong, register, login, a generation
 * followed until `completed` and its audio fetched, the track list, an upload, a chat turn and the cost usage.
 * Steps run in order and stop at the first failure; the exit code is 1 and the last line names the failed step.
 *
 *   pnpm ops:smoke --base-url https://api.dawg-ai.com
 *   BASE_URL=http://127.0.0.1:3000 pnpm ops:smoke --skip chat
 */
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import { type CommandSpec, isMain, numberOption, parseArgs, run, UsageError } from './cli';

export const SMOKE_STEPS = [
  'health',
  'ai-brain-health',
  'voice-health',
  'websocket',
  'register',
  'login',
  'generate',
  'generation-status',
  'audio',
  'tracks',
  'upload',
  'chat',
  'cost-usage',
] as const;
export type SmokeStep = (typeof SMOKE_STEPS)[number];

export interface SmokeOptions {
  baseUrl: string;
  /** Sign in with this account instead of registering a fresh one (production). */
  email?: string;
  password?: string;
  /** How long the generation may take to reach `completed`. */
  generationTimeoutMs: number;
  /** Per request. */
  requestTimeoutMs: number;
  skip: ReadonlySet<SmokeStep>;
  /** A 404 from an endpoint is a failure (default: reported as "skipped: not available"). */
  strict: boolean;
  /** Sent as `Origin` on every request (the api's CORS allowlist). */
  origin?: string;
  log?: (line: string) => void;
}

export type StepOutcome = 'passed' | 'failed' | 'skipped';
export interface StepResult {
  step: SmokeStep;
  outcome: StepOutcome;
  detail: string;
  ms: number;
}

export interface SmokeResult {
  ok: boolean;
  failedStep?: SmokeStep;
  steps: StepResult[];
}

class StepFailure extends Error {}
class NotAvailable extends Error {}

interface Answer {
  status: number;
  body: any;
  text: string;
}

/** A one-second 8 kHz mono 16-bit WAV with a 440 Hz tone: the smallest honest audio file for the upload step. */
export function testWav(): Buffer {
  const rate = 8_000;
  const samples = rate;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1)
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 8_000), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runSmoke(opts: SmokeOptions): Promise<SmokeResult> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const base = opts.baseUrl.replace(/\/+$/, '');
  const steps: StepResult[] = [];
  let token = '';
  let jobId = '';
  let audioUrl = '';
  const email = opts.email ?? `smoke-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}@example.com`;
  const password = opts.password ?? `Smoke-${randomBytes(9).toString('base64url')}-Passphrase`;

  async function request(
    method: string,
    path: string,
    init: { json?: unknown; form?: FormData; auth?: boolean; expect: number[] },
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (opts.origin) headers.origin = opts.origin;
    if (init.auth) headers.authorization = `Bearer ${token}`;
    let body: string | FormData | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form) body = init.form;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.timeout(opts.requestTimeoutMs),
      });
    } catch (err) {
      throw new StepFailure(`${method} ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    if (res.status === 404 && !init.expect.includes(404) && !opts.strict) {
      throw new NotAvailable(`${method} ${path} answered 404`);
    }
    if (!init.expect.includes(res.status)) {
      throw new StepFailure(
        `${method} ${path} answered ${res.status} (expected ${init.expect.join(' or ')}): ${text.slice(0, 300)}`,
      );
    }
    return { status: res.status, body: parsed, text };
  }

  function need(condition: unknown, message: string): asserts condition {
    if (!condition) throw new StepFailure(message);
  }

  const actions: Record<SmokeStep, () => Promise<string>> = {
    health: async () => {
      const { body } = await request('GET', '/health', { expect: [200] });
      need(body?.status === 'healthy', `/health says ${JSON.stringify(body)}`);
      return `healthy, version ${body.version ?? '?'}`;
    },
    'ai-brain-health': async () => {
      const { body } = await request('GET', '/api/ai-brain/health', { expect: [200] });
      need(body?.status === 'healthy', `ai-brain says ${JSON.stringify(body)}`);
      return `anthropic_configured=${String(body.anthropic_configured)}`;
    },
    'voice-health': async () => {
      const { body } = await request('GET', '/api/voice/health', { expect: [200] });
      need(body?.status === 'healthy', `voice says ${JSON.stringify(body)}`);
      return `openai_configured=${String(body.openai_configured)}`;
    },
    websocket: () =>
      new Promise<string>((resolve, reject) => {
        const started = performance.now();
        const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/`, opts.origin ? { origin: opts.origin } : {});
        const timer = setTimeout(() => {
          ws.terminate();
          reject(new StepFailure(`no pong within ${opts.requestTimeoutMs} ms`));
        }, opts.requestTimeoutMs);
        let pingAt = 0;
        ws.once('open', () => {
          pingAt = performance.now();
          ws.send(JSON.stringify({ type: 'ping' }));
        });
        ws.once('message', (data) => {
          clearTimeout(timer);
          const text = String(data);
          ws.close();
          if (text === JSON.stringify({ type: 'pong' })) {
            resolve(
              `pong (connect ${Math.round(pingAt - started)} ms, round trip ${Math.round(performance.now() - pingAt)} ms)`,
            );
          } else reject(new StepFailure(`expected {"type":"pong"}, got ${text.slice(0, 200)}`));
        });
        ws.once('error', (err) => {
          clearTimeout(timer);
          reject(new StepFailure(`WebSocket error: ${err.message}`));
        });
      }),
    register: async () => {
      if (opts.email) return 'existing account given, not registering';
      const { body } = await request('POST', '/api/auth/register', {
        json: { email, password, name: 'Smoke Test' },
        expect: [201],
      });
      need(body?.success === true && typeof body.token === 'string', `register answered ${JSON.stringify(body)}`);
      token = body.token as string;
      return email;
    },
    login: async () => {
      const { body } = await request('POST', '/api/auth/login', { json: { email, password }, expect: [200] });
      need(body?.success === true && typeof body.token === 'string', `login answered ${JSON.stringify(body)}`);
      token = body.token as string;
      return `user ${body.user?.id ?? '?'}`;
    },
    generate: async () => {
      const { body } = await request('POST', '/api/generate', {
        auth: true,
        json: { prompt: 'upbeat electronic dance music, smoke test', duration: 30, genre: 'electronic' },
        expect: [202],
      });
      need(typeof body?.jobId === 'string' && body.status === 'queued', `generate answered ${JSON.stringify(body)}`);
      jobId = body.jobId as string;
      return `job ${jobId}, estimated ${body.estimatedTime ?? '?'} s`;
    },
    'generation-status': async () => {
      need(jobId, 'no job to follow (generate was skipped)');
      const deadline = Date.now() + opts.generationTimeoutMs;
      let last: any;
      for (let delay = 250; ; delay = Math.min(delay * 1.5, 2_000)) {
        last = (await request('GET', `/api/generate/${jobId}/status`, { auth: true, expect: [200] })).body;
        if (last?.status === 'completed') break;
        if (last?.status === 'failed' || last?.status === 'canceled') {
          throw new StepFailure(`generation ${last.status}: ${last.error ?? 'no reason given'}`);
        }
        if (Date.now() + delay > deadline) {
          throw new StepFailure(
            `generation still ${last?.status ?? '?'} (stage ${last?.stage ?? '?'}, ${last?.progress ?? 0} %) after ` +
              `${Math.round(opts.generationTimeoutMs / 1000)} s: is a worker running?`,
          );
        }
        await sleep(delay);
      }
      need(typeof last.audioUrl === 'string', 'completed without an audioUrl');
      audioUrl = last.audioUrl as string;
      return 'completed';
    },
    audio: async () => {
      need(audioUrl, 'no audio URL (the generation steps were skipped)');
      const res = await fetch(audioUrl, { signal: AbortSignal.timeout(opts.requestTimeoutMs) });
      const bytes = (await res.arrayBuffer()).byteLength;
      need(res.status === 200 && bytes > 0, `audio URL answered ${res.status} with ${bytes} bytes`);
      return `${bytes} bytes of ${res.headers.get('content-type') ?? 'audio'}`;
    },
    tracks: async () => {
      const { body } = await request('GET', '/api/tracks', { auth: true, expect: [200] });
      need(Array.isArray(body?.tracks), `tracks answered ${JSON.stringify(body).slice(0, 200)}`);
      return `${body.tracks.length} track(s)`;
    },
    upload: async () => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(testWav())], { type: 'audio/wav' }), 'smoke-test.wav');
      const { body } = await request('POST', '/api/tracks/upload', { auth: true, form, expect: [201] });
      need(Array.isArray(body?.tracks) && body.tracks.length === 1, `upload answered ${JSON.stringify(body)}`);
      return `track ${body.tracks[0].id}`;
    },
    chat: async () => {
      const { body } = await request('POST', '/api/chat', {
        auth: true,
        json: { message: 'Help me make a lofi hip hop beat', conversationId: null },
        expect: [200],
      });
      need(
        body?.message?.role === 'assistant' && typeof body.message.content === 'string',
        `chat answered ${JSON.stringify(body).slice(0, 300)}`,
      );
      return `conversation ${body.conversationId}`;
    },
    'cost-usage': async () => {
      const { body } = await request('GET', '/api/cost-monitoring/usage', { auth: true, expect: [200] });
      need(body && typeof body === 'object', 'no usage summary');
      return `period from ${body.periodStart ?? '?'}`;
    },
  };

  log(`smoke: ${base}`);
  for (const step of SMOKE_STEPS) {
    const started = performance.now();
    const done = (outcome: StepOutcome, detail: string) => {
      const ms = Math.round(performance.now() - started);
      steps.push({ step, outcome, detail, ms });
      const mark = outcome === 'passed' ? 'ok  ' : outcome === 'skipped' ? 'skip' : 'FAIL';
      log(`  ${mark} ${step.padEnd(18)} ${detail} (${ms} ms)`);
    };
    if (opts.skip.has(step)) {
      done('skipped', 'skipped: --skip');
      continue;
    }
    try {
      done('passed', await actions[step]());
    } catch (err) {
      if (err instanceof NotAvailable) {
        done('skipped', `skipped: not available (${err.message})`);
        continue;
      }
      const message = err instanceof Error ? err.message : String(err);
      done('failed', message);
      log(`smoke: FAILED at step "${step}": ${message}`);
      return { ok: false, failedStep: step, steps };
    }
  }
  const skipped = steps.filter((s) => s.outcome === 'skipped').length;
  log(`smoke: passed (${steps.length - skipped} steps${skipped ? `, ${skipped} skipped` : ''})`);
  return { ok: true, steps };
}

export const smokeCommand: CommandSpec = {
  usage: 'pnpm ops:smoke [--base-url URL] [options]',
  description:
    "Runs the seed's post-deploy smoke test against an api: health, ai-brain, voice, WebSocket ping, register,\n" +
    'login, generate + status until completed + the audio, tracks, upload, chat and cost usage.',
  options: [
    { name: 'base-url', env: 'BASE_URL', default: 'http://127.0.0.1:3000', help: 'the api origin' },
    { name: 'email', env: 'SMOKE_EMAIL', help: 'sign in with this account instead of registering one' },
    { name: 'password', env: 'SMOKE_PASSWORD', help: 'its password' },
    { name: 'origin', env: 'SMOKE_ORIGIN', help: 'Origin header to send (one of CORS_ORIGINS)' },
    { name: 'generation-timeout', default: '180', help: 'seconds the generation may take' },
    { name: 'request-timeout', default: '60', help: 'seconds per request' },
    { name: 'skip', help: `comma-separated steps to skip (${SMOKE_STEPS.join(', ')})` },
    { name: 'strict', flag: true, help: 'a 404 fails the step instead of "skipped: not available"' },
    { name: 'json', flag: true, help: 'print the results as JSON after the log' },
  ],
  epilogue: 'Exit codes: 0 every step passed or was skipped, 1 a step failed (named on the last line), 2 bad usage.',
};

if (isMain(import.meta.url)) {
  run(async () => {
    const values = parseArgs(smokeCommand);
    const skip = new Set<SmokeStep>();
    for (const name of (values.skip ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (!(SMOKE_STEPS as readonly string[]).includes(name)) throw new UsageError(`--skip: unknown step "${name}"`);
      skip.add(name as SmokeStep);
    }
    if (Boolean(values.email) !== Boolean(values.password)) throw new UsageError('--email and --password go together');
    const result = await runSmoke({
      baseUrl: values['base-url']!,
      ...(values.email ? { email: values.email, password: values.password! } : {}),
      ...(values.origin ? { origin: values.origin } : {}),
      generationTimeoutMs: numberOption(values, 'generation-timeout') * 1000,
      requestTimeoutMs: numberOption(values, 'request-timeout') * 1000,
      skip,
      strict: values.strict === 'true',
    });
    if (values.json === 'true') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.ok ? 0 : 1;
  });
}
