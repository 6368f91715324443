/**
 * The AI producer against a local Anthropic server speaking the Messages SSE protocol (the real SDK runs):
 * - a turn that calls generate_music creates a real generation; the transcript (user, assistant with the tool call,
 *   tool result, final answer), the turn's tokens and cost and the ledger rows are stored;
 * - a tool aimed at another user's project fails (NOT_FOUND for a stranger, FORBIDDEN for a viewer) and the model
 *   gets that as an is_error tool_result;
 * - provider errors (529, 429, an overloaded_error event mid-stream, a stalled stream) end the turn with an error
 *   event and a failed turn row, never a hung subscription;
 * - a turn over budget is refused with a clear message and nothing stored;
 * - chat.stop, memories (remembered, injected into the system prompt, listed, deleted), conversations, REST
 *   `POST /api/chat` and the `/ai-brain` WebSocket.
 */
import { costOf, type ChatEvent } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  startFakeAnthropic,
  textReply,
  type FakeAnthropic,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { insertProjectOf } from './helpers/studio';
import { bearer, rest, startApi, WEB_ORIGIN, type TestApi } from './helpers/api';
import { gate, subscribeTurn } from './helpers/chat';
import { codeOf, httpClient, wsClient } from './helpers/generation';

let database: TestDatabase;
let fake: FakeAnthropic;
let api: TestApi;
const perTest: (() => Promise<unknown> | void)[] = [];
const MODEL = 'claude-haiku-4-5';

beforeAll(async () => {
  [database, fake] = await Promise.all([createTestDatabase(), startFakeAnthropic()]);
  api = await startApi({
    database,
    label: 'chat',
    overrides: {
      WHITELISTED_IPS: '127.0.0.1',
      MUSIC_PROVIDER: 'test',
      ANTHROPIC_API_KEY: fake.apiKey,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_MODEL: MODEL,
      ANTHROPIC_MAX_RETRIES: '0',
      ANTHROPIC_TIMEOUT_MS: '1500',
      // Provider failures are asserted as the turn's end here; failover is covered in chat-failover.int.test.ts.
      CHAT_FAILOVER: 'false',
    },
  });
});

afterEach(async () => {
  for (const cleanup of perTest.splice(0).reverse()) await cleanup();
  expect(fake.queued, 'every scripted reply was used').toBe(0);
});

afterAll(async () => {
  await api?.close();
  await fake?.close();
  await database?.drop();
});

async function signedIn() {
  const { user, token } = await createUser(database.db);
  const ws = wsClient(api.wsBase, token);
  perTest.push(() => ws.close());
  return { user, token, http: httpClient(api.base, token), ws: ws.client };
}

/** Sends and follows the turn to its end. */
async function turn(
  who: Awaited<ReturnType<typeof signedIn>>,
  input: { message: string; conversationId?: string; projectId?: string },
) {
  const sent = await who.http.chat.send.mutate(input);
  const sub = subscribeTurn(who.ws, { turnId: sent.turnId });
  await sub.done();
  expect(sub.errors).toEqual([]);
  return { ...sent, sub, final: sub.final()!.data };
}

const types = (events: { data: ChatEvent }[]) => events.map((e) => e.data.type);

