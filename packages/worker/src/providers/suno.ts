/**
 * The `suno` provider, over HTTP through the public reseller contract (SUNO_BASE_URL, Bearer SUNO_API_KEY):
 *
 * - submit `POST /api/v1/generate` (or `/api/v1/generate/extend` with the parent's `audioId` and `continueAt`) → a
 *   task id, handed to `onTaskId` so a retried attempt polls the same task instead of paying for a new one;
 * - poll `GET /api/v1/generate/record-info?taskId=…`, never faster than 3 requests/s: the pause starts at
 *   SUNO_POLL_INTERVAL_MS and grows ×1.5 (to 15 s) while the status does not change;
 * - `FIRST_SUCCESS` → stage `first_audio` carrying the first clip's stream URL (the browser plays it at once);
 * - `SUCCESS` → every clip is downloaded at once (provider URLs expire) to a temp file, handed to the pipeline;
 * - `SENSITIVE_WORD_ERROR` and the other failure statuses, HTTP 4xx and refusal codes in the body are
 *   UnrecoverableError with Suno's reason; HTTP 5xx, 429, network errors and timeouts are retried with backoff,
 *   and after the last retry fail the attempt (the job's own retries take over).
 *
 * Every request carries the job's AbortSignal: a cancel or a timeout stops the polling at once. With a callback URL
 * (SUNO_CALLBACK_URL), Suno's callbacks reach the api, which wakes this loop for an immediate poll (suno-wake.ts).
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { UnrecoverableError } from 'bullmq';
import { watchSuno, type SunoWatch } from './suno-wake';
import type { GenerateOptions, MusicProvider, MusicRequest, ProviderClip } from './types';

export const SUNO_DEFAULT_BASE_URL = 'https://api.sunoapi.org';
/** ≤ 3 requests/s per task. */
export const SUNO_MIN_POLL_INTERVAL_MS = 334;

export const SUNO_FAILURE_STATUSES = [
  'CREATE_TASK_FAILED',
  'GENERATE_AUDIO_FAILED',
  'CALLBACK_EXCEPTION',
  'SENSITIVE_WORD_ERROR',
] as const;

/** Limits of the reseller contract (the strictest model's): longer text is cut, never refused by us. */
const SIMPLE_PROMPT_MAX = 500;
const STYLE_MAX = 1000;
const TITLE_MAX = 100;
const LYRICS_MAX = 5000;

export interface SunoOptions {
  apiKey: string;
  baseUrl?: string;
  model: string;
  pollIntervalMs?: number;
  maxPollIntervalMs?: number;
  /** Per HTTP request (a poll, a submit, a download). */
  requestTimeoutMs?: number;
  /** Retries of one request after a 5xx, 429, network error or timeout. */
  requestRetries?: number;
  /** First pause before a retry; doubles each time. */
  retryDelayMs?: number;
  /** The signed callback URL of a generation (SUNO_CALLBACK_URL + signature); none: polling only. */
  callbackUrlFor?(generationId: string): Promise<string>;
  /** Where downloaded clips are written (default: the OS temp directory). */
  tmpDir?: string;
}

export interface SunoClip {
  id: string;
  audioUrl?: string | null;
  streamAudioUrl?: string | null;
  imageUrl?: string | null;
  prompt?: string | null;
  modelName?: string | null;
  title?: string | null;
  tags?: string | null;
  createTime?: string | number | null;
  duration?: number | null;
}

interface RecordInfo {
  taskId?: string;
  status?: string;
  response?: { sunoData?: SunoClip[] | null } | null;
  errorCode?: number | string | null;
  errorMessage?: string | null;
}

/** A failure worth another try (5xx, 429, network, timeout). */
class TransientSunoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransientSunoError';
  }
}

/** Body codes of the contract that a retry can fix (the others are refusals). */
const TRANSIENT_CODES = new Set([430, 455, 500, 502, 503, 504]);

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function clip(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  return t.length > max ? t.slice(0, max) : t;
}

