/**
 * PCM in memory: planar Float32 channels (what providers hand over), the interleaved little-endian f32 bytes ffmpeg
 * reads and writes, and a 16-bit WAV file built from normalised samples.
 */
export interface Pcm {
  sampleRate: number;
  /** One Float32Array per channel, all the same length, samples in −1…1. */
  channels: Float32Array[];
}

export function frameCount(pcm: Pcm): number {
  return pcm.channels[0]?.length ?? 0;
}

/** Planar → interleaved f32le bytes (the host is little-endian, as every platform Node ships for). */
export function interleave(pcm: Pcm): Buffer {
  const count = pcm.channels.length;
  const frames = frameCount(pcm);
  const out = new Float32Array(frames * count);
  for (let c = 0; c < count; c++) {
    const ch = pcm.channels[c]!;
    for (let i = 0, j = c; i < frames; i++, j += count) out[j] = ch[i]!;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Interleaved f32le bytes as samples (copied when the bytes are not 4-byte aligned). */
export function asFloat32(bytes: Buffer): Float32Array {
  const usable = bytes.byteLength - (bytes.byteLength % 4);
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, usable / 4);
  const copy = new Uint8Array(usable);
  copy.set(bytes.subarray(0, usable));
  return new Float32Array(copy.buffer);
}

/** The 44-byte header of a canonical 16-bit PCM WAV holding `dataBytes` of interleaved samples. */
export function wav16Header(dataBytes: number, sampleRate: number, channels: number): Buffer {
  const out = Buffer.alloc(44);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20);
  out.writeUInt16LE(channels, 22);
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * channels * 2, 28);
  out.writeUInt16LE(channels * 2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(dataBytes, 40);
  return out;
}

/** Interleaved s16le bytes as samples (copied when the bytes are not 2-byte aligned). */
export function asInt16(bytes: Buffer): Int16Array {
  const usable = bytes.byteLength - (bytes.byteLength % 2);
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, usable / 2);
  const copy = new Uint8Array(usable);
  copy.set(bytes.subarray(0, usable));
  return new Int16Array(copy.buffer);
}

/** Interleaved f32le samples in a file: a long render streamed to disk rather than held in memory. */
export interface RawPcmFile {
  path: string;
  sampleRate: number;
  channels: number;
  frames: number;
}