describe('a turn with tools', () => {
  it('calls generate_music: a real generation, the transcript, the tool call and result, tokens, cost and ledger', async () => {
    const who = await signedIn();
    const projectId = await insertProjectOf(database.db, who.user.id, 'Chat project');
    const before = fake.requests.length;
    fake.enqueue(
      {
        steps: [
          { text: ['Starting a ', 'lofi beat.'] },
          { ping: true },
          {
            toolUse: {
              id: 'toolu_gen_1',
              name: 'generate_music',
              input: { prompt: 'lofi beat', bpm: 90, duration: 10 },
            },
          },
        ],
        inputTokens: 1200,
        outputTokens: 80,
      },
      { steps: [{ text: ['It is on its way', ' (free here).'] }], inputTokens: 1500, outputTokens: 20 },
    );

    const { turnId, conversationId, sub, final } = await turn(who, { message: 'make a lofi beat at 90', projectId });

    expect(types(sub.items)).toEqual([
      'turn_started',
      'text_delta',
      'text_delta',
      'usage',
      'tool_call_started',
      'tool_call_finished',
      'text_delta',
      'text_delta',
      'usage',
      'message',
    ]);
    const finished = sub.items.find((i) => i.data.type === 'tool_call_finished')!.data as Extract<
      ChatEvent,
      { type: 'tool_call_finished' }
    >;
    expect(finished).toMatchObject({ name: 'generate_music', ok: true });
    const result = finished.result as { generationId: string; estimatedCost: string; estimatedCostMicro: number };
    expect(result.estimatedCost).toBe('$0.00');
    expect(result.estimatedCostMicro).toBe(0);

    // The generation is real: queued for this user and project, keyed by the tool call.
    const generation = await database.db
      .selectFrom('generations')
      .selectAll()
      .where('id', '=', result.generationId)
      .executeTakeFirstOrThrow();
    expect(generation).toMatchObject({
      owner_id: who.user.id,
      project_id: projectId,
      prompt: 'lofi beat',
      idempotency_key: 'chat:toolu_gen_1',
    });
    expect(generation.params).toMatchObject({ bpm: 90, durationSec: 10 });

    // The model got the tools as JSON Schema, then the tool result.
    const [first, second] = fake.requests.slice(before);
    expect(first!.body.model).toBe(MODEL);
    expect(first!.body.tools?.map((t) => t.name)).toContain('generate_music');
    expect(first!.body.tools?.find((t) => t.name === 'set_tempo')?.input_schema).toMatchObject({
      type: 'object',
      properties: { bpm: { type: 'number' } },
      required: ['bpm'],
    });
    const lastMessage = second!.body.messages!.at(-1)!;
    expect(lastMessage.role).toBe('user');
    expect(lastMessage.content).toEqual([expect.objectContaining({ type: 'tool_result', tool_use_id: 'toolu_gen_1' })]);
    expect(JSON.stringify(lastMessage.content)).toContain(result.generationId);

    // Transcript, turn and ledger.
    const costs = [
      costOf({ provider: 'anthropic', model: MODEL, units: { unit: 'tokens', inputTokens: 1200, outputTokens: 80 } }),
      costOf({ provider: 'anthropic', model: MODEL, units: { unit: 'tokens', inputTokens: 1500, outputTokens: 20 } }),
    ];
    expect(costs[0]).toBeGreaterThan(0);
    expect(final).toMatchObject({
      type: 'message',
      status: 'succeeded',
      content: 'Starting a lofi beat.\n\nIt is on its way (free here).',
      inputTokens: 2700,
      outputTokens: 100,
      costMicro: costs[0]! + costs[1]!,
    });
    const messages = await database.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute();
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(messages.every((m) => m.turn_id === turnId)).toBe(true);
    expect(messages[0]!.content).toBe('make a lofi beat at 90');
    expect(messages[1]).toMatchObject({
      content: 'Starting a lofi beat.',
      tool_calls: [
        { id: 'toolu_gen_1', name: 'generate_music', input: { prompt: 'lofi beat', bpm: 90, duration: 10 } },
      ],
      provider: 'anthropic',
      model: MODEL,
      input_tokens: 1200,
      output_tokens: 80,
      cost_micro: costs[0],
    });
    expect(messages[2]!.tool_results).toEqual([
      {
        toolCallId: 'toolu_gen_1',
        name: 'generate_music',
        ok: true,
        result: expect.objectContaining({ generationId: result.generationId }),
      },
    ]);
    expect(messages[3]).toMatchObject({ content: 'It is on its way (free here).', cost_micro: costs[1] });

    const turnRow = await database.db
      .selectFrom('chat_turns')
      .selectAll()
      .where('id', '=', turnId)
      .executeTakeFirstOrThrow();
    expect(turnRow).toMatchObject({
      status: 'succeeded',
      error: null,
      input_tokens: 2700,
      output_tokens: 100,
      cost_micro: costs[0]! + costs[1]!,
    });
    const ledger = await database.db
      .selectFrom('usage_events')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('idempotency_key')
      .execute();
    expect(ledger).toEqual([
      expect.objectContaining({
        user_id: who.user.id,
        provider: 'anthropic',
        model: MODEL,
        kind: 'chat',
        cost_micro: costs[0],
        units: { unit: 'tokens', inputTokens: 1200, outputTokens: 80 },
        idempotency_key: `chat:${turnId}:0`,
      }),
      expect.objectContaining({ cost_micro: costs[1], idempotency_key: `chat:${turnId}:1` }),
    ]);

    // The stored conversation reads back the same way.
    const detail = await who.http.chat.get.query({ id: conversationId });
    expect(detail.activeTurnId).toBeNull();
    expect(detail.turns).toEqual([
      expect.objectContaining({ id: turnId, status: 'succeeded', costMicro: costs[0]! + costs[1]! }),
    ]);
    expect(detail.conversation.projectId).toBe(projectId);
  });

  it("tells the model why a tool aimed at another user's project failed (NOT_FOUND for strangers, FORBIDDEN for viewers)", async () => {
    const who = await signedIn();
    const owner = await createUser(database.db);
    const strangers = await insertProjectOf(database.db, owner.user.id, 'Not yours');
    const shared = await insertProjectOf(database.db, owner.user.id, 'Shared read-only');
    await database.db
      .insertInto('project_members')
      .values({ project_id: shared, user_id: who.user.id, role: 'viewer', invited_by: owner.user.id })
      .execute();
    const before = fake.requests.length;
    fake.enqueue(
      {
        steps: [
          { toolUse: { id: 'toolu_x1', name: 'set_tempo', input: { bpm: 150, projectId: strangers } } },
          { toolUse: { id: 'toolu_x2', name: 'mute_lane', input: { lane: 'drums', projectId: shared } } },
        ],
      },
      textReply('I cannot change those projects.'),
    );

    const { sub } = await turn(who, { message: 'speed up their song' });

    const finished = sub.items
      .map((i) => i.data)
      .filter((e): e is Extract<ChatEvent, { type: 'tool_call_finished' }> => e.type === 'tool_call_finished');
    expect(finished.map((f) => [f.name, f.ok, f.error?.code])).toEqual([
      ['set_tempo', false, 'NOT_FOUND'],
      ['mute_lane', false, 'FORBIDDEN'],
    ]);
    const toolResults = fake.requests[before + 1]!.body.messages!.at(-1)!.content as {
      tool_use_id: string;
      is_error?: boolean;
      content: string;
    }[];
    expect(toolResults).toHaveLength(2);
    expect(toolResults.every((r) => r.is_error === true)).toBe(true);
    expect(JSON.parse(toolResults[0]!.content)).toEqual({ error: 'NOT_FOUND', message: 'Project not found' });
    expect(JSON.parse(toolResults[1]!.content)).toMatchObject({
      error: 'FORBIDDEN',
      message: expect.stringMatching(/viewer/i),
    });
    const projects = await database.db
      .selectFrom('projects')
      .select(['id', 'bpm', 'version'])
      .where('id', 'in', [strangers, shared])
      .execute();
    expect(projects.every((p) => p.version === 1)).toBe(true);
  });

  it('acts on the conversation project by lane name, under FEATURE flags and parameter checks', async () => {
    const who = await signedIn();
    const projectId = await insertProjectOf(database.db, who.user.id, 'Mixing');
    fake.enqueue(
      { steps: [{ toolUse: { name: 'add_lane', input: { name: 'Drums' } } }] },
      {
        steps: [
          { toolUse: { name: 'mute_lane', input: { lane: 'drums' } } },
          { toolUse: { name: 'set_lane_gain', input: { lane: 'Drums', gainDb: 99 } } },
        ],
      },
      textReply('Muted.'),
    );
    const { sub } = await turn(who, { message: 'add drums and mute them', projectId });
    const finished = sub.items.map((i) => i.data).filter((e) => e.type === 'tool_call_finished');
    expect(
      finished.map((f) => (f.type === 'tool_call_finished' ? [f.name, f.ok, f.error?.code ?? null] : null)),
    ).toEqual([
      ['add_lane', true, null],
      ['mute_lane', true, null],
      ['set_lane_gain', false, 'BAD_REQUEST'],
    ]);
    const lanes = await database.db.selectFrom('lanes').selectAll().where('project_id', '=', projectId).execute();
    expect(lanes).toEqual([expect.objectContaining({ name: 'Drums', mute: true, gain_db: 0 })]);
  });
});