/** The submit body of a request (generate or extend). */
export function sunoSubmitBody(req: MusicRequest, model: string, callBackUrl?: string): Record<string, unknown> {
  const callback = callBackUrl ? { callBackUrl } : {};
  if (req.extend) {
    if (!req.extend.providerClipId) throw new UnrecoverableError('the track to extend has no Suno clip id');
    return {
      defaultParamFlag: true,
      audioId: req.extend.providerClipId,
      continueAt: req.extend.continueAtSec,
      model,
      instrumental: req.instrumental,
      prompt: clip(req.lyrics ?? req.prompt, LYRICS_MAX),
      style: clip(req.style ?? req.prompt, STYLE_MAX),
      title: clip(req.title ?? req.prompt, TITLE_MAX),
      ...callback,
    };
  }
  const custom = req.style !== undefined || req.lyrics !== undefined;
  if (!custom) {
    return {
      customMode: false,
      instrumental: req.instrumental,
      model,
      prompt: clip(req.prompt, SIMPLE_PROMPT_MAX),
      ...callback,
    };
  }
  return {
    customMode: true,
    instrumental: req.instrumental,
    model,
    style: clip(req.style ?? req.prompt, STYLE_MAX),
    title: clip(req.title ?? 'Untitled', TITLE_MAX),
    ...(req.instrumental ? {} : { prompt: clip(req.lyrics ?? '', LYRICS_MAX) }),
    ...(req.negativeTags ? { negativeTags: req.negativeTags } : {}),
    ...callback,
  };
}

