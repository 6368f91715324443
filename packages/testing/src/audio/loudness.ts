/**
 * Level measurements: RMS, peak and dBFS on PCM, and EBU R128 integrated loudness through ffmpeg's ebur128 filter.
 */
import { spawn } from 'node:child_process';

export function rms(x: Float32Array, from = 0, to = x.length): number {
  let sum = 0;
  const a = Math.max(0, from);
  const b = Math.min(x.length, to);
  for (let i = a; i < b; i++) sum += (x[i] as number) * (x[i] as number);
  return b > a ? Math.sqrt(sum / (b - a)) : 0;
}

export function peak(x: Float32Array): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) p = Math.max(p, Math.abs(x[i] as number));
  return p;
}

/** Amplitude (linear, 1 = full scale) to dBFS; -Infinity for silence. */
export const dbfs = (amplitude: number): number => 20 * Math.log10(amplitude);

/**
 * Integrated loudness (EBU R128 / BS.1770, LUFS) of a file path or in-memory bytes, from ffmpeg's loudnorm filter
 * in analysis mode (its JSON report's `input_i`). (ffmpeg 5.1's ebur128 filter fails to re-initialise when its
 * graph is reconfigured mid-stream, so it is not used here.)
 */
export function integratedLoudness(input: string | Uint8Array, ffmpegPath = 'ffmpeg'): Promise<number> {
  const fromBytes = typeof input !== 'string';
  const args = [
    '-hide_banner',
    '-nostats',
    '-i',
    fromBytes ? 'pipe:0' : input,
    '-af',
    'loudnorm=print_format=json',
    '-f',
    'null',
    '-',
  ];
  return new Promise((resolve, reject) => {
    const proc = spawn(ffmpegPath, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const json = stderr.slice(stderr.lastIndexOf('{'), stderr.lastIndexOf('}') + 1);
      let value: number | undefined;
      try {
        const raw = (JSON.parse(json) as { input_i?: string }).input_i;
        value = raw === '-inf' ? -Infinity : raw === undefined ? undefined : Number(raw);
      } catch {
        value = undefined;
      }
      if (code !== 0 || value === undefined || Number.isNaN(value)) {
        reject(new Error(`ffmpeg loudnorm failed (${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
        return;
      }
      resolve(value);
    });
    proc.stdin.on('error', () => undefined);
    if (fromBytes) proc.stdin.end(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    else proc.stdin.end();
  });
}
