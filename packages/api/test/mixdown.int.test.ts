/**
 * Mixdowns on the real api, worker, Postgres, Redis and S3-protocol server, checked against what the browser plays:
 * two known tones on two lanes with set gains, pans and a fade are rendered by `project.mixdown` and, from the same
 * arrangement, by an OfflineAudioContext in Chromium built like the studio's engine (per clip a gain node carrying
 * the fade, per lane GainNode → StereoPannerNode); the per-channel levels agree within 0.5 dB. A muted lane is absent
 * from the mix, a soloed lane is alone in it, progress arrives on `project.live`, and stems come as a ZIP of one WAV
 * per lane.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Database } from '@dawg/db';
import type { MixdownView, ProjectEvent } from '@dawg/shared';
import {
  createS3Client,
  createTestDatabase,
  createUser,
  launchBrowser,
  startS3Server,
  waitFor,
  type S3ServerHandle,
  type TestDatabase,
} from '@dawg/testing';
import type { WorkerApp } from '@dawg/worker';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { makeTone } from './helpers/audio';
import { codeOf, httpClient, startWorker, wsClient } from './helpers/generation';

let database: TestDatabase;
let db: Kysely<Database>;
let s3server: S3ServerHandle;
let s3: S3Client;
let api: TestApi;
let worker: WorkerApp;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  [database, s3server] = await Promise.all([createTestDatabase(), startS3Server()]);
  db = database.db;
  s3 = createS3Client(s3server);
  api = await startApi({ database, label: 'mixdown', s3: s3server, overrides: { WHITELISTED_IPS: '127.0.0.1' } });
  worker = await startWorker({ database, prefix: api.prefix, s3: s3server });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await worker?.close(1_000);
  await api?.close();
  s3?.destroy();
  await s3server?.stop();
  await database?.drop();
});

const RATE = 48_000;

/** A ready track whose WAV is a tone made by ffmpeg. */
async function toneTrack(ownerId: string, frequency: number, amplitude: number, seconds: number, channels: 1 | 2) {
  const wav = await makeTone({ seconds, frequency, amplitude, sampleRate: RATE, channels, format: 'wav' });
  const id = crypto.randomUUID();
  const key = `users/${ownerId}/tracks/${id}/audio.wav`;
  await s3.send(new PutObjectCommand({ Bucket: s3server.bucket, Key: key, Body: wav, ContentType: 'audio/wav' }));
  await db
    .insertInto('tracks')
    .values({
      id,
      owner_id: ownerId,
      source: 'uploaded',
      status: 'ready',
      title: `${frequency} Hz`,
      wav_key: key,
      mp3_key: key,
      duration_sec: seconds,
      loudness_lufs: 20 * Math.log10(amplitude) - 3,
    })
    .execute();
  return { id, wav };
}

/** Interleaved 16-bit WAV → planar floats. */
function parseWav(bytes: Buffer): { channels: Float32Array[]; sampleRate: number } {
  expect(bytes.toString('ascii', 0, 4)).toBe('RIFF');
  const channels = bytes.readUInt16LE(22);
  const sampleRate = bytes.readUInt32LE(24);
  let offset = 12;
  while (bytes.toString('ascii', offset, offset + 4) !== 'data') offset += 8 + bytes.readUInt32LE(offset + 4);
  const size = bytes.readUInt32LE(offset + 4);
  const frames = size / (2 * channels);
  const planes = Array.from({ length: channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) planes[c]![i] = bytes.readInt16LE(offset + 8 + (i * channels + c) * 2) / 32768;
  }
  return { channels: planes, sampleRate };
}

const rmsDb = (x: Float32Array, from: number, to: number) => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
  return 10 * Math.log10(sum / (to - from) + 1e-20);
};

