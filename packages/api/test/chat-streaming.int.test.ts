/**
 * Streaming of AI producer turns across instances, disconnects and shutdown (two api instances on one database and
 * Redis prefix, a local Anthropic server whose answers are paced by the test):
 * - a turn started on api A is followed on api B, every delta in order, exactly once;
 * - a client that disconnects mid-answer and comes back with its last event id gets exactly the rest; the answer is
 *   stored while no client is connected;
 * - at shutdown, a running turn that finishes within the grace ends normally; one that does not ends with an error
 *   event and a failed row.
 */
import type { ChatEvent } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  startFakeAnthropic,
  startFaultProxy,
  uniqueRedisPrefix,
  waitFor,
  type FakeAnthropic,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { gate, subscribeTurn } from './helpers/chat';
import { httpClient, wsClient } from './helpers/generation';

let database: TestDatabase;
let fake: FakeAnthropic;
let apiA: TestApi;
let apiB: TestApi;
const prefix = uniqueRedisPrefix('chat-stream');
const perTest: (() => Promise<unknown> | void)[] = [];

function overrides(extra: Record<string, string> = {}) {
  return {
    WHITELISTED_IPS: '127.0.0.1',
    MUSIC_PROVIDER: 'test',
    ANTHROPIC_API_KEY: fake.apiKey,
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_MAX_RETRIES: '0',
    ...extra,
  };
}

beforeAll(async () => {
  [database, fake] = await Promise.all([createTestDatabase(), startFakeAnthropic()]);
  [apiA, apiB] = await Promise.all([
    startApi({ database, prefix, overrides: overrides() }),
    startApi({ database, prefix, overrides: overrides() }),
  ]);
});

afterEach(async () => {
  for (const cleanup of perTest.splice(0).reverse()) await cleanup();
});