export function createSunoProvider(opts: SunoOptions): MusicProvider {
  const baseUrl = (opts.baseUrl ?? SUNO_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const firstInterval = Math.max(SUNO_MIN_POLL_INTERVAL_MS, opts.pollIntervalMs ?? 2_000);
  const maxInterval = Math.max(firstInterval, opts.maxPollIntervalMs ?? 15_000);
  const requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  const retries = opts.requestRetries ?? 3;
  const retryDelayMs = opts.retryDelayMs ?? 500;
  const dir = opts.tmpDir ?? tmpdir();

  /** One HTTP exchange with retries; `read` turns a 2xx response into the result. */
  async function withRetries<T>(what: string, signal: AbortSignal, once: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await once();
      } catch (err) {
        if (signal.aborted) throw signal.reason as Error;
        if (err instanceof UnrecoverableError) throw err;
        const message = err instanceof Error ? err.message : String(err);
        if (attempt >= retries) {
          throw new Error(`Suno ${what} failed after ${attempt + 1} tries: ${message}`, { cause: err });
        }
        await sleep(retryDelayMs * 2 ** attempt, signal);
      }
    }
  }

  async function fetchOnce(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(requestTimeoutMs)]) });
    } catch (err) {
      if (signal.aborted) throw signal.reason as Error;
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      const name = (err as Error).name === 'TimeoutError' ? `timed out after ${requestTimeoutMs} ms` : undefined;
      throw new TransientSunoError(name ?? `network error${cause ? ` (${cause})` : ''}: ${(err as Error).message}`);
    }
  }

  /** A JSON API call: `{ code, msg, data }`. */
  async function api<T>(
    what: string,
    method: 'GET' | 'POST',
    pathAndQuery: string,
    signal: AbortSignal,
    body?: unknown,
  ) {
    return withRetries(what, signal, async () => {
      const res = await fetchOnce(
        `${baseUrl}${pathAndQuery}`,
        {
          method,
          headers: {
            authorization: `Bearer ${opts.apiKey}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        },
        signal,
      );
      const text = await res.text();
      let json: { code?: number; msg?: string; data?: T } | undefined;
      try {
        json = text ? (JSON.parse(text) as typeof json) : undefined;
      } catch {
        json = undefined;
      }
      const reason = (json?.msg ?? text.slice(0, 200)) || res.statusText;
      if (res.status >= 500 || res.status === 429) throw new TransientSunoError(`HTTP ${res.status}: ${reason}`);
      if (!res.ok) throw new UnrecoverableError(`Suno refused the request (HTTP ${res.status}): ${reason}`);
      if (!json) throw new TransientSunoError(`unreadable answer: ${text.slice(0, 200)}`);
      if (json.code !== undefined && json.code !== 200) {
        if (TRANSIENT_CODES.has(json.code)) throw new TransientSunoError(`code ${json.code}: ${reason}`);
        throw new UnrecoverableError(`Suno refused the request (code ${json.code}): ${reason}`);
      }
      return json.data as T;
    });
  }

  async function download(url: string, file: string, signal: AbortSignal): Promise<void> {
    await withRetries('download', signal, async () => {
      const res = await fetchOnce(url, { method: 'GET' }, signal);
      if (res.status >= 500 || res.status === 429) throw new TransientSunoError(`HTTP ${res.status} for the audio`);
      if (!res.ok || !res.body) throw new UnrecoverableError(`Suno audio could not be downloaded (HTTP ${res.status})`);
      await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(file), { signal });
    });
  }

  return {
    id: 'suno',
    model: opts.model,
    async generate(req, { signal, onStage, onTaskId }) {
      let taskId = req.providerTaskId;
      if (!taskId) {
        const endpoint = req.extend ? '/api/v1/generate/extend' : '/api/v1/generate';
        const callBackUrl = opts.callbackUrlFor ? await opts.callbackUrlFor(req.generationId) : undefined;
        const data = await api<{ taskId?: string }>(
          'submit',
          'POST',
          endpoint,
          signal,
          sunoSubmitBody(req, opts.model, callBackUrl),
        );
        if (!data?.taskId) throw new Error('Suno accepted the request without a task id');
        taskId = data.taskId;
        await onTaskId?.(taskId);
      }

      const wake = watchSuno(req.generationId);
      try {
        return await pollUntilDone(req, taskId, wake, signal, onStage);
      } finally {
        wake.close();
      }
    },
  };

  async function pollUntilDone(
    req: MusicRequest,
    taskId: string,
    wake: SunoWatch,
    signal: AbortSignal,
    onStage: GenerateOptions['onStage'],
  ): Promise<ProviderClip[]> {
    let interval = firstInterval;
    let lastStatus: string | undefined;
    let firstAudio = false;
    for (;;) {
      signal.throwIfAborted();
      const info = await api<RecordInfo>(
        'poll',
        'GET',
        `/api/v1/generate/record-info?taskId=${encodeURIComponent(taskId)}`,
        signal,
      );
      const status = info?.status ?? 'PENDING';
      interval = status === lastStatus ? Math.min(maxInterval, Math.round(interval * 1.5)) : firstInterval;
      lastStatus = status;
      const clips = info?.response?.sunoData ?? [];

      if ((SUNO_FAILURE_STATUSES as readonly string[]).includes(status)) {
        const why = info?.errorMessage?.trim() || 'no reason given';
        throw new UnrecoverableError(`Suno refused the request (${status}): ${why}`);
      }
      if ((status === 'FIRST_SUCCESS' || status === 'SUCCESS') && !firstAudio) {
        const streamUrl = clips.find((c) => c.streamAudioUrl)?.streamAudioUrl ?? clips[0]?.audioUrl ?? undefined;
        firstAudio = true;
        await onStage({ stage: 'first_audio', ...(streamUrl ? { streamUrl } : {}) });
      }
      if (status === 'SUCCESS') {
        const wanted = clips.filter((c) => c.audioUrl).slice(0, req.variants);
        if (wanted.length === 0) throw new Error('Suno reported success without audio');
        const files = wanted.map(() => path.join(dir, `dawg-suno-${req.generationId}-${randomUUID()}.audio`));
        try {
          await Promise.all(wanted.map((c, i) => download(c.audioUrl!, files[i]!, signal)));
        } catch (err) {
          await Promise.all(files.map((f) => rm(f, { force: true })));
          throw err;
        }
        return wanted.map((c, index): ProviderClip => ({
          index,
          audio: { kind: 'file', path: files[index]! },
          seed: null,
          bpm: req.bpm ?? null,
          musicalKey: null,
          lyrics: req.instrumental ? null : (c.prompt ?? req.lyrics ?? null),
          meta: {
            clipId: c.id,
            taskId,
            modelName: c.modelName ?? null,
            title: c.title ?? null,
            tags: c.tags ?? null,
            imageUrl: c.imageUrl ?? null,
            providerDurationSec: c.duration ?? null,
            variant: index,
            // Suno bills every clip of the task, also the ones a one-take request does not keep.
            billedClips: Math.max(wanted.length, clips.length),
          },
        }));
      }
      // A verified callback for this generation ends the pause early (see suno-wake.ts).
      const pause = new AbortController();
      const both = AbortSignal.any([signal, pause.signal]);
      await Promise.race([sleep(interval, both).catch(() => undefined), wake.next(both)]);
      pause.abort();
      signal.throwIfAborted();
    }
  }
}
