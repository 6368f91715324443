/**
 * The AI producer's mixing tools (`auto_mix`, `mixdown_project`) through the tool registry's `runTool`, as the chat
 * runner calls them: they act with the caller's permissions (a viewer is refused and nothing changes), `auto_mix` is
 * one undoable edit that balances the lanes, and `mixdown_project` queues a render of the conversation's project.
 */
import { applyArrangementEdit, insertProject, type Database } from '@dawg/db';
import { apiEnvSchema, parseEnv } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  testEnv,
  uniqueRedisPrefix,
  type TestDatabase,
} from '@dawg/testing';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3 } from '../src/deps';
import { createStudioIo, type StudioIo } from '../src/services/studio-io-deps';
import { runTool, type ToolContext, type ToolDeps } from '../src/services/tools';
import { insertReadyTrack } from './helpers/studio';

let database: TestDatabase;
let db: Kysely<Database>;
let redis: Redis;
let io: StudioIo;
let deps: ToolDeps;
const prefix = uniqueRedisPrefix('studio-tools');

beforeAll(async () => {
  database = await createTestDatabase();
  db = database.db;
  const env = parseEnv(apiEnvSchema, testEnv({ databaseUrl: database.url, redisPrefix: prefix }));
  const log = pino({ level: 'silent' }) as unknown as FastifyBaseLogger;
  redis = new Redis(env.REDIS_URL);
  io = createStudioIo(env, log, redis);
  deps = {
    db,
    env,
    log,
    storage: { s3: createS3(env), bucket: env.AWS_S3_BUCKET },
    generationQueue: { enqueue: async () => undefined } as unknown as ToolDeps['generationQueue'],
    progress: {} as ToolDeps['progress'],
    trackDeletion: { enqueue: async () => undefined },
    studioIo: io,
  };
});

afterAll(async () => {
  await io?.close();
  redis?.disconnect();
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

function context(userId: string, projectId: string): ToolContext {
  return {
    deps,
    caller: { id: userId, role: 'user' },
    conversationId: null,
    projectId,
    toolCallId: crypto.randomUUID(),
    signal: new AbortController().signal,
  };
}

describe('mixing tools', () => {
  it('auto_mix balances the lanes as one undoable edit; mixdown_project queues a render; viewers are refused', async () => {
    const { user } = await createUser(db);
    const { user: viewer } = await createUser(db);
    const projectId = (await insertProject(db, user.id, { name: 'Tools' })).id;
    const loud = await insertReadyTrack(db, user.id, { durationSec: 10 });
    const quiet = await insertReadyTrack(db, user.id, { durationSec: 10 });
    await db.updateTable('tracks').set({ loudness_lufs: -8 }).where('id', '=', loud.id).execute();
    await db.updateTable('tracks').set({ loudness_lufs: -30 }).where('id', '=', quiet.id).execute();
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    await applyArrangementEdit(db, {
      projectId,
      userId: user.id,
      expectedVersion: 1,
      ops: [
        { type: 'addLane', lane: { id: a, name: 'Loud' } },
        { type: 'addLane', lane: { id: b, name: 'Quiet' } },
        { type: 'addClip', clip: { laneId: a, trackId: loud.id, startSec: 0 } },
        { type: 'addClip', clip: { laneId: b, trackId: quiet.id, startSec: 0 } },
      ],
    });
    await db
      .insertInto('project_members')
      .values({ project_id: projectId, user_id: viewer.id, role: 'viewer' })
      .execute();

    const refused = await runTool(context(viewer.id, projectId), 'auto_mix', {});
    expect(refused).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    const refusedMix = await runTool(context(viewer.id, projectId), 'mixdown_project', {});
    expect(refusedMix).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    expect(await db.selectFrom('mixdowns').select('id').execute()).toEqual([]);

    const mixed = await runTool(context(user.id, projectId), 'auto_mix', {});
    expect(mixed.ok).toBe(true);
    const lanes = await db.selectFrom('lanes').select(['id', 'gain_db']).where('project_id', '=', projectId).execute();
    const gain = new Map(lanes.map((l) => [l.id, l.gain_db]));
    // −14 LUFS for two lanes: each at −17; the loud one down 9 dB, the quiet one up 12 dB (the fader's top).
    expect(gain.get(a)).toBeCloseTo(-9, 5);
    expect(gain.get(b)).toBeCloseTo(12, 5);
    const edits = await db.selectFrom('project_edits').select('id').where('project_id', '=', projectId).execute();
    expect(edits).toHaveLength(2);

    const rendered = await runTool(context(user.id, projectId), 'mixdown_project', { stems: true });
    expect(rendered).toMatchObject({ ok: true, result: { status: 'queued', stems: true } });
    expect(await db.selectFrom('mixdowns').select('status').execute()).toEqual([{ status: 'queued' }]);
  });
});
