import { describe, expect, it } from 'vitest';
import { CAPTURE_WORKLET_SOURCE, FRAME_SAMPLES, floatToPcm16, pcm16ToFloat, rms } from './voice-audio';

/** Runs the worklet source with stand-ins for the AudioWorkletGlobalScope; returns the frames it posts. */
function runWorklet(contextRate: number, input: Float32Array, block = 128) {
  const posted: { pcm: ArrayBuffer; level: number }[] = [];
  let Processor: (new () => { process(inputs: Float32Array[][]): boolean; port: unknown }) | undefined;
  class AudioWorkletProcessor {
    port = { postMessage: (m: { pcm: ArrayBuffer; level: number }) => posted.push(m) };
  }
  new Function('AudioWorkletProcessor', 'registerProcessor', 'sampleRate', CAPTURE_WORKLET_SOURCE)(
    AudioWorkletProcessor,
    (_name: string, cls: typeof Processor) => (Processor = cls),
    contextRate,
  );
  const p = new Processor!();
  for (let i = 0; i < input.length; i += block) p.process([[input.subarray(i, i + block)]]);
  return posted;
}

describe('voice audio', () => {
  it('converts float samples to PCM16 and back', () => {
    const pcm = floatToPcm16(new Float32Array([0, 1, -1, 0.5, 2]));
    expect([...new Int16Array(pcm)]).toEqual([0, 32767, -32768, 16384, 32767]);
    const back = pcm16ToFloat(pcm);
    expect(back[2]).toBe(-1);
    expect(back[3]).toBeCloseTo(0.5, 3);
    expect(rms(new Float32Array([1, -1]))).toBe(1);
  });

  it('the capture worklet emits 24 kHz PCM16 frames whatever the context rate', () => {
    const tone = (rate: number, seconds: number) =>
      Float32Array.from({ length: rate * seconds }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));
    const at24 = runWorklet(24_000, tone(24_000, 1));
    expect(at24.length).toBe(Math.floor(24_000 / FRAME_SAMPLES) - 1);
    expect(at24.every((f) => f.pcm.byteLength === FRAME_SAMPLES * 2)).toBe(true);
    const first = new Int16Array(at24[0]!.pcm);
    expect(first[0]).toBe(0);
    expect(first[6]).toBe(Math.round(0.5 * Math.sin((2 * Math.PI * 440 * 6) / 24_000) * 0x7fff));
    // A 48 kHz context is halved: one second still makes about 24,000 samples.
    const at48 = runWorklet(48_000, tone(48_000, 1));
    expect(at48.length * FRAME_SAMPLES).toBeGreaterThan(23_000);
    expect(at48.length * FRAME_SAMPLES).toBeLessThanOrEqual(24_000);
    expect(at48[3]!.level).toBeCloseTo(0.5 / Math.SQRT2, 1);
  });
});
