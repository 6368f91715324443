/**
 * The offline producer (no ANTHROPIC_API_KEY) through the real api: plain commands act on the conversation's project
 * through the same tools (tempo, lanes, mute), the answer is stored and costs $0 in the ledger; with
 * FEATURE_CHAT_TO_CREATE=false nothing is created and the answer says why.
 */
import { createTestDatabase, createUser, type TestDatabase } from '@dawg/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, rest, startApi, type TestApi } from './helpers/api';
import { insertProjectOf } from './helpers/studio';

let database: TestDatabase;
let api: TestApi;
let noCreate: TestApi;

beforeAll(async () => {
  database = await createTestDatabase();
  const overrides = { WHITELISTED_IPS: '127.0.0.1', MUSIC_PROVIDER: 'test' };
  [api, noCreate] = await Promise.all([
    startApi({ database, label: 'chat-offline', overrides }),
    startApi({ database, label: 'chat-offline-off', overrides: { ...overrides, FEATURE_CHAT_TO_CREATE: 'false' } }),
  ]);
});

afterAll(async () => {
  await Promise.all([api?.close(), noCreate?.close()]);
  await database?.drop();
});

async function chat(target: TestApi, token: string, body: Record<string, unknown>) {
  const res = await rest(target.base, 'POST', '/api/chat', { body, headers: bearer(token) });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { conversationId: string; message: { role: string; content: string }; costMicro: number };
}

describe('the offline producer', () => {
  it('sets the tempo, adds and mutes a lane in the conversation project, for $0', async () => {
    const { user, token } = await createUser(database.db);
    const projectId = await insertProjectOf(database.db, user.id, 'Offline');
    const first = await chat(api, token, { message: 'set tempo to 120', projectId });
    expect(first.message.content).toContain('Tempo set to **120 BPM**');
    const { conversationId } = first;
    expect((await chat(api, token, { message: 'add a lane called drums', conversationId })).message.content).toContain(
      'Added the lane **drums**',
    );
    const muted = await chat(api, token, { message: 'mute the drums', conversationId });
    expect(muted.message.content).toContain('Muted **drums**');
    expect(muted.costMicro).toBe(0);

    const project = await database.db
      .selectFrom('projects')
      .select('bpm')
      .where('id', '=', projectId)
      .executeTakeFirstOrThrow();
    expect(project.bpm).toBe(120);
    const lanes = await database.db
      .selectFrom('lanes')
      .select(['name', 'mute'])
      .where('project_id', '=', projectId)
      .execute();
    expect(lanes).toEqual([{ name: 'drums', mute: true }]);
    const ledger = await database.db
      .selectFrom('usage_events')
      .select(['provider', 'model', 'kind', 'cost_micro'])
      .where('conversation_id', '=', conversationId)
      .execute();
    expect(ledger.length).toBe(6);
    expect(ledger.every((r) => r.provider === 'local' && r.kind === 'chat' && r.cost_micro === 0)).toBe(true);
  });

  it('says a lane it cannot find, by name', async () => {
    const { user, token } = await createUser(database.db);
    const projectId = await insertProjectOf(database.db, user.id, 'Empty');
    const answer = await chat(api, token, { message: 'solo the bass', projectId });
    expect(answer.message.content).toMatch(/Could not solo lane: No lane called "bass"/);
  });

  it('creates nothing with FEATURE_CHAT_TO_CREATE=false, and says so', async () => {
    const { user, token } = await createUser(database.db);
    const projectId = await insertProjectOf(database.db, user.id, 'Flag off');
    const answer = await chat(noCreate, token, { message: 'make a 90 bpm lofi beat', projectId });
    expect(answer.message.content).toMatch(/Tempo set to \*\*90 BPM\*\*/);
    expect(answer.message.content).toContain(
      'Creating from chat is turned off on this server: I did not generate music.',
    );
    const generations = await database.db
      .selectFrom('generations')
      .select('id')
      .where('owner_id', '=', user.id)
      .execute();
    expect(generations).toEqual([]);
    const plain = await chat(noCreate, token, { message: 'add a lane called bass', projectId });
    expect(plain.message.content).toBe('Creating from chat is turned off on this server.');
  });
});
