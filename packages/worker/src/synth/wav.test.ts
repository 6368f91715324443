import { decodeWithFfmpeg } from '@dawg/testing/audio/index';
import { describe, expect, it } from 'vitest';
import { encodeWav } from './wav';

const pcm = {
  sampleRate: 44100,
  left: Float32Array.from([0, 0.5, -0.5, 1, -1, 1.5, -1.5, 0.25]),
  right: Float32Array.from([0, -0.25, 0.25, 0.999, -0.999, 0, 0, 0.125]),
};

describe('encodeWav', () => {
  it('writes a canonical 16-bit stereo RIFF header and rounds/clamps samples', () => {
    const wav = encodeWav(pcm);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect(wav.readUInt16LE(20)).toBe(1);
    expect(wav.readUInt16LE(22)).toBe(2);
    expect(wav.readUInt32LE(24)).toBe(44100);
    expect(wav.readUInt32LE(28)).toBe(44100 * 4);
    expect(wav.readUInt16LE(34)).toBe(16);
    expect(wav.readUInt32LE(40)).toBe(8 * 4);
    const left = [0, 1, 2, 3, 4, 5, 6].map((i) => wav.readInt16LE(44 + i * 4));
    expect(left).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768]);
    expect(wav.readInt16LE(44 + 1 * 4 + 2)).toBe(-8192);
  });

  it('writes 32-bit float WAVs losslessly', () => {
    const wav = encodeWav(pcm, 'float32');
    expect(wav.readUInt16LE(20)).toBe(3);
    expect(wav.readUInt16LE(34)).toBe(32);
    expect(wav.readFloatLE(44 + 8 * 3)).toBe(Math.fround(1));
    expect(wav.readFloatLE(44 + 8 * 7 + 4)).toBe(0.125);
  });

  it('produces files ffmpeg decodes back to the same samples', async () => {
    for (const format of ['pcm16', 'float32'] as const) {
      const decoded = await decodeWithFfmpeg(encodeWav(pcm, format));
      expect(decoded.length).toBe(8);
      const tol = format === 'pcm16' ? 1 / 32768 : 0;
      for (let i = 0; i < 5; i++)
        expect(Math.abs((decoded.channels[0]?.[i] ?? NaN) - (pcm.left[i] as number))).toBeLessThanOrEqual(tol + 1e-9);
    }
  });

  it('refuses channels of different lengths', () => {
    expect(() => encodeWav({ sampleRate: 44100, left: new Float32Array(2), right: new Float32Array(3) })).toThrow(
      RangeError,
    );
  });
});
