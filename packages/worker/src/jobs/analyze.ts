/**
 * `analyze`: an uploaded track's original becomes playable. The original is fetched to a temp file, probed (no audio
 * stream, or audio ffmpeg cannot decode, fails the track and deletes the object: a renamed non-audio file never
 * lingers), decoded, measured (duration from the decoded frames, integrated loudness, a tempo estimate, waveform
 * peaks) and encoded as the playback MP3; then the row becomes `ready`. Infrastructure failures (S3, the database)
 * throw and are retried; a file that is not audio is not (retrying cannot fix it).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { findTrackById, markTrackAnalyzed, markTrackFailed } from '@dawg/db';
import { analyzeJobSchema, JOB_NAMES, QUEUE_NAMES } from '@dawg/shared';
import { decodeInterleaved, encodeMp3, estimateBpm, integratedLoudness, probeAudio } from '../audio/analysis';
import { FfmpegError } from '../audio/ffmpeg';
import { computePeaks } from '../audio/peaks';
import { defineJob } from '../registry';
import { CONTENT_TYPES, putObject } from './generate-storage';

/** Longer uploads are refused: their decoded PCM would not fit a worker's memory comfortably. */
export const MAX_ANALYZED_SEC = 20 * 60;

class NotAudioError extends Error {}

export function analysisKeys(ownerId: string, trackId: string) {
  const base = `users/${ownerId}/uploads/${trackId}`;
  return { mp3: `${base}/audio.mp3`, peaks: `${base}/peaks.json` };
}

export const analyzeJob = defineJob({
  name: JOB_NAMES.analyze,
  queue: QUEUE_NAMES.analyze,
  schema: analyzeJobSchema,
  handler: async ({ trackId }, { db, s3, env, log, signal }) => {
    const track = await findTrackById(db, trackId);
    if (!track || track.deleted_at || track.source !== 'uploaded' || !track.original_key) return { skipped: true };
    if (track.status === 'ready') return { skipped: true };
    const bucket = env.AWS_S3_BUCKET;
    const originalKey = track.original_key;
    const dir = await mkdtemp(join(tmpdir(), 'dawg-analyze-'));
    try {
      const path = join(dir, 'original');
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: originalKey }), {
        abortSignal: signal,
      });
      await pipeline(object.Body as Readable, createWriteStream(path), { signal });

      let analysed;
      try {
        const probe = await probeAudio(path, signal);
        if (!probe) throw new NotAudioError('This file holds no audio');
        if (probe.durationSec !== null && probe.durationSec > MAX_ANALYZED_SEC) {
          throw new NotAudioError(`Uploads are at most ${MAX_ANALYZED_SEC / 60} minutes long`);
        }
        const channels = Math.min(2, probe.channels);
        const sampleRate = probe.sampleRate;
        const pcm = await decodeInterleaved(path, sampleRate, channels, signal);
        const frames = Math.floor(pcm.length / channels);
        if (frames === 0) throw new NotAudioError('The file decodes to no audio');
        analysed = { pcm, frames, channels, sampleRate };
      } catch (err) {
        if (!(err instanceof NotAudioError) && !(err instanceof FfmpegError)) throw err;
        const reason = err instanceof NotAudioError ? err.message : 'This file could not be decoded as audio';
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: originalKey }), { abortSignal: signal });
        await markTrackFailed(db, trackId, reason);
        log.info({ trackId }, 'upload refused: not decodable audio');
        return { ready: false, reason };
      }

      const { pcm, frames, channels, sampleRate } = analysed;
      const [loudnessLufs, mp3] = await Promise.all([
        integratedLoudness(pcm, sampleRate, channels, signal),
        encodeMp3(pcm, sampleRate, channels, signal),
      ]);
      const peaks = computePeaks(pcm, sampleRate, channels);
      const bpm = estimateBpm(pcm, sampleRate, channels);
      const keys = analysisKeys(track.owner_id, trackId);
      const written: string[] = [];
      await putObject(s3, bucket, keys.mp3, mp3, CONTENT_TYPES.mp3, written, signal);
      await putObject(s3, bucket, keys.peaks, Buffer.from(JSON.stringify(peaks)), CONTENT_TYPES.peaks, written, signal);
      const durationSec = frames / sampleRate;
      await markTrackAnalyzed(db, trackId, {
        mp3Key: keys.mp3,
        peaksKey: keys.peaks,
        durationSec,
        loudnessLufs,
        bpm,
        sampleRate,
        channels,
      });
      log.info({ trackId, durationSec }, 'upload analysed');
      return { ready: true, durationSec };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});
