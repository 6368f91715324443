/**
 * A local Suno server speaking the reseller wire protocol (see the design's PROTOCOLS.md), so the worker's real Suno
 * client runs against it:
 *
 * - `POST /api/v1/generate` and `POST /api/v1/generate/extend` → `{ code: 200, msg, data: { taskId } }`;
 * - `GET /api/v1/generate/record-info?taskId=…` → `{ code: 200, data: { taskId, status, response: { sunoData }, errorCode,
 *   errorMessage } }`. Each task walks through `statuses` (default PENDING → TEXT_SUCCESS → FIRST_SUCCESS → SUCCESS):
 *   it moves one step after `pollsPerStep` polls at a step, and not before `stepMs` has passed there. The last
 *   status holds (a list ending in PENDING keeps a task pending forever; one ending in SENSITIVE_WORD_ERROR fails);
 * - `GET /audio/<clipId>.wav` (the final file) and `GET /stream/<clipId>` (the stream): a seeded tone as WAV.
 *
 * Failure modes: `failNext` makes the next n requests of a kind answer HTTP 500 (then they succeed: "500 once then
 * ok"); `submitError` refuses submits with an HTTP status or a body code. Requires `Authorization: Bearer <apiKey>`.
 * With `callbackEveryMs`, a task submitted with a `callBackUrl` moves on a timer and POSTs each status there.
 * `counts` tallies every request by kind, `submits` keeps the submitted bodies.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { wavPcm16 } from '../audio/fixtures';

export type FakeSunoStatus =
  | 'PENDING'
  | 'TEXT_SUCCESS'
  | 'FIRST_SUCCESS'
  | 'SUCCESS'
  | 'CREATE_TASK_FAILED'
  | 'GENERATE_AUDIO_FAILED'
  | 'CALLBACK_EXCEPTION'
  | 'SENSITIVE_WORD_ERROR';

export type FakeSunoRequestKind = 'submit' | 'extend' | 'poll' | 'audio' | 'stream' | 'callback';

export interface FakeSunoOptions {
  apiKey?: string;
  statuses?: FakeSunoStatus[];
  pollsPerStep?: number;
  stepMs?: number;
  /** Clips per task (Suno makes 2). */
  clips?: number;
  /** Length of each clip's audio. */
  clipSeconds?: number;
  /** The errorMessage of a failing status. */
  errorMessage?: string;
  /** The next n requests of a kind answer HTTP 500. */
  failNext?: Partial<Record<FakeSunoRequestKind, number>>;
  /** Refuse submits: an HTTP status (e.g. 400) or a body code (e.g. 413) with this message. */
  submitError?: { httpStatus?: number; code?: number; msg: string };
  modelName?: string;
  /**
   * Timed tasks with callbacks: a task submitted with a `callBackUrl` moves to its next status every this many ms
   * (polls no longer move it) and each move is POSTed to the URL (`callbackType` text, first, complete or error).
   */
  callbackEveryMs?: number;
}

export interface FakeSunoTask {
  taskId: string;
  kind: 'generate' | 'extend';
  body: Record<string, unknown>;
  step: number;
  pollsAtStep: number;
  stepStartedAt: number;
  clipIds: string[];
  /** Moved by timers and announced by callbacks (callbackEveryMs with a callBackUrl), not by polls. */
  timed: boolean;
  /** Every status a poll of this task answered, in order. */
  reported: FakeSunoStatus[];
}

export interface FakeSuno {
  /** Base URL for SUNO_BASE_URL. */
  url: string;
  apiKey: string;
  counts: Record<FakeSunoRequestKind | 'total', number>;
  tasks: Map<string, FakeSunoTask>;
  /** Change the behaviour of later requests (and tasks). */
  configure(options: Partial<FakeSunoOptions>): void;
  close(): Promise<void>;
}

const DEFAULT_STATUSES: FakeSunoStatus[] = ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS'];
const FAILED: ReadonlySet<FakeSunoStatus> = new Set([
  'CREATE_TASK_FAILED',
  'GENERATE_AUDIO_FAILED',
  'CALLBACK_EXCEPTION',
  'SENSITIVE_WORD_ERROR',
]);

