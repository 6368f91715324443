/**
 * Synthetic signals with known answers, for testing the analyses themselves (and for other packages' tests that
 * need a reference signal): click tracks, drum-like bursts, sine chords.
 */

export const midiHz = (midi: number): number => 440 * Math.pow(2, (midi - 69) / 12);

/** Short decaying clicks (1 kHz ping) at `bpm` starting at `offsetSec`, optionally every `subdivision` of a beat. */
export function clickTrack(opts: {
  bpm: number;
  seconds: number;
  sampleRate?: number;
  offsetSec?: number;
  subdivision?: number;
  accentEvery?: number;
}): Float32Array {
  const sr = opts.sampleRate ?? 44100;
  const out = new Float32Array(Math.round(opts.seconds * sr));
  const step = 60 / opts.bpm / (opts.subdivision ?? 1);
  const len = Math.round(0.03 * sr);
  for (let k = 0, t = opts.offsetSec ?? 0; t < opts.seconds; k++, t = (opts.offsetSec ?? 0) + k * step) {
    const start = Math.round(t * sr);
    const gain = opts.accentEvery && k % opts.accentEvery === 0 ? 0.9 : 0.5;
    for (let i = 0; i < len && start + i < out.length; i++) {
      out[start + i] =
        (out[start + i] as number) + gain * Math.sin((2 * Math.PI * 1000 * i) / sr) * Math.exp(-i / (0.004 * sr));
    }
  }
  return out;
}

/** Deterministic white noise in [-1, 1). */
export function noise(length: number, seed = 1): Float32Array {
  const out = new Float32Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = (s >>> 0) / 2147483648 - 1;
  }
  return out;
}

/** Sum of sines at the given MIDI notes, each at `amplitude`. */
export function sineChord(
  midis: readonly number[],
  seconds: number,
  sampleRate = 44100,
  amplitude = 0.2,
): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  for (const m of midis) {
    const f = midiHz(m);
    for (let i = 0; i < out.length; i++)
      out[i] = (out[i] as number) + amplitude * Math.sin((2 * Math.PI * f * i) / sampleRate);
  }
  return out;
}

/** Writes `src` into `dst` at `atSec` (adding). */
export function mixAt(dst: Float32Array, src: Float32Array, atSec: number, sampleRate = 44100, gain = 1): void {
  const at = Math.round(atSec * sampleRate);
  for (let i = 0; i < src.length && at + i < dst.length; i++)
    dst[at + i] = (dst[at + i] as number) + (src[i] as number) * gain;
}

/** A 16-bit stereo WAV file of a mono signal (both channels equal). */
export function wavPcm16(mono: Float32Array, sampleRate = 44100): Buffer {
  const buf = Buffer.alloc(44 + mono.length * 4);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + mono.length * 4, 4);
  buf.write('WAVEfmt ', 8, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(2, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 4, 28);
  buf.writeUInt16LE(4, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(mono.length * 4, 40);
  for (let i = 0; i < mono.length; i++) {
    const v = Math.max(-32768, Math.min(32767, Math.round((mono[i] as number) * 32768)));
    buf.writeInt16LE(v, 44 + i * 4);
    buf.writeInt16LE(v, 46 + i * 4);
  }
  return buf;
}
