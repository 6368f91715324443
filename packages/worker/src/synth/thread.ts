/**
 * Rendering off the event loop: synth requests run on a worker thread, so a BullMQ worker keeps renewing its job
 * locks (and answering /health) while a song renders. The thread is started on first use and kept for the next
 * request (a fresh thread would pay module loading and JIT warm-up every time); it is unref'ed while idle, so it
 * never keeps the process alive. Results come back by transfer, not copy.
 *
 * Abort: a queued request is dropped; a running one terminates its thread (synchronous rendering cannot be
 * interrupted otherwise) and the next request starts a new one.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError, type AppErrorCode, type AppErrorDetail } from '@dawg/shared';
import type { SynthRequest } from './params';
import type { RenderResult, StreamedRender } from './render';
import type { WavFormat } from './wav';

export interface ThreadRequest {
  id: number;
  request: SynthRequest;
  encode?: WavFormat;
  /** Stream the samples into this file (interleaved stereo f32le) instead of posting them back. */
  toFile?: string;
}

export type ThreadResponse =
  | { id: number; ok: true; result: RenderResult; wav: Uint8Array | undefined }
  | { id: number; ok: true; file: StreamedRender }
  | {
      id: number;
      ok: false;
      error: { name: string; message: string; code: AppErrorCode | undefined; details: AppErrorDetail[] | undefined };
    };

export interface OffThreadOptions {
  signal?: AbortSignal;
  /** Also encode a WAV file on the thread (encoding a long song is itself tens of ms of CPU). */
  encode?: WavFormat;
}

/** A render streamed into a file (renderSongToFileOffThread): its facts, the samples being in the file. */
export type OffThreadFileResult = StreamedRender & { path: string; channels: 2 };

export interface OffThreadResult extends RenderResult {
  /** The encoded WAV file when `encode` was asked for. */
  wav?: Buffer;
}

interface Job {
  id: number;
  request: SynthRequest;
  encode: WavFormat | undefined;
  toFile: string | undefined;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  resolve: (r: OffThreadResult | OffThreadFileResult) => void;
  reject: (e: unknown) => void;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The render was aborted', 'AbortError');
}

/** The ESM build of tsx's loader API (`tsx/esm/api`, import condition), resolved from this package. */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const rel = pkg.exports['./esm/api']?.import?.default;
  if (!rel) throw new Error('tsx does not export ./esm/api');
  return pathToFileURL(path.join(path.dirname(pkgPath), rel)).href;
}

