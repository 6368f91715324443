/**
 * Entry of a synth worker thread: renders requests posted by `thread.ts` and posts the PCM back, transferring the
 * sample buffers (no copy), or, asked for a file, streams the samples into it bar by bar as interleaved f32le (no
 * song-length buffer anywhere). One request at a time; the parent queues.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { isAppError } from '@dawg/shared';
import { renderSong, renderSongStream, type StreamedRender } from './render';
import type { ThreadRequest, ThreadResponse } from './thread';
import { encodeWav } from './wav';

const port = parentPort;
if (!port) throw new Error('thread-entry must run in a worker thread');

let block = new Float32Array(0);

/** Renders into `path` (created or replaced) as interleaved stereo f32le. */
function renderToFile(msg: ThreadRequest, path: string): StreamedRender {
  const fd = openSync(path, 'w');
  try {
    return renderSongStream(msg.request, (left, right) => {
      const n = left.length;
      if (block.length < 2 * n) block = new Float32Array(2 * n);
      for (let i = 0, j = 0; i < n; i++, j += 2) {
        block[j] = left[i] as number;
        block[j + 1] = right[i] as number;
      }
      const bytes = new Uint8Array(block.buffer, 0, 8 * n);
      for (let at = 0; at < bytes.byteLength;) at += writeSync(fd, bytes, at, bytes.byteLength - at);
    });
  } finally {
    closeSync(fd);
  }
}

port.on('message', (msg: ThreadRequest) => {
  let reply: ThreadResponse;
  const transfer: ArrayBuffer[] = [];
  try {
    if (msg.toFile) {
      port.postMessage({ id: msg.id, ok: true, file: renderToFile(msg, msg.toFile) } satisfies ThreadResponse);
      return;
    }
    const result = renderSong(msg.request);
    let wav: Uint8Array | undefined;
    if (msg.encode) {
      const buf = encodeWav(result, msg.encode);
      // A fresh, exactly-sized ArrayBuffer: Buffer may share a pooled one, which cannot be transferred.
      wav = new Uint8Array(buf.byteLength);
      wav.set(buf);
      transfer.push(wav.buffer as ArrayBuffer);
    }
    transfer.push(result.left.buffer as ArrayBuffer, result.right.buffer as ArrayBuffer);
    reply = { id: msg.id, ok: true, result, wav };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    reply = {
      id: msg.id,
      ok: false,
      error: {
        name: e.name,
        message: e.message,
        code: isAppError(err) ? err.code : undefined,
        details: isAppError(err) ? err.details : undefined,
      },
    };
  }
  port.postMessage(reply, transfer);
});

port.postMessage({ ready: true });
