/**
 * `mixdown`: renders a project's arrangement as it is now (clips, fades, fader gains, equal-power pans, mute/solo)
 * to a 16-bit WAV and a 192k MP3 (plus peaks, and when asked a ZIP of per-lane stems) under
 * `users/<owner>/mixdowns/<id>/`, then, in one transaction, a `tracks` row of source `mixdown` (so the mix is in the
 * library) and the `mixdowns` row `succeeded`. Progress goes to the row and to the project's live channel. A failed
 * attempt deletes what it wrote; the last one leaves the row `failed` with the reason.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { findMixdown, loadArrangement, updateMixdown, type MixdownRow } from '@dawg/db';
import {
  JOB_NAMES,
  laneIsAudible,
  mixdownJobSchema,
  projectEventsChannel,
  QUEUE_NAMES,
  type GenerationStatus,
  type ProjectEvent,
} from '@dawg/shared';
import { UnrecoverableError } from 'bullmq';
import { probeAudio } from '../audio/analysis';
import { decodeToRaw, MIX_SAMPLE_RATE, renderArrangement, type DecodedSource } from '../audio/mixdown';
import { defineJob, type JobContext } from '../registry';
import { deleteObjects } from './generate-storage';
import { zipFiles } from './zip-files';

export function mixdownKeys(ownerId: string, mixdownId: string) {
  const base = `users/${ownerId}/mixdowns/${mixdownId}`;
  return {
    wav: `${base}/mix.wav`,
    mp3: `${base}/mix.mp3`,
    peaks: `${base}/peaks.json`,
    stems: `${base}/stems.zip`,
  };
}

async function publish(ctx: JobContext, row: MixdownRow, status: GenerationStatus, progress: number) {
  const event: ProjectEvent = { type: 'mixdown', projectId: row.project_id, mixdownId: row.id, status, progress };
  try {
    await ctx.redis.publish(projectEventsChannel(ctx.env.REDIS_KEY_PREFIX, row.project_id), JSON.stringify(event));
  } catch (err) {
    ctx.log.warn({ err: (err as Error).message, mixdownId: row.id }, 'mixdown progress not published');
  }
}

async function putFile(
  s3: S3Client,
  bucket: string,
  key: string,
  path: string,
  contentType: string,
  written: string[],
  signal: AbortSignal,
) {
  const { size } = await stat(path);
  written.push(key);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: createReadStream(path),
      ContentLength: size,
      ContentType: contentType,
    }),
    { abortSignal: signal },
  );
  return size;
}

/** Safe file names inside the stems ZIP: position, then the lane's name. */
function stemName(index: number, name: string): string {
  const clean = name.replace(/[^\w .()-]/g, '_').trim() || 'lane';
  return `${String(index + 1).padStart(2, '0')} ${clean}.wav`;
}