describe('provider failures end the turn with an error event', () => {
  const cases = [
    {
      name: '529 overloaded',
      reply: { status: 529, type: 'overloaded_error', message: 'Overloaded' },
      code: 'SERVICE_UNAVAILABLE',
      words: /overloaded/i,
    },
    {
      name: '429 rate limit',
      reply: { status: 429, type: 'rate_limit_error', message: 'Slow down', retryAfter: 30 },
      code: 'TOO_MANY_REQUESTS',
      words: /rate limit/i,
    },
    {
      name: 'an overloaded_error event mid-stream',
      reply: {
        steps: [{ text: ['Half an ', 'answer'] }, { error: { type: 'overloaded_error', message: 'Overloaded' } }],
      },
      code: 'SERVICE_UNAVAILABLE',
      words: /overloaded/i,
    },
    {
      name: 'a stalled stream (timeout)',
      reply: { steps: [{ text: 'Thinking' }, { stall: true as const }] },
      code: 'TIMEOUT',
      words: /in time/i,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const who = await signedIn();
      fake.enqueue(c.reply);
      const { turnId, final } = await turn(who, { message: `please fail: ${c.name}` });
      expect(final).toMatchObject({ type: 'error', code: c.code, message: expect.stringMatching(c.words) });
      const row = await database.db
        .selectFrom('chat_turns')
        .selectAll()
        .where('id', '=', turnId)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('failed');
      expect(row.error).toMatch(c.words);
      expect(row.finished_at).not.toBeNull();
    });
  }

  it('bills what a call used before failing mid-stream', async () => {
    const who = await signedIn();
    fake.enqueue({ steps: [{ text: 'Partial' }, { error: { type: 'api_error', message: 'boom' } }], inputTokens: 500 });
    const { conversationId, final } = await turn(who, { message: 'fail after some text' });
    expect(final).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
    const ledger = await database.db
      .selectFrom('usage_events')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .execute();
    expect(ledger).toEqual([
      expect.objectContaining({ kind: 'chat', units: { unit: 'tokens', inputTokens: 500, outputTokens: 1 } }),
    ]);
  });
});

