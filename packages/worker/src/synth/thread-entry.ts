/**
 * Entry of a synth worker thread: renders requests posted by `thread.ts` and posts the PCM back, transferring the
 * sample buffers (no copy). One request at a time; the parent queues.
 */
import { parentPort } from 'node:worker_threads';
import { isAppError } from '@dawg/shared';
import { renderSong } from './render';
import type { ThreadRequest, ThreadResponse } from './thread';
import { encodeWav } from './wav';

const port = parentPort;
if (!port) throw new Error('thread-entry must run in a worker thread');

port.on('message', (msg: ThreadRequest) => {
  let reply: ThreadResponse;
  const transfer: ArrayBuffer[] = [];
  try {
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