export const mixdownJob = defineJob({
  name: JOB_NAMES.mixdown,
  queue: QUEUE_NAMES.mixdown,
  schema: mixdownJobSchema,
  handler: async ({ mixdownId }, ctx) => {
    const { db, s3, env, log, signal } = ctx;
    const row = await findMixdown(db, mixdownId);
    if (!row || row.status === 'succeeded' || row.status === 'canceled') return { skipped: true };
    const attempts = ctx.job.opts?.attempts ?? 1;
    const lastAttempt = ctx.job.attemptsMade + 1 >= attempts;
    const bucket = env.AWS_S3_BUCKET;
    const keys = mixdownKeys(row.owner_id, row.id);
    const written: string[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'dawg-mixdown-'));
    let lastReported = -1;
    const report = async (progress: number) => {
      if (progress - lastReported < 5 && progress < 100) return;
      lastReported = progress;
      await updateMixdown(db, row.id, { progress });
      await publish(ctx, row, 'running', progress);
    };
    try {
      await updateMixdown(db, row.id, { status: 'running', progress: 0, startedAt: new Date(), error: null });
      await publish(ctx, row, 'running', 0);
      const project = await db.selectFrom('projects').selectAll().where('id', '=', row.project_id).executeTakeFirst();
      if (!project) throw new UnrecoverableError('The project no longer exists');
      const { lanes, clips } = await loadArrangement(db, row.project_id);
      const anySolo = lanes.some((l) => l.solo);
      const needed = new Set(lanes.filter((l) => row.stems || laneIsAudible(l, anySolo)).map((l) => l.id));
      const trackIds = [...new Set(clips.filter((c) => needed.has(c.laneId)).map((c) => c.trackId))];
      const tracks =
        trackIds.length === 0
          ? []
          : await db
              .selectFrom('tracks')
              .select(['id', 'wav_key', 'original_key', 'mp3_key', 'status', 'deleted_at'])
              .where('id', 'in', trackIds)
              .execute();

      // Decode each track once (two at a time: one per core).
      const sources = new Map<string, DecodedSource>();
      const usable = tracks.filter(
        (t) => !t.deleted_at && t.status === 'ready' && (t.wav_key ?? t.original_key ?? t.mp3_key),
      );
      let decoded = 0;
      const queue = [...usable];
      const decodeNext = async (): Promise<void> => {
        for (let t = queue.shift(); t; t = queue.shift()) {
          const key = (t.wav_key ?? t.original_key ?? t.mp3_key)!;
          const encoded = join(dir, `${t.id}.src`);
          const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
          await pipeline(object.Body as Readable, createWriteStream(encoded), { signal });
          const probe = await probeAudio(encoded, signal);
          if (!probe) throw new UnrecoverableError(`A track of the project is not decodable audio (${t.id})`);
          const channels = probe.channels >= 2 ? 2 : 1;
          const raw = join(dir, `${t.id}.f32`);
          const frames = await decodeToRaw(encoded, raw, MIX_SAMPLE_RATE, channels, signal);
          await rm(encoded, { force: true });
          sources.set(t.id, { path: raw, channels, frames });
          decoded += 1;
          await report(Math.floor((decoded / usable.length) * 30));
        }
      };
      await Promise.all([decodeNext(), decodeNext()]);

      let rendered;
      try {
        rendered = await renderArrangement({
          sampleRate: MIX_SAMPLE_RATE,
          lanes,
          clips,
          sources,
          outDir: dir,
          stems: row.stems,
          signal,
          onProgress: (fraction) => void report(30 + Math.floor(fraction * 60)).catch(() => undefined),
        });
      } catch (err) {
        if ((err as Error).message.startsWith('nothing to mix')) {
          throw new UnrecoverableError('Nothing to mix: the project has no audible clips');
        }
        throw err;
      }

      const wavBytes = await putFile(s3, bucket, keys.wav, rendered.wavPath, 'audio/wav', written, signal);
      await putFile(s3, bucket, keys.mp3, rendered.mp3Path, 'audio/mpeg', written, signal);
      written.push(keys.peaks);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: keys.peaks,
          Body: JSON.stringify(rendered.peaks),
          ContentType: 'application/json',
        }),
        { abortSignal: signal },
      );
      let stemsKey: string | null = null;
      if (row.stems && rendered.stems.length > 0) {
        const zipPath = join(dir, 'stems.zip');
        const byLane = new Map(lanes.map((l, i) => [l.id, i]));
        await zipFiles(
          zipPath,
          rendered.stems.map((s) => ({ name: stemName(byLane.get(s.laneId) ?? 0, s.name), path: s.path })),
        );
        await putFile(s3, bucket, keys.stems, zipPath, 'application/zip', written, signal);
        stemsKey = keys.stems;
      }
      await report(95);

      await db.transaction().execute(async (trx) => {
        const track = await trx
          .insertInto('tracks')
          .values({
            owner_id: row.owner_id,
            project_id: row.project_id,
            source: 'mixdown',
            status: 'ready',
            title: `${project.name} (mixdown)`.slice(0, 200),
            wav_key: keys.wav,
            mp3_key: keys.mp3,
            peaks_key: keys.peaks,
            content_type: 'audio/wav',
            size_bytes: wavBytes,
            duration_sec: rendered.durationSec,
            sample_rate: MIX_SAMPLE_RATE,
            channels: 2,
            bpm: project.bpm,
            musical_key: project.key,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        await updateMixdown(trx, row.id, {
          status: 'succeeded',
          progress: 100,
          trackId: track.id,
          stemsKey,
          durationSec: rendered.durationSec,
          completedAt: new Date(),
        });
      });
      await publish(ctx, row, 'succeeded', 100);
      log.info({ mixdownId, durationSec: rendered.durationSec, stems: rendered.stems.length }, 'mixdown rendered');
      return { durationSec: rendered.durationSec };
    } catch (err) {
      const failed = await deleteObjects(s3, bucket, written);
      if (failed.length > 0) log.warn({ mixdownId, keys: failed.length }, 'mixdown objects not deleted');
      const final = lastAttempt || err instanceof UnrecoverableError;
      if (final && !signal.aborted) {
        const reason = (err as Error).message.slice(0, 500);
        await updateMixdown(db, row.id, { status: 'failed', error: reason, completedAt: new Date() });
        await publish(ctx, row, 'failed', lastReported < 0 ? 0 : lastReported);
      }
      throw err;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});