afterAll(async () => {
  await Promise.all([apiA?.close(), apiB?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  await fake?.close();
  await database?.drop();
});

function client(api: TestApi, token: string) {
  const ws = wsClient(api.wsBase, token);
  perTest.push(() => ws.close());
  return ws;
}

const PIECES = ['One ', 'two ', 'three ', 'four ', 'five ', 'six ', 'seven ', 'eight'];

/** A reply sending PIECES one per gate: the test opens gates[i] to let piece i+1 go. */
function pacedReply() {
  const gates = PIECES.map(() => gate());
  perTest.push(() => gates.forEach((g) => g.open()));
  fake.enqueue({
    steps: PIECES.flatMap((piece, i) =>
      i === 0 ? [{ text: piece }] : [{ wait: gates[i - 1]!.promise }, { text: piece }],
    ),
  });
  return gates;
}

const deltaTexts = (events: { data: ChatEvent }[]) =>
  events.flatMap((e) => (e.data.type === 'text_delta' ? [e.data.text] : []));

describe('chat.onEvent', () => {
  it('follows a turn started on api A from api B: every delta, in order, once', async () => {
    const { token } = await createUser(database.db);
    const gates = pacedReply();
    const sent = await httpClient(apiA.base, token).chat.send.mutate({ message: 'count to eight' });
    const sub = subscribeTurn(client(apiB, token).client, { turnId: sent.turnId });
    await sub.until((i) => i.data.type === 'text_delta', 'first delta');
    for (const [i, g] of gates.entries()) {
      g.open();
      if (i < gates.length - 1)
        await sub.until((e) => e.data.type === 'text_delta' && e.data.text === PIECES[i + 1], `delta ${i + 2}`);
    }
    await sub.done();
    expect(sub.errors).toEqual([]);
    expect(deltaTexts(sub.items)).toEqual(PIECES);
    const ids = sub.items.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(sub.items[0]!.data).toEqual({
      type: 'turn_started',
      turnId: sent.turnId,
      conversationId: sent.conversationId,
    });
    expect(sub.final()!.data).toMatchObject({ type: 'message', status: 'succeeded', content: PIECES.join('') });
  });

  it('resumes after a disconnect from the last event id: nothing lost or repeated; stored with no client connected', async () => {
    const { token } = await createUser(database.db);
    const gates = pacedReply();
    const sent = await httpClient(apiA.base, token).chat.send.mutate({ message: 'count slowly' });

    const first = wsClient(apiB.wsBase, token);
    const sub = subscribeTurn(first.client, { turnId: sent.turnId });
    await sub.until((i) => i.data.type === 'text_delta', 'first delta');
    gates[0]!.open();
    gates[1]!.open();
    await sub.until((e) => e.data.type === 'text_delta' && e.data.text === PIECES[2], 'third delta');
    sub.unsubscribe();
    await first.close();
    const seen = [...sub.items];
    const lastId = seen.at(-1)!.id;

    // Nobody is listening: the rest of the answer is written and stored all the same.
    for (const g of gates.slice(2)) g.open();
    const row = await waitFor(
      async () => {
        const t = await database.db
          .selectFrom('chat_turns')
          .selectAll()
          .where('id', '=', sent.turnId)
          .executeTakeFirst();
        return t?.status === 'succeeded' ? t : undefined;
      },
      { description: 'turn finished with no client' },
    );
    expect(row.finished_at).not.toBeNull();
    const stored = await database.db
      .selectFrom('messages')
      .select(['role', 'content'])
      .where('turn_id', '=', sent.turnId)
      .orderBy('seq')
      .execute();
    expect(stored).toEqual([
      { role: 'user', content: 'count slowly' },
      { role: 'assistant', content: PIECES.join('') },
    ]);
    expect(seen.length).toBe(sub.items.length);

    // Back, on the other instance, from the last id seen.
    const resumed = subscribeTurn(client(apiA, token).client, { turnId: sent.turnId, lastEventId: lastId });
    await resumed.done();
    expect(resumed.errors).toEqual([]);
    const all = [...seen, ...resumed.items];
    expect(deltaTexts(all)).toEqual(PIECES);
    const ids = all.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(resumed.items.at(-1)!.data).toMatchObject({ type: 'message', content: PIECES.join('') });

    // A latecomer from the start gets the whole turn.
    const late = subscribeTurn(client(apiB, token).client, { turnId: sent.turnId });
    await late.done();
    expect(deltaTexts(late.items)).toEqual(PIECES);
  });

  it('resumes by itself when the connection is cut mid-answer (the client sends its last id)', async () => {
    const { token } = await createUser(database.db);
    const gates = pacedReply();
    const sent = await httpClient(apiA.base, token).chat.send.mutate({ message: 'count through a cut' });
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: Number(new URL(apiB.base).port) });
    perTest.push(() => proxy.close());
    const sub = subscribeTurn(client({ ...apiB, wsBase: proxy.url(apiB.wsBase) }, token).client, {
      turnId: sent.turnId,
    });
    gates[0]!.open();
    await sub.until((e) => e.data.type === 'text_delta' && e.data.text === PIECES[1], 'second delta');
    proxy.cut();
    const before = sub.items.length;
    for (const g of gates.slice(1)) g.open();
    await waitFor(
      async () =>
        (await database.db.selectFrom('chat_turns').select('status').where('id', '=', sent.turnId).executeTakeFirst())
          ?.status === 'succeeded',
      { description: 'turn finished while cut off' },
    );
    expect(sub.items.length).toBe(before);
    proxy.restore();
    await sub.done();
    expect(sub.errors).toEqual([]);
    expect(deltaTexts(sub.items)).toEqual(PIECES);
    const ids = sub.items.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('closes a turn whose api died (no heartbeat) for its follower, saying so', async () => {
    const { user, token } = await createUser(database.db);
    const conversation = await database.db
      .insertInto('conversations')
      .values({ user_id: user.id, title: 'lost' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const turn = await database.db
      .insertInto('chat_turns')
      .values({ conversation_id: conversation.id, user_id: user.id, updated_at: new Date(Date.now() - 60 * 60 * 1000) })
      .returning('id')
      .executeTakeFirstOrThrow();
    const sub = subscribeTurn(client(apiB, token).client, { turnId: turn.id });
    await sub.done();
    expect(sub.final()!.data).toMatchObject({ type: 'error', message: expect.stringMatching(/lost/) });
    const row = await database.db
      .selectFrom('chat_turns')
      .selectAll()
      .where('id', '=', turn.id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', error: expect.stringMatching(/lost/) });
    // The conversation takes new messages again.
    fake.enqueue({ steps: [{ text: 'Back.' }] });
    const next = await httpClient(apiA.base, token).chat.send.mutate({
      message: 'again',
      conversationId: conversation.id,
    });
    await subscribeTurn(client(apiA, token).client, { turnId: next.turnId }).done();
  });

  it("refuses another user's turn", async () => {
    const owner = await createUser(database.db);
    fake.enqueue({ steps: [{ text: 'mine' }] });
    const sent = await httpClient(apiA.base, owner.token).chat.send.mutate({ message: 'private' });
    const { token } = await createUser(database.db);
    const sub = subscribeTurn(client(apiB, token).client, { turnId: sent.turnId });
    await waitFor(() => sub.errors.length > 0, { description: 'error' });
    expect(sub.errors[0]).toMatchObject({ data: { code: 'NOT_FOUND' } });
    expect(sub.items).toEqual([]);
    const ownSub = subscribeTurn(client(apiB, owner.token).client, { turnId: sent.turnId });
    await ownSub.done();
  });
});

describe('shutdown', () => {
  it('lets a turn finish within the grace and ends a turn that cannot with an error event', async () => {
    const apiC = await startApi({ database, prefix, overrides: overrides({ SHUTDOWN_TIMEOUT_MS: '2500' }) });
    let closed = false;
    perTest.push(() => (closed ? undefined : apiC.close()));
    const { token } = await createUser(database.db);
    const http = httpClient(apiC.base, token);

    const release = gate();
    fake.enqueue({ steps: [{ text: 'Almost ' }, { wait: release.promise }, { text: 'done.' }] });
    const finishing = await http.chat.send.mutate({ message: 'finish me' });
    fake.enqueue({ steps: [{ text: 'This never ' }, { stall: true }] });
    const stuck = await http.chat.send.mutate({ message: 'I will hang' });

    const watchFinishing = subscribeTurn(client(apiB, token).client, { turnId: finishing.turnId });
    const watchStuck = subscribeTurn(client(apiB, token).client, { turnId: stuck.turnId });
    await watchFinishing.until((i) => i.data.type === 'text_delta', 'first turn streaming');
    await watchStuck.until((i) => i.data.type === 'text_delta', 'second turn streaming');

    const closing = apiC.close();
    release.open();
    await closing;
    closed = true;

    await Promise.all([watchFinishing.done(), watchStuck.done()]);
    expect(watchFinishing.final()!.data).toMatchObject({
      type: 'message',
      status: 'succeeded',
      content: 'Almost done.',
    });
    expect(watchStuck.final()!.data).toMatchObject({
      type: 'error',
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/restarted/),
    });
    const rows = await database.db
      .selectFrom('chat_turns')
      .select(['id', 'status', 'error'])
      .where('id', 'in', [finishing.turnId, stuck.turnId])
      .execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
      [finishing.turnId]: 'succeeded',
      [stuck.turnId]: 'failed',
    });
  });
});