describe('budget', () => {
  it('refuses a turn over budget with a clear message, storing nothing', async () => {
    const who = await signedIn();
    await database.db
      .insertInto('budgets')
      .values({ user_id: who.user.id, monthly_limit_micro: 10, hard_limit: true })
      .execute();
    const error = await who.http.chat.send.mutate({ message: 'make a beat' }).catch((err: unknown) => err);
    expect(error).toMatchObject({
      data: { code: 'PAYMENT_REQUIRED' },
      message: expect.stringMatching(/Monthly AI budget exceeded: .* this chat message may cost \$/),
    });
    const conversations = await database.db
      .selectFrom('conversations')
      .select('id')
      .where('user_id', '=', who.user.id)
      .execute();
    expect(conversations).toEqual([]);
    const res = await rest(api.base, 'POST', '/api/chat', {
      body: { message: 'hi', conversationId: null },
      headers: bearer(who.token),
    });
    expect(res.status).toBe(402);
    expect(res.body.error).toMatch(/Monthly AI budget exceeded/);
    // The refusal is the 100 % mark: one in-app notice for the period, however many refusals.
    const notices = await database.db
      .selectFrom('notifications')
      .select(['kind', 'title'])
      .where('user_id', '=', who.user.id)
      .execute();
    expect(notices).toEqual([{ kind: 'budget_alert', title: 'Monthly AI budget reached' }]);
  });
});