/** Power (dB) of one frequency in a window (Goertzel). */
function toneDb(x: Float32Array, frequency: number, from: number, to: number): number {
  const w = (2 * Math.PI * frequency) / RATE;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    const s = x[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return 10 * Math.log10(power / ((to - from) * (to - from)) + 1e-20);
}

interface RefLane {
  gainDb: number;
  pan: number;
  mute: boolean;
  solo: boolean;
  clips: {
    wav: string;
    startSec: number;
    offsetSec: number;
    lengthSec: number;
    fadeInSec: number;
    fadeOutSec: number;
  }[];
}

/**
 * The same arrangement rendered by Chromium's OfflineAudioContext, wired like the studio's engine (src/audio/engine.ts
 * in the web package): per clip a source through a GainNode carrying the fade automation, per lane a GainNode (fader,
 * mute/solo) into a StereoPannerNode. Plain JavaScript run in the page (this package has no DOM types).
 */
const OFFLINE_RENDER = `async ({ lanes, seconds, rate }) => {
  const ctx = new OfflineAudioContext(2, Math.round(seconds * rate), rate);
  const anySolo = lanes.some((l) => l.solo);
  const dbToGain = (db) => (db <= -60 ? 0 : 10 ** (Math.min(db, 12) / 20));
  for (const lane of lanes) {
    const input = ctx.createGain();
    input.gain.value = (anySolo ? lane.solo : !lane.mute) ? dbToGain(lane.gainDb) : 0;
    const panner = ctx.createStereoPanner();
    panner.pan.value = lane.pan;
    input.connect(panner);
    panner.connect(ctx.destination);
    for (const clip of lane.clips) {
      const bytes = Uint8Array.from(atob(clip.wav), (c) => c.charCodeAt(0));
      const buffer = await ctx.decodeAudioData(bytes.buffer);
      const source = ctx.createBufferSource();
      source.buffer = buffer;
      const gain = ctx.createGain();
      const t0 = clip.startSec;
      gain.gain.setValueAtTime(clip.fadeInSec > 0 ? 0 : 1, t0);
      if (clip.fadeInSec > 0) gain.gain.linearRampToValueAtTime(1, t0 + clip.fadeInSec);
      if (clip.fadeOutSec > 0) {
        gain.gain.setValueAtTime(1, t0 + clip.lengthSec - clip.fadeOutSec);
        gain.gain.linearRampToValueAtTime(0, t0 + clip.lengthSec);
      }
      source.connect(gain);
      gain.connect(input);
      source.start(t0, clip.offsetSec, clip.lengthSec);
    }
  }
  const rendered = await ctx.startRendering();
  return [Array.from(rendered.getChannelData(0)), Array.from(rendered.getChannelData(1))];
}`;

async function browserRender(lanes: RefLane[], seconds: number): Promise<Float32Array[]> {
  const page = await browser.newPage();
  try {
    const args = JSON.stringify({ lanes, seconds, rate: RATE });
    const planes = (await page.evaluate(`(${OFFLINE_RENDER})(${args})`)) as number[][];
    return planes.map((p) => Float32Array.from(p));
  } finally {
    await page.close();
  }
}

async function person() {
  const { user, token } = await createUser(db);
  return { user, token, client: httpClient(api.base, token) };
}

async function finished(client: ReturnType<typeof httpClient>, id: string): Promise<MixdownView> {
  return waitFor(
    async () => {
      const view = await client.project.getMixdown.query({ id });
      if (view.status === 'failed') throw new Error(`mixdown failed: ${view.error}`);
      return view.status === 'succeeded' ? view : undefined;
    },
    { timeoutMs: 60_000, description: 'mixdown succeeded' },
  );
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('project.mixdown', () => {
  it('matches an OfflineAudioContext render per channel within 0.5 dB; mute removes a lane, solo isolates one', async () => {
    const me = await person();
    const a = await toneTrack(me.user.id, 440, 0.5, 3, 2);
    const b = await toneTrack(me.user.id, 1000, 0.4, 3, 1);
    const created = await me.client.project.create.mutate({ name: 'Two tones' });
    const laneA = crypto.randomUUID();
    const laneB = crypto.randomUUID();
    const clipA = { startSec: 0, offsetSec: 0, lengthSec: 3, fadeInSec: 0.5, fadeOutSec: 0 };
    const clipB = { startSec: 0.5, offsetSec: 0.25, lengthSec: 2.5, fadeInSec: 0, fadeOutSec: 0.5 };
    let state = await me.client.arrangement.applyOps.mutate({
      projectId: created.project.id,
      expectedVersion: created.project.version,
      ops: [
        { type: 'addLane', lane: { id: laneA, name: 'A 440', gainDb: -6, pan: -0.5 } },
        { type: 'addLane', lane: { id: laneB, name: 'B 1k', gainDb: -3, pan: 0.7 } },
        { type: 'addClip', clip: { laneId: laneA, trackId: a.id, ...clipA } },
        { type: 'addClip', clip: { laneId: laneB, trackId: b.id, ...clipB } },
      ],
    });
    const projectId = created.project.id;

    // Progress arrives on the live channel.
    const live = wsClient(api.wsBase, me.token);
    const events: ProjectEvent[] = [];
    const sub = live.client.project.live.subscribe({ projectId }, { onData: (e) => events.push(e) });
    await waitFor(() => events.some((e) => e.type === 'presence'), { description: 'live subscription open' });

    const requested = await me.client.project.mixdown.mutate({ projectId, stems: true });
    expect(['queued', 'running']).toContain(requested.status);
    const done = await finished(me.client, requested.id);
    expect(done.durationSec).toBeCloseTo(3, 2);
    await waitFor(() => events.some((e) => e.type === 'mixdown' && e.status === 'succeeded'), {
      description: 'succeeded event',
    });
    const progress = events.filter((e) => e.type === 'mixdown').map((e) => (e.type === 'mixdown' ? e.progress : 0));
    expect(progress.length).toBeGreaterThan(2);
    expect(progress.at(-1)).toBe(100);
    sub.unsubscribe();
    await live.close();

    const server = parseWav(await download(done.wavUrl!));
    expect(server.sampleRate).toBe(RATE);
    const reference = await browserRender(
      [
        { gainDb: -6, pan: -0.5, mute: false, solo: false, clips: [{ wav: a.wav.toString('base64'), ...clipA }] },
        { gainDb: -3, pan: 0.7, mute: false, solo: false, clips: [{ wav: b.wav.toString('base64'), ...clipB }] },
      ],
      3,
    );
    // Windows inside the fades and in the steady middle.
    for (const [from, to] of [
      [0.1, 0.45],
      [1.0, 2.2],
      [2.55, 2.95],
    ] as const) {
      for (const c of [0, 1]) {
        const s = rmsDb(server.channels[c]!, Math.round(from * RATE), Math.round(to * RATE));
        const r = rmsDb(reference[c]!, Math.round(from * RATE), Math.round(to * RATE));
        expect(
          Math.abs(s - r),
          `channel ${c} ${from}-${to}s: server ${s.toFixed(2)} dB, browser ${r.toFixed(2)} dB`,
        ).toBeLessThanOrEqual(0.5);
      }
    }
    // Both tones are in the mix; the MP3 and the stems exist.
    expect(toneDb(server.channels[1]!, 1000, RATE, 2 * RATE)).toBeGreaterThan(-20);
    expect((await download(done.mp3Url!)).byteLength).toBeGreaterThan(10_000);
    const zip = await download(done.stemsUrl!);
    expect(zip.toString('ascii', 0, 2)).toBe('PK');
    const entries = zip.toString('latin1').split('PK\u0001\u0002').length - 1;
    expect(entries).toBe(2);

    // Mute lane B: the 1 kHz tone is absent.
    state = await me.client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: state.project.version,
      ops: [{ type: 'updateLane', laneId: laneB, mute: true }],
    });
    const muted = parseWav(
      await download((await finished(me.client, (await me.client.project.mixdown.mutate({ projectId })).id)).wavUrl!),
    );
    for (const c of [0, 1]) {
      expect(toneDb(muted.channels[c]!, 1000, RATE, 2 * RATE)).toBeLessThan(-80);
      expect(toneDb(muted.channels[c]!, 440, RATE, 2 * RATE)).toBeGreaterThan(-30);
    }

    // Solo lane B (still muted: solo wins, as in the studio): only the 1 kHz tone.
    await me.client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: state.project.version,
      ops: [{ type: 'updateLane', laneId: laneB, solo: true }],
    });
    const soloed = parseWav(
      await download((await finished(me.client, (await me.client.project.mixdown.mutate({ projectId })).id)).wavUrl!),
    );
    for (const c of [0, 1]) {
      expect(toneDb(soloed.channels[c]!, 440, RATE, 2 * RATE)).toBeLessThan(-80);
    }
    expect(toneDb(soloed.channels[1]!, 1000, RATE, 2 * RATE)).toBeGreaterThan(-20);

    // The mixes are in the library as tracks of source mixdown.
    const mixes = await me.client.track.list.query({ source: 'mixdown' });
    expect(mixes.items).toHaveLength(3);
    const listed = await me.client.project.listMixdowns.query({ projectId });
    expect(listed.map((m) => m.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('refuses an empty project, viewers and strangers', async () => {
    const me = await person();
    const viewer = await person();
    const stranger = await person();
    const created = await me.client.project.create.mutate({ name: 'Empty' });
    const projectId = created.project.id;
    expect(await codeOf(me.client.project.mixdown.mutate({ projectId }))).toBe('BAD_REQUEST');
    await db
      .insertInto('project_members')
      .values({ project_id: projectId, user_id: viewer.user.id, role: 'viewer' })
      .execute();
    expect(await codeOf(viewer.client.project.mixdown.mutate({ projectId }))).toBe('FORBIDDEN');
    expect(await codeOf(stranger.client.project.mixdown.mutate({ projectId }))).toBe('NOT_FOUND');
    expect(await db.selectFrom('mixdowns').select('id').where('project_id', '=', projectId).execute()).toEqual([]);

    // At most three mixdowns of one user at once.
    const track = await toneTrack(me.user.id, 440, 0.5, 1, 2);
    const laneId = crypto.randomUUID();
    await me.client.arrangement.applyOps.mutate({
      projectId,
      expectedVersion: created.project.version,
      ops: [
        { type: 'addLane', lane: { id: laneId, name: 'One' } },
        { type: 'addClip', clip: { laneId, trackId: track.id, startSec: 0 } },
      ],
    });
    await db
      .insertInto('mixdowns')
      .values([1, 2, 3].map(() => ({ project_id: projectId, owner_id: me.user.id, project_version: 1 })))
      .execute();
    expect(await codeOf(me.client.project.mixdown.mutate({ projectId }))).toBe('TOO_MANY_REQUESTS');
  });
});
