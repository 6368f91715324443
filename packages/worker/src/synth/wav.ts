/**
 * WAV (RIFF) encoding of rendered PCM: 16-bit integer (the master format the pipeline stores and ffmpeg reads
 * everywhere) or 32-bit float (lossless, for analysis).
 */

export interface PcmLike {
  sampleRate: number;
  left: Float32Array;
  right: Float32Array;
}

export type WavFormat = 'pcm16' | 'float32';

/** Encodes stereo PCM as a WAV file. PCM16 rounds to nearest and clamps to [-1, 1). */
export function encodeWav(pcm: PcmLike, format: WavFormat = 'pcm16'): Buffer {
  const { sampleRate, left, right } = pcm;
  if (left.length !== right.length) throw new RangeError('left and right channels differ in length');
  const frames = left.length;
  const bytesPerSample = format === 'pcm16' ? 2 : 4;
  const blockAlign = 2 * bytesPerSample;
  const dataBytes = frames * blockAlign;
  const buf = Buffer.allocUnsafe(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(format === 'pcm16' ? 1 : 3, 20);
  buf.writeUInt16LE(2, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * blockAlign, 28);
  buf.writeUInt16LE(blockAlign, 32);
  buf.writeUInt16LE(bytesPerSample * 8, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  if (format === 'float32') {
    const out = new Float32Array(buf.buffer, buf.byteOffset + 44, frames * 2);
    for (let i = 0; i < frames; i++) {
      out[2 * i] = left[i] as number;
      out[2 * i + 1] = right[i] as number;
    }
  } else {
    // An Int16Array view needs 2-byte alignment; Buffer.allocUnsafe may hand out a pooled, odd offset.
    const aligned = (buf.byteOffset + 44) % 2 === 0;
    const out = aligned ? new Int16Array(buf.buffer, buf.byteOffset + 44, frames * 2) : new Int16Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      out[2 * i] = toInt16(left[i] as number);
      out[2 * i + 1] = toInt16(right[i] as number);
    }
    if (!aligned) Buffer.from(out.buffer).copy(buf, 44);
  }
  return buf;
}

function toInt16(x: number): number {
  const v = Math.round(x * 32768);
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}
