/**
 * ffmpeg as a child process: audio work never runs on the worker's event loop (BullMQ must keep renewing the job's
 * lock). A run is killed when its AbortSignal fires; a non-zero exit rejects with the tail of ffmpeg's stderr.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

export class FfmpegError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'FfmpegError';
  }
}

export interface FfmpegProcess {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with everything ffmpeg wrote to stderr (loudnorm prints its JSON there) once it exits with 0. */
  finished: Promise<string>;
}

/** stderr is kept up to this size (the end matters: errors and the loudnorm summary come last). */
const STDERR_KEEP_BYTES = 64 * 1024;

export const FFMPEG_BIN = 'ffmpeg';

export function startFfmpeg(args: readonly string[], signal?: AbortSignal): FfmpegProcess {
  signal?.throwIfAborted();
  const child = spawn(FFMPEG_BIN, ['-hide_banner', '-nostats', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > STDERR_KEEP_BYTES * 2) stderr = stderr.slice(-STDERR_KEEP_BYTES);
  });
  // ffmpeg may exit (error, abort) before it read all input; its exit code is the error we report, not EPIPE.
  child.stdin.on('error', () => undefined);
  const kill = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', kill, { once: true });
  const finished = new Promise<string>((resolve, reject) => {
    child.once('error', (err) => reject(new FfmpegError(`ffmpeg could not start: ${err.message}`, stderr)));
    child.once('close', (code, sig) => {
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (code === 0) return resolve(stderr);
      const tail = stderr.trim().split('\n').slice(-5).join(' | ');
      reject(new FfmpegError(`ffmpeg exited with ${code ?? sig}: ${tail}`, stderr));
    });
  });
  // Rejections are handled by whoever awaits `finished`; an early abort must not become an unhandled rejection.
  finished.catch(() => undefined);
  return { child, finished };
}

/** Runs ffmpeg with `input` on stdin and collects stdout. */
export async function runFfmpeg(
  args: readonly string[],
  { input, signal }: { input?: Buffer; signal?: AbortSignal } = {},
): Promise<{ stdout: Buffer; stderr: string }> {
  const proc = startFfmpeg(args, signal);
  const chunks: Buffer[] = [];
  proc.child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  if (input) proc.child.stdin.end(input);
  else proc.child.stdin.end();
  const stderr = await proc.finished;
  return { stdout: Buffer.concat(chunks), stderr };
}
