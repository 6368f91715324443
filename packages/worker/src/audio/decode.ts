/**
 * Decodes an audio file (whatever ffmpeg reads: MP3 from a provider, WAV, FLAC…) into planar Float32 PCM at a fixed
 * rate and channel count, in a child process.
 */
import { runFfmpeg } from './ffmpeg';
import { asFloat32, type Pcm } from './pcm';

export async function decodeFile(
  path: string,
  { sampleRate = 44_100, channels = 2, signal }: { sampleRate?: number; channels?: number; signal?: AbortSignal } = {},
): Promise<Pcm> {
  const { stdout } = await runFfmpeg(
    [
      '-loglevel',
      'error',
      '-i',
      path,
      '-vn',
      '-ac',
      String(channels),
      '-ar',
      String(sampleRate),
      '-f',
      'f32le',
      'pipe:1',
    ],
    { signal },
  );
  const interleaved = asFloat32(stdout);
  const frames = Math.floor(interleaved.length / channels);
  const planes = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) for (let c = 0; c < channels; c++) planes[c]![i] = interleaved[i * channels + c]!;
  return { sampleRate, channels: planes };
}