/** How to start the thread: under tsx (this file is .ts) the entry is loaded through tsx's ESM loader API. */
function spawnThread(): Worker {
  // The production build (scripts/build-server.mjs) emits thread-entry.mjs next to the bundle that holds this code.
  const built = import.meta.url.endsWith('.mjs') ? './thread-entry.mjs' : './thread-entry.js';
  const entry = new URL(import.meta.url.endsWith('.ts') ? './thread-entry.ts' : built, import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return new Worker(entry);
  // Node 20 does not apply `--import` loaders to a worker's own entry module, so register tsx inside the thread
  // before importing the entry.
  const tsxApi = tsxEsmApiUrl();
  const code = [
    `import(${JSON.stringify(tsxApi)})`,
    `.then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`,
    '.catch((e) => { setImmediate(() => { throw e; }); });',
  ].join('');
  return new Worker(code, { eval: true, name: `synth ${fileURLToPath(entry)}` });
}

/** A queue of synth requests served by one worker thread at a time. */
export class SynthThread {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private nextId = 1;
  private closed = false;

  render(request: SynthRequest, opts: OffThreadOptions = {}): Promise<OffThreadResult> {
    return this.enqueue<OffThreadResult>(request, opts.encode, undefined, opts.signal);
  }

  /**
   * Renders into `path` (created or replaced) as interleaved stereo f32le, bar by bar: neither thread holds the
   * song. An aborted or failed render may leave a partial file: the caller deletes it.
   */
  renderToFile(request: SynthRequest, path: string, opts: { signal?: AbortSignal } = {}): Promise<OffThreadFileResult> {
    return this.enqueue<OffThreadFileResult>(request, undefined, path, opts.signal);
  }

  private enqueue<T extends OffThreadResult | OffThreadFileResult>(
    request: SynthRequest,
    encode: WavFormat | undefined,
    toFile: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    if (this.closed) return Promise.reject(new Error('synth thread is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        request,
        encode,
        toFile,
        signal,
        onAbort: () => this.abort(job),
        resolve: resolve as Job['resolve'],
        reject,
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** Terminates the thread; pending requests are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = [...this.queue, ...(this.current ? [this.current] : [])];
    this.queue.length = 0;
    this.current = null;
    for (const job of pending) this.settle(job, () => job.reject(new Error('synth thread closed')));
    await this.stopWorker();
  }

  private settle(job: Job, fn: () => void): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    fn();
  }

  private abort(job: Job): void {
    const err = abortError(job.signal as AbortSignal);
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.settle(job, () => job.reject(err));
      return;
    }
    if (this.current === job) {
      this.current = null;
      this.settle(job, () => job.reject(err));
      void this.stopWorker().then(() => this.pump());
    }
  }

  private async stopWorker(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.ready = null;
    if (w) {
      w.removeAllListeners();
      w.on('error', () => undefined);
      await w.terminate();
    }
  }

  private ensureWorker(): Promise<void> {
    if (this.worker && this.ready) return this.ready;
    const w = spawnThread();
    this.worker = w;
    this.ready = new Promise<void>((resolve, reject) => {
      const onReady = (msg: unknown): void => {
        if (msg && typeof msg === 'object' && 'ready' in msg) {
          w.off('message', onReady);
          w.on('message', (m: ThreadResponse) => this.onMessage(m));
          resolve();
        }
      };
      w.on('message', onReady);
      w.once('error', (err) => {
        reject(err);
        this.onCrash(w, err);
      });
      w.once('exit', (code) => {
        const err = new Error(`synth thread exited with code ${code}`);
        reject(err);
        this.onCrash(w, err);
      });
    });
    // A start-up failure is reported to the job through pump(); keep the promise from being "unhandled" meanwhile.
    this.ready.catch(() => undefined);
    return this.ready;
  }

  private onCrash(w: Worker, err: unknown): void {
    if (this.worker !== w) return;
    this.worker = null;
    this.ready = null;
    const job = this.current;
    this.current = null;
    if (job) this.settle(job, () => job.reject(err));
    this.pump();
  }

  private onMessage(msg: ThreadResponse): void {
    const job = this.current;
    if (!job || job.id !== msg.id) return;
    this.current = null;
    if (msg.ok && 'file' in msg) {
      const out: OffThreadFileResult = { ...msg.file, path: job.toFile ?? '', channels: 2 };
      this.settle(job, () => job.resolve(out));
    } else if (msg.ok) {
      const out: OffThreadResult = msg.result;
      if (msg.wav) out.wav = Buffer.from(msg.wav.buffer, msg.wav.byteOffset, msg.wav.byteLength);
      this.settle(job, () => job.resolve(out));
    } else {
      const { name, message, code, details } = msg.error;
      const err = code
        ? new AppError(code, message, details ? { details } : {})
        : Object.assign(new Error(message), { name });
      this.settle(job, () => job.reject(err));
    }
    this.pump();
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const job = this.queue.shift();
    if (!job) {
      this.worker?.unref();
      return;
    }
    this.current = job;
    this.ensureWorker().then(
      () => {
        if (this.current !== job || !this.worker) return;
        this.worker.ref();
        const msg: ThreadRequest = {
          id: job.id,
          request: job.request,
          ...(job.encode ? { encode: job.encode } : {}),
          ...(job.toFile ? { toFile: job.toFile } : {}),
        };
        this.worker.postMessage(msg);
      },
      () => undefined,
    );
  }
}

let shared: SynthThread | null = null;

/** Renders a song on the shared synth thread; abort with `signal`. */
export function renderSongOffThread(request: SynthRequest, opts: OffThreadOptions = {}): Promise<OffThreadResult> {
  shared ??= new SynthThread();
  return shared.render(request, opts);
}

/** Renders a song into `path` on the shared synth thread (see SynthThread.renderToFile); abort with `signal`. */
export function renderSongToFileOffThread(
  request: SynthRequest,
  path: string,
  opts: { signal?: AbortSignal } = {},
): Promise<OffThreadFileResult> {
  shared ??= new SynthThread();
  return shared.renderToFile(request, path, opts);
}

/** Stops the shared synth thread (graceful shutdown). */
export async function closeSynthThreads(): Promise<void> {
  const t = shared;
  shared = null;
  if (t) await t.close();
}