function tone(seconds: number, seed: number): Buffer {
  const sr = 44_100;
  const n = Math.round(seconds * sr);
  const mono = new Float32Array(n);
  const freq = 220 * 2 ** ((seed % 12) / 12);
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    mono[i] = 0.3 * Math.sin(2 * Math.PI * freq * t) * (0.6 + 0.4 * Math.exp(-((t % 0.5) / 0.5) * 5));
  }
  return wavPcm16(mono, sr);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeSuno(initial: FakeSunoOptions = {}): Promise<FakeSuno> {
  let opts: FakeSunoOptions = { ...initial };
  const apiKey = initial.apiKey ?? 'fake-suno-key';
  const counts: FakeSuno['counts'] = { submit: 0, extend: 0, poll: 0, audio: 0, stream: 0, callback: 0, total: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const tasks = new Map<string, FakeSunoTask>();
  const failNext: Partial<Record<FakeSunoRequestKind, number>> = { ...initial.failNext };
  const audioCache = new Map<string, Buffer>();
  let base = '';

  const statuses = () => (opts.statuses?.length ? opts.statuses : DEFAULT_STATUSES);

  function audioOf(clipId: string): Buffer {
    let wav = audioCache.get(clipId);
    if (!wav) {
      let seed = 0;
      for (const ch of clipId) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
      wav = tone(opts.clipSeconds ?? 3, seed);
      audioCache.set(clipId, wav);
    }
    return wav;
  }

  /** The status this poll reports; then the task moves on, per pollsPerStep and stepMs. */
  function advance(task: FakeSunoTask): FakeSunoStatus {
    const list = statuses();
    const status = list[Math.min(task.step, list.length - 1)]!;
    task.reported.push(status);
    if (task.timed) return status;
    task.pollsAtStep++;
    const now = Date.now();
    if (
      task.step < list.length - 1 &&
      task.pollsAtStep >= (opts.pollsPerStep ?? 1) &&
      now - task.stepStartedAt >= (opts.stepMs ?? 0)
    ) {
      task.step++;
      task.pollsAtStep = 0;
      task.stepStartedAt = now;
    }
    return status;
  }

  function sunoData(task: FakeSunoTask, status: FakeSunoStatus) {
    const order: FakeSunoStatus[] = ['PENDING', 'TEXT_SUCCESS', 'FIRST_SUCCESS', 'SUCCESS'];
    const reached = order.indexOf(status);
    if (reached < 1) return [];
    const body = task.body;
    return task.clipIds.map((id) => ({
      id,
      audioUrl: reached >= 3 ? `${base}/audio/${id}.wav` : '',
      streamAudioUrl: reached >= 2 ? `${base}/stream/${id}` : '',
      imageUrl: `${base}/image/${id}.jpeg`,
      prompt: typeof body.prompt === 'string' ? body.prompt : '',
      modelName: opts.modelName ?? 'chirp-v4-5',
      title: typeof body.title === 'string' ? body.title : 'Untitled',
      tags: typeof body.style === 'string' ? body.style : '',
      createTime: new Date().toISOString(),
      duration: reached >= 3 ? (opts.clipSeconds ?? 3) : null,
    }));
  }

  const CALLBACK_TYPES: Partial<Record<FakeSunoStatus, string>> = {
    TEXT_SUCCESS: 'text',
    FIRST_SUCCESS: 'first',
    SUCCESS: 'complete',
  };

  /** Moves the task every `everyMs` and POSTs each new status to its callback URL (failures: `error`). */
  function startCallbacks(task: FakeSunoTask, url: string, everyMs: number): void {
    task.timed = true;
    const tick = () => {
      const list = statuses();
      if (task.step >= list.length - 1) return;
      task.step++;
      const status = list[task.step]!;
      counts.callback++;
      const failed = FAILED.has(status);
      const payload = {
        code: failed ? 400 : 200,
        msg: failed ? (opts.errorMessage ?? status) : 'All generated successfully.',
        data: {
          callbackType: failed ? 'error' : (CALLBACK_TYPES[status] ?? 'text'),
          task_id: task.taskId,
          data: failed ? [] : sunoData(task, status),
        },
      };
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) })
        .then((r) => void r.arrayBuffer())
        .catch(() => undefined);
      schedule();
    };
    const schedule = () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        tick();
      }, everyMs);
      timers.add(timer);
    };
    schedule();
  }

  function takeFailure(kind: FakeSunoRequestKind): boolean {
    const n = failNext[kind] ?? 0;
    if (n <= 0) return false;
    failNext[kind] = n - 1;
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    counts.total++;

    if (req.method === 'GET' && (path.startsWith('/audio/') || path.startsWith('/stream/'))) {
      const kind = path.startsWith('/audio/') ? 'audio' : 'stream';
      counts[kind]++;
      if (takeFailure(kind)) return send(res, 500, { code: 500, msg: 'injected failure' });
      const clipId = path.replace(/^\/(audio|stream)\//, '').replace(/\.wav$/, '');
      const known = [...tasks.values()].some((t) => t.clipIds.includes(clipId));
      if (!known) return send(res, 404, { code: 404, msg: 'no such clip' });
      const wav = audioOf(clipId);
      res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.byteLength });
      res.end(wav);
      return;
    }

    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return send(res, 401, { code: 401, msg: 'You do not have access permissions' });
    }

    if (req.method === 'POST' && (path === '/api/v1/generate' || path === '/api/v1/generate/extend')) {
      const kind = path.endsWith('/extend') ? 'extend' : 'submit';
      counts[kind]++;
      const body = await readBody(req);
      if (takeFailure(kind)) return send(res, 500, { code: 500, msg: 'injected failure' });
      const err = opts.submitError;
      if (err) {
        return send(res, err.httpStatus ?? 200, { code: err.code ?? err.httpStatus ?? 400, msg: err.msg, data: null });
      }
      if (kind === 'extend' && typeof body.audioId !== 'string') {
        return send(res, 200, { code: 400, msg: 'audioId is required', data: null });
      }
      if (kind === 'submit' && typeof body.customMode !== 'boolean') {
        return send(res, 200, { code: 400, msg: 'customMode is required', data: null });
      }
      const taskId = randomUUID().replace(/-/g, '');
      tasks.set(taskId, {
        taskId,
        kind: kind === 'extend' ? 'extend' : 'generate',
        body,
        step: 0,
        pollsAtStep: 0,
        stepStartedAt: Date.now(),
        clipIds: Array.from({ length: opts.clips ?? 2 }, () => randomUUID()),
        timed: false,
        reported: [],
      });
      const callBackUrl = typeof body.callBackUrl === 'string' ? body.callBackUrl : undefined;
      if (opts.callbackEveryMs && callBackUrl) startCallbacks(tasks.get(taskId)!, callBackUrl, opts.callbackEveryMs);
      return send(res, 200, { code: 200, msg: 'success', data: { taskId } });
    }

    if (req.method === 'GET' && path === '/api/v1/generate/record-info') {
      counts.poll++;
      if (takeFailure('poll')) return send(res, 500, { code: 500, msg: 'injected failure' });
      const task = tasks.get(url.searchParams.get('taskId') ?? '');
      if (!task) return send(res, 200, { code: 400, msg: 'task not found', data: null });
      const status = advance(task);
      const failed = FAILED.has(status);
      return send(res, 200, {
        code: 200,
        msg: 'success',
        data: {
          taskId: task.taskId,
          parentMusicId: task.kind === 'extend' ? String(task.body.audioId ?? '') : '',
          param: JSON.stringify(task.body),
          response: { taskId: task.taskId, sunoData: failed ? [] : sunoData(task, status) },
          status,
          type: task.kind === 'extend' ? 'EXTEND' : 'GENERATE',
          errorCode: failed ? 400 : null,
          errorMessage: failed ? (opts.errorMessage ?? `${status.toLowerCase().replace(/_/g, ' ')}`) : null,
        },
      });
    }

    send(res, 404, { code: 404, msg: 'not found' });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { code: 500, msg: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    apiKey,
    counts,
    tasks,
    configure(next) {
      opts = { ...opts, ...next };
      if (next.failNext) Object.assign(failNext, next.failNext);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