describe('budget during a turn', () => {
  it('ends a turn whose next provider call would pass the budget, with what was spent recorded', async () => {
    const who = await signedIn();
    await database.db
      .insertInto('budgets')
      .values({ user_id: who.user.id, monthly_limit_micro: 500_000, hard_limit: true })
      .execute();
    // The first call is cheap to admit but reports 600k input tokens ($0.60 on this model): the next one is refused.
    fake.enqueue({ steps: [{ toolUse: { name: 'list_tracks', input: {} } }], inputTokens: 600_000, outputTokens: 10 });
    const { turnId, conversationId, final } = await turn(who, { message: 'list my tracks' });
    expect(final).toMatchObject({
      type: 'error',
      code: 'PAYMENT_REQUIRED',
      message: expect.stringMatching(/Monthly AI budget exceeded: .* the next step of this answer may cost/),
    });
    const ledger = await database.db
      .selectFrom('usage_events')
      .select(['cost_micro'])
      .where('conversation_id', '=', conversationId)
      .execute();
    expect(ledger).toEqual([{ cost_micro: 600_050 }]);
    const row = await database.db
      .selectFrom('chat_turns')
      .selectAll()
      .where('id', '=', turnId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', cost_micro: 600_050, error: expect.stringMatching(/budget/) });
  });
});

describe('stop, memories, conversations', () => {
  it('chat.stop ends a running turn with what was said so far', async () => {
    const who = await signedIn();
    const hold = gate();
    fake.enqueue({ steps: [{ text: 'So far ' }, { wait: hold.promise }, { text: 'and more' }] });
    const sent = await who.http.chat.send.mutate({ message: 'long answer please' });
    perTest.push(() => hold.open());
    const sub = subscribeTurn(who.ws, { turnId: sent.turnId });
    await sub.until((i) => i.data.type === 'text_delta', 'first delta');
    expect(await who.http.chat.stop.mutate({ turnId: sent.turnId })).toEqual({
      turnId: sent.turnId,
      status: 'running',
    });
    await sub.done();
    expect(sub.final()!.data).toMatchObject({ type: 'message', status: 'canceled', content: 'So far ' });
    const row = await database.db
      .selectFrom('chat_turns')
      .selectAll()
      .where('id', '=', sent.turnId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('canceled');
    expect(await who.http.chat.stop.mutate({ turnId: sent.turnId })).toEqual({
      turnId: sent.turnId,
      status: 'canceled',
    });
  });

  it('remembers on request, puts memories in the system prompt, lists and deletes them', async () => {
    const who = await signedIn();
    fake.enqueue(
      { steps: [{ toolUse: { name: 'remember_preference', input: { content: 'likes dusty drums', key: 'drums' } } }] },
      textReply('Noted.'),
    );
    const first = await turn(who, { message: 'remember I like dusty drums' });
    const memories = await who.http.chat.listMemories.query();
    expect(memories).toEqual([expect.objectContaining({ key: 'drums', content: 'likes dusty drums' })]);

    const before = fake.requests.length;
    fake.enqueue(textReply('Dusty drums it is.'));
    await turn(who, { message: 'what do I like?', conversationId: first.conversationId });
    expect(String(fake.requests[before]!.body.system)).toContain('drums: likes dusty drums');
    // The earlier exchange (tool call and result included) is in the history.
    expect(fake.requests[before]!.body.messages!.map((m) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);

    await who.http.chat.deleteMemory.mutate({ id: memories[0]!.id });
    expect(await who.http.chat.listMemories.query()).toEqual([]);
    expect(await codeOf(who.http.chat.deleteMemory.mutate({ id: memories[0]!.id }))).toBe('NOT_FOUND');
  });

  it('lists, renames and deletes conversations (owner only)', async () => {
    const who = await signedIn();
    fake.enqueue(textReply('Hi!'));
    const { conversationId } = await turn(who, { message: 'hello there' });
    expect((await who.http.chat.list.query({})).map((c) => c.id)).toEqual([conversationId]);
    expect(await who.http.chat.rename.mutate({ id: conversationId, title: 'Greetings' })).toMatchObject({
      title: 'Greetings',
    });
    const other = await signedIn();
    expect(await codeOf(other.http.chat.get.query({ id: conversationId }))).toBe('NOT_FOUND');
    expect(await codeOf(other.http.chat.send.mutate({ message: 'sneak', conversationId }))).toBe('NOT_FOUND');
    await who.http.chat.delete.mutate({ id: conversationId });
    expect(await who.http.chat.list.query({})).toEqual([]);
  });
});

describe('the seed contracts', () => {
  it('POST /api/chat answers { conversationId, message: { role: "assistant", content } }', async () => {
    const { token } = await createUser(database.db);
    fake.enqueue(textReply("I'd be happy to help you create a lofi hip hop beat!"));
    const res = await rest(api.base, 'POST', '/api/chat', {
      body: { message: 'Help me create a lofi hip hop beat', conversationId: null },
      headers: { ...bearer(token), origin: WEB_ORIGIN },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      conversationId: expect.any(String),
      message: { role: 'assistant', content: "I'd be happy to help you create a lofi hip hop beat!" },
    });
    const bad = await rest(api.base, 'POST', '/api/chat', { body: { message: '' }, headers: bearer(token) });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toEqual([expect.objectContaining({ path: ['message'] })]);
  });

  it('/ai-brain streams an answer to { message, conversationHistory } and refuses anonymous sockets', async () => {
    const { token } = await createUser(database.db);
    const before = fake.requests.length;
    fake.enqueue(textReply('Streaming answer here.', 4));
    const ws = new WebSocket(`${api.wsBase}/ai-brain`, {
      headers: { origin: WEB_ORIGIN, authorization: `Bearer ${token}` },
    });
    perTest.push(() => ws.close());
    const received: Record<string, unknown>[] = [];
    const done = new Promise<void>((resolve) =>
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString()) as Record<string, unknown>;
        received.push(msg);
        if (msg.type === 'done' || msg.type === 'error') resolve();
      }),
    );
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(
      JSON.stringify({
        message: 'Test message',
        conversationHistory: [
          { role: 'user', content: 'earlier' },
          { role: 'assistant', content: 'reply' },
        ],
      }),
    );
    await done;
    expect(received[0]).toMatchObject({ type: 'start', conversationId: expect.any(String) });
    const deltas = received.filter((m) => m.type === 'delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((d) => d.text).join('')).toBe('Streaming answer here.');
    expect(received.at(-1)).toMatchObject({
      type: 'done',
      message: { role: 'assistant', content: 'Streaming answer here.' },
    });
    expect(fake.requests[before]!.body.messages!.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);

    const anonymous = new WebSocket(`${api.wsBase}/ai-brain`, { headers: { origin: WEB_ORIGIN } });
    const [code, first] = await Promise.all([
      new Promise<number>((resolve) => anonymous.once('close', (c) => resolve(c))),
      new Promise<Record<string, unknown>>((resolve) =>
        anonymous.once('message', (raw) => resolve(JSON.parse(raw.toString()))),
      ),
    ]);
    expect(code).toBe(4401);
    expect(first).toMatchObject({ type: 'error', code: 'UNAUTHORIZED' });
  });
});
