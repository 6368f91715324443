import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAppError } from '@dawg/shared';
import { afterAll, describe, expect, it } from 'vitest';
import type { SynthRequest } from './params';
import { renderSong } from './render';
import { closeSynthThreads, renderSongOffThread, renderSongToFileOffThread, SynthThread } from './thread';
import { encodeWav } from './wav';

const bytes = (x: Float32Array): Buffer => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
const req: SynthRequest = { prompt: 'happy pop song', durationSec: 12, seed: 77 };

afterAll(async () => {
  await closeSynthThreads();
});

describe('renderSongOffThread', () => {
  it('returns the same bytes as renderSong, and an identical WAV when asked', async () => {
    const off = await renderSongOffThread(req, { encode: 'pcm16' });
    const here = renderSong(req);
    expect(bytes(off.left).equals(bytes(here.left))).toBe(true);
    expect(bytes(off.right).equals(bytes(here.right))).toBe(true);
    expect(off.meta).toEqual(here.meta);
    expect(off.wav?.equals(encodeWav(here))).toBe(true);
  }, 60_000);

  it('streams into a file, interleaved f32le, exactly the samples of renderSong (a partial render too)', async () => {
    for (const request of [req, { ...req, durationSec: 40, seed: 78, startBar: 5 }]) {
      const path = join(tmpdir(), `dawg-thread-test-${process.pid}-${request.seed}.f32`);
      try {
        const off = await renderSongToFileOffThread(request, path);
        const here = renderSong(request);
        expect(off).toMatchObject({ path, channels: 2, sampleRate: here.sampleRate, frames: here.left.length });
        expect(off.meta).toEqual(here.meta);
        const interleaved = new Float32Array(here.left.length * 2);
        for (let i = 0; i < here.left.length; i++) {
          interleaved[2 * i] = here.left[i]!;
          interleaved[2 * i + 1] = here.right[i]!;
        }
        expect((await readFile(path)).equals(bytes(interleaved))).toBe(true);
      } finally {
        await rm(path, { force: true });
      }
    }
  }, 60_000);

  it('keeps the event loop free while rendering', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = performance.now();
    await renderSongOffThread({ ...req, durationSec: 120, seed: 5 });
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // A blocked loop would tick about once; a free one ticks every ~10 ms (allowing for a busy machine).
    expect(ticks).toBeGreaterThan(Math.min(20, (elapsed / 10) * 0.3));
  }, 60_000);

  it('aborts a running render promptly and serves the next request on a fresh thread', async () => {
    const ac = new AbortController();
    const long = renderSongOffThread({ ...req, durationSec: 300, seed: 9 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    const started = performance.now();
    await expect(long).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(2000);
    const next = await renderSongOffThread(req);
    expect(bytes(next.left).equals(bytes(renderSong(req).left))).toBe(true);
  }, 60_000);

  it('rejects at once when the signal is already aborted, and drops a queued request that is aborted', async () => {
    await expect(renderSongOffThread(req, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    const thread = new SynthThread();
    try {
      const ac = new AbortController();
      const first = thread.render({ ...req, durationSec: 30 });
      const queued = thread.render({ ...req, seed: 2 }, { signal: ac.signal });
      ac.abort(new Error('cancelled by user'));
      await expect(queued).rejects.toThrow('cancelled by user');
      await expect(first).resolves.toMatchObject({ meta: { durationSec: 30 } });
    } finally {
      await thread.close();
    }
  }, 60_000);

  it('reports a bad request as the AppError the renderer threw', async () => {
    const err: unknown = await renderSongOffThread({ ...req, bpm: 999 }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe('BAD_REQUEST');
    expect(isAppError(err) && err.details?.[0]?.path).toEqual(['bpm']);
  }, 60_000);

  it('rejects pending work when closed', async () => {
    const thread = new SynthThread();
    const pending = thread.render(req).catch((e: unknown) => e);
    await thread.close();
    expect(await pending).toMatchObject({ message: expect.stringMatching(/closed/) });
    await expect(thread.render(req)).rejects.toThrow(/closed/);
  }, 60_000);
});
