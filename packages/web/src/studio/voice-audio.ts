/**
 * Audio plumbing of the voice panel: the AudioWorklet that turns the microphone into PCM16 mono 24 kHz frames (with
 * a level for the meter), and the conversions both ways. The worklet resamples from the context's rate when the
 * browser did not honour the 24 kHz context (linear interpolation; the Realtime API's input is speech).
 */

export const VOICE_SAMPLE_RATE = 24_000;
/** Samples per frame sent up: 20 ms at 24 kHz. */
export const FRAME_SAMPLES = 480;

/** Float samples in [-1, 1] → PCM16 little-endian (clipped). */
export function floatToPcm16(samples: Float32Array): ArrayBuffer {
  const out = new DataView(new ArrayBuffer(samples.length * 2));
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    out.setInt16(i * 2, s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff), true);
  }
  return out.buffer;
}

/** PCM16 little-endian → float samples in [-1, 1]. */
export function pcm16ToFloat(bytes: ArrayBuffer): Float32Array {
  const view = new DataView(bytes);
  const out = new Float32Array(Math.floor(bytes.byteLength / 2));
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true) / 0x8000;
  return out;
}

/** Root mean square of a block (0..1), for the level meter. */
export function rms(samples: Float32Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const s of samples) sum += s * s;
  return Math.sqrt(sum / samples.length);
}

/**
 * The worklet processor, as module source (loaded from a Blob URL so it needs no bundler entry). It posts
 * `{ pcm: ArrayBuffer, level: number }` per FRAME_SAMPLES output samples.
 */
export const CAPTURE_WORKLET_SOURCE = `
const TARGET = ${VOICE_SAMPLE_RATE};
const FRAME = ${FRAME_SAMPLES};
class Pcm16Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / TARGET;
    this.pos = 0;
    this.prev = 0;
    this.frame = new Int16Array(FRAME);
    this.n = 0;
    this.sumSq = 0;
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    if (!input) return true;
    // Linear resampling from sampleRate to TARGET; pos is the read position in this block (-1 = the last sample
    // of the previous block).
    const at = (k) => (k < 0 ? this.prev : input[k]);
    while (this.pos < input.length - 1) {
      const i = Math.floor(this.pos);
      const s = at(i) + (at(i + 1) - at(i)) * (this.pos - i);
      const c = Math.max(-1, Math.min(1, s));
      this.frame[this.n++] = c < 0 ? Math.round(c * 0x8000) : Math.round(c * 0x7fff);
      this.sumSq += c * c;
      if (this.n === FRAME) {
        const pcm = this.frame.buffer.slice(0);
        this.port.postMessage({ pcm, level: Math.sqrt(this.sumSq / FRAME) }, [pcm]);
        this.n = 0;
        this.sumSq = 0;
      }
      this.pos += this.ratio;
    }
    this.pos -= input.length;
    this.prev = input[input.length - 1];
    return true;
  }
}
registerProcessor('pcm16-capture', Pcm16Capture);
`;

/** Plays PCM16 chunks back to back on a context; `stop()` cuts what is queued (the user spoke over it). */
export class PcmPlayer {
  private next = 0;
  private readonly sources = new Set<AudioBufferSourceNode>();
  /** Samples handed to the output so far (tests and the "speaking" state read it). */
  played = 0;

  constructor(
    private readonly ctx: AudioContext,
    private readonly destination: AudioNode,
  ) {}

  get playing(): boolean {
    return this.sources.size > 0;
  }

  enqueue(bytes: ArrayBuffer, onEnded?: () => void): void {
    const samples = pcm16ToFloat(bytes);
    if (samples.length === 0) return;
    const buffer = this.ctx.createBuffer(1, samples.length, VOICE_SAMPLE_RATE);
    buffer.copyToChannel(samples as Float32Array<ArrayBuffer>, 0);
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.destination);
    const at = Math.max(this.ctx.currentTime + 0.02, this.next);
    source.start(at);
    this.next = at + buffer.duration;
    this.sources.add(source);
    source.onended = () => {
      this.sources.delete(source);
      this.played += samples.length;
      onEnded?.();
    };
  }

  stop(): void {
    for (const s of this.sources) {
      s.onended = null;
      try {
        s.stop();
      } catch {
        // Not started yet.
      }
    }
    this.sources.clear();
    this.next = 0;
  }
}
