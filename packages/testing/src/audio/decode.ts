/**
 * Decoding any audio file (or bytes) to float PCM through ffmpeg, the same decoder the product uses, so tests measure
 * what a listener's player would get from the file.
 */
import { spawn } from 'node:child_process';

export interface DecodedAudio {
  sampleRate: number;
  channels: Float32Array[];
  /** Frames per channel. */
  length: number;
  durationSec: number;
}

export interface DecodeOptions {
  /** Resample to this rate (default 44100). */
  sampleRate?: number;
  /** 1 = downmix to mono, 2 = stereo (default 2). */
  channels?: 1 | 2;
  /** ffmpeg binary (default `ffmpeg` on PATH). */
  ffmpegPath?: string;
}

/** Decodes a file path or in-memory bytes with `ffmpeg -f f32le`; rejects with ffmpeg's message if it cannot. */
export function decodeWithFfmpeg(input: string | Uint8Array, opts: DecodeOptions = {}): Promise<DecodedAudio> {
  const sampleRate = opts.sampleRate ?? 44100;
  const channels = opts.channels ?? 2;
  const fromBytes = typeof input !== 'string';
  const args = [
    '-hide_banner',
    '-v',
    'error',
    '-i',
    fromBytes ? 'pipe:0' : input,
    '-f',
    'f32le',
    '-acodec',
    'pcm_f32le',
  ];
  args.push('-ac', String(channels), '-ar', String(sampleRate), 'pipe:1');
  return new Promise((resolve, reject) => {
    const proc = spawn(opts.ffmpegPath ?? 'ffmpeg', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    proc.stdout.on('data', (c: Buffer) => chunks.push(c));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`ffmpeg exited with ${code}: ${stderr.trim()}`));
        return;
      }
      const all = Buffer.concat(chunks);
      const frames = Math.floor(all.length / (4 * channels));
      const interleaved = new Float32Array(frames * channels);
      for (let i = 0; i < interleaved.length; i++) interleaved[i] = all.readFloatLE(i * 4);
      const out: Float32Array[] = [];
      for (let c = 0; c < channels; c++) {
        const ch = new Float32Array(frames);
        for (let i = 0; i < frames; i++) ch[i] = interleaved[i * channels + c] as number;
        out.push(ch);
      }
      resolve({ sampleRate, channels: out, length: frames, durationSec: frames / sampleRate });
    });
    // ffmpeg may stop reading early (a bad header); the EPIPE that follows is reported through 'close'.
    proc.stdin.on('error', () => undefined);
    if (fromBytes) proc.stdin.end(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    else proc.stdin.end();
  });
}
