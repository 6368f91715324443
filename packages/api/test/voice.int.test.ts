/**
 * The realtime voice relay at `/voice` against the local Realtime server (TLS, GA events, its CA handed to the
 * `openai` SDK's client through OPENAI_REALTIME_CA_FILE):
 * - a spoken request whose answer calls set_tempo changes the project's tempo; the transcript and the tool call are
 *   stored in a conversation; the ledger has the realtime usage priced by the price table; audio flows both ways;
 * - foreign origins, anonymous sockets and a user over the session limit are refused;
 * - the upstream dying mid-session gives the browser a fatal error event and a clean close, and leaves no upstream
 *   connection open; so does a budget that runs out;
 * - without OPENAI_API_KEY `voice-connect` is answered with a clear "needs a key" error; `/api/voice/health`.
 */
import { costOf, VOICE_CLOSE_CODES } from '@dawg/shared';
import {
  createTestDatabase,
  createUser,
  pcm16Tone,
  startFakeOpenAIRealtime,
  waitFor,
  type FakeOpenAIRealtime,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { rest, startApi, WEB_ORIGIN, type TestApi } from './helpers/api';
import { insertProjectOf } from './helpers/studio';

let database: TestDatabase;
let fake: FakeOpenAIRealtime;
let api: TestApi;
const perTest: (() => unknown)[] = [];
const MODEL = 'gpt-realtime';

beforeAll(async () => {
  [database, fake] = await Promise.all([createTestDatabase(), startFakeOpenAIRealtime()]);
  api = await startApi({
    database,
    label: 'voice',
    overrides: {
      WHITELISTED_IPS: '127.0.0.1',
      MUSIC_PROVIDER: 'test',
      OPENAI_API_KEY: fake.apiKey,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_REALTIME_CA_FILE: fake.caFile,
      OPENAI_REALTIME_MODEL: MODEL,
      VOICE_MAX_SESSIONS_PER_USER: '1',
    },
  });
});

afterEach(async () => {
  for (const f of perTest.splice(0)) await f();
  fake.script({});
});

afterAll(async () => {
  await api?.close();
  await fake?.close();
  await database?.drop();
});

interface VoiceEvent {
  type: string;
  [key: string]: unknown;
}

function connect(headers: Record<string, string>, base = api.wsBase) {
  const ws = new WebSocket(`${base}/voice`, { headers });
  perTest.push(() => ws.terminate());
  const events: VoiceEvent[] = [];
  const audio: Buffer[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.on('message', (raw, isBinary) => {
    if (isBinary) audio.push(raw as Buffer);
    else events.push(JSON.parse(raw.toString()) as VoiceEvent);
  });
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
  ws.on('error', () => undefined);
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return {
    ws,
    events,
    audio,
    opened,
    closed: () => closed,
    send: (msg: Record<string, unknown>) => ws.send(JSON.stringify(msg)),
    until: (match: (e: VoiceEvent) => boolean, description: string) =>
      waitFor(() => events.find(match), { timeoutMs: 15_000, description }),
    whenClosed: () => waitFor(() => closed, { timeoutMs: 15_000, description: 'voice socket closed' }),
  };
}

async function session(token: string, extra: Record<string, unknown> = {}) {
  const c = connect({ origin: WEB_ORIGIN, authorization: `Bearer ${token}` });
  await c.opened;
  c.send({ type: 'voice-connect', voice: 'alloy', ...extra });
  const ack = await c.until((e) => e.type === 'voice-connected' || e.type === 'error', 'voice-connect answered');
  return { ...c, ack };
}

describe('/voice relay', () => {
  it('a spoken set_tempo request changes the tempo, stores the transcript and bills the usage', async () => {
    const { user, token } = await createUser(database.db);
    const projectId = await insertProjectOf(database.db, user.id);
    const usage = { textInputTokens: 900, audioInputTokens: 150, textOutputTokens: 20, audioOutputTokens: 0 };
    fake.script({
      onCommit: (s) => s.transcribeInput('Set the tempo to 128 please'),
      onResponse: (s, _event, n) =>
        n === 1
          ? s.callFunction('set_tempo', { bpm: 128 }, { usage, callId: 'call_tempo' })
          : s.speak('Tempo is now 128.', { audioBytes: 9600, usage: { audioOutputTokens: 80 } }),
    });
    const openedBefore = fake.opened();
    const c = await session(token, { projectId });
    expect(c.ack).toMatchObject({
      type: 'voice-connected',
      voice: 'alloy',
      mode: 'push-to-talk',
      model: MODEL,
      sampleRate: 24_000,
      conversationId: expect.any(String),
    });
    expect(fake.opened()).toBe(openedBefore + 1);
    const upstream = fake.sessions.at(-1)!;
    const configured = upstream.config as {
      audio: { output: { voice: string }; input: { format: unknown } };
      tools: { name: string }[];
    };
    expect(configured.audio.output.voice).toBe('alloy');
    expect(configured.audio.input.format).toEqual({ type: 'audio/pcm', rate: 24_000 });
    expect(configured.tools.map((t) => t.name)).toContain('set_tempo');

    // One second of microphone audio in 100 ms frames, then push-to-talk is released.
    const mic = pcm16Tone(48_000, 220);
    for (let i = 0; i < mic.length; i += 4800) c.ws.send(mic.subarray(i, i + 4800));
    c.send({ type: 'commit' });

    await c.until((e) => e.type === 'tool_result', 'tool result');
    await c.until((e) => e.type === 'transcript' && e.role === 'assistant' && e.final === true, 'spoken answer');
    await waitFor(() => c.audio.reduce((n, b) => n + b.length, 0) >= 9600, { description: 'reply audio relayed' });

    expect(upstream.audio).toEqual(mic);
    expect(upstream.appendCount).toBe(10);
    expect(c.events.find((e) => e.type === 'tool_result')).toMatchObject({
      name: 'set_tempo',
      ok: true,
      result: { bpm: 128, projectId },
    });
    expect(upstream.functionOutputs).toEqual([{ call_id: 'call_tempo', output: expect.stringContaining('"bpm":128') }]);
    const reply = Buffer.concat(c.audio);
    expect(reply.length).toBe(9600);
    expect(reply.equals(pcm16Tone(9600))).toBe(true);

    const project = await database.db
      .selectFrom('projects')
      .select('bpm')
      .where('id', '=', projectId)
      .executeTakeFirstOrThrow();
    expect(Number(project.bpm)).toBe(128);

    const conversationId = c.ack.conversationId as string;
    await waitFor(
      async () =>
        (
          await database.db
            .selectFrom('usage_events')
            .select('id')
            .where('conversation_id', '=', conversationId)
            .execute()
        ).length >= 3,
      { description: 'usage recorded' },
    );
    const messages = await database.db
      .selectFrom('messages')
      .select(['role', 'content', 'tool_calls', 'tool_results'])
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute();
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(messages[0]!.content).toBe('Set the tempo to 128 please');
    expect(messages[1]!.tool_calls).toEqual([{ id: 'call_tempo', name: 'set_tempo', input: { bpm: 128 } }]);
    expect(messages[3]!.content).toBe('Tempo is now 128.');

    const ledger = await database.db
      .selectFrom('usage_events')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('created_at')
      .execute();
    const voice = ledger.filter((r) => r.kind === 'voice');
    expect(voice).toHaveLength(2);
    expect(voice.every((r) => r.user_id === user.id && r.provider === 'openai' && r.model === MODEL)).toBe(true);
    const first = voice.find((r) => (r.units as { textInputTokens: number }).textInputTokens === 900)!;
    expect(first.units).toMatchObject({
      unit: 'realtime',
      textInputTokens: 900,
      audioInputTokens: 150,
      textOutputTokens: 20,
    });
    expect(Number(first.cost_micro)).toBe(costOf({ provider: 'openai', model: MODEL, units: first.units as never }));
    expect(Number(first.cost_micro)).toBeGreaterThan(0);
    const transcription = ledger.find((r) => r.kind === 'transcription')!;
    expect(transcription.units).toEqual({ unit: 'seconds', seconds: 1 });
    expect(c.events.filter((e) => e.type === 'usage').at(-1)).toMatchObject({
      totalCostMicro: ledger.reduce((n, r) => n + Number(r.cost_micro), 0),
    });

    c.ws.close();
    await waitFor(() => upstream.closed, { description: 'upstream closed after the browser left' });
  });

  it('refuses a foreign origin, an anonymous socket and a user over the session limit', async () => {
    const { token } = await createUser(database.db);
    const foreign = connect({ origin: 'https://evil.example', authorization: `Bearer ${token}` });
    await expect(foreign.opened).rejects.toThrow('HTTP 403');

    const anonymous = connect({ origin: WEB_ORIGIN });
    await anonymous.opened;
    anonymous.send({ type: 'voice-connect', voice: 'alloy' });
    expect(await anonymous.whenClosed()).toMatchObject({ code: VOICE_CLOSE_CODES.UNAUTHORIZED });
    expect(anonymous.events).toEqual([expect.objectContaining({ type: 'error', code: 'UNAUTHORIZED', fatal: true })]);

    // A malformed message is answered with the field at fault and the socket stays usable.
    const typo = connect({ origin: WEB_ORIGIN, authorization: `Bearer ${(await createUser(database.db)).token}` });
    await typo.opened;
    typo.send({ type: 'voice-connect', voice: 'robot' });
    expect(await typo.until((e) => e.type === 'error', 'bad input answered')).toMatchObject({
      code: 'BAD_REQUEST',
      fatal: false,
      error: expect.stringContaining('voice'),
    });
    typo.send({ type: 'ping' });
    await typo.until((e) => e.type === 'pong', 'pong');

    const openedBefore = fake.opened();
    const first = await session(token);
    expect(first.ack.type).toBe('voice-connected');
    const second = connect({ origin: WEB_ORIGIN, authorization: `Bearer ${token}` });
    await second.opened;
    second.send({ type: 'voice-connect', voice: 'alloy' });
    expect(await second.whenClosed()).toMatchObject({ code: VOICE_CLOSE_CODES.TOO_MANY_SESSIONS });
    expect(second.events[0]).toMatchObject({ type: 'error', code: 'TOO_MANY_REQUESTS', fatal: true });
    expect(fake.opened()).toBe(openedBefore + 1);

    // The slot is free again once the first session ends.
    first.ws.close();
    await first.whenClosed();
    // (The server sees the close a moment after the client may: a refused attempt is tried again.)
    const third = await waitFor(
      async () => {
        const attempt = await session(token);
        return attempt.ack.type === 'voice-connected' ? attempt : undefined;
      },
      { timeoutMs: 10_000, description: 'a session after the first one closed' },
    );
    expect(third.ack.type).toBe('voice-connected');
  });

  it('an upstream disconnect mid-session ends with an error event, a clean close and no upstream socket left', async () => {
    const { token } = await createUser(database.db);
    const c = await session(token);
    expect(c.ack.type).toBe('voice-connected');
    const upstream = fake.sessions.at(-1)!;
    expect(fake.open()).toBeGreaterThan(0);
    c.ws.send(pcm16Tone(4800));
    await waitFor(() => upstream.appendCount === 1, { description: 'audio reached the upstream' });

    upstream.drop();
    const closed = await c.whenClosed();
    expect(closed).toEqual({ code: VOICE_CLOSE_CODES.UPSTREAM_FAILED, reason: 'SERVICE_UNAVAILABLE' });
    expect(c.events.at(-1)).toMatchObject({
      type: 'error',
      code: 'SERVICE_UNAVAILABLE',
      fatal: true,
      error: expect.stringContaining('disconnected'),
    });
    await waitFor(() => fake.open() === 0, { description: 'no upstream connection open' });
    const conversationId = c.ack.conversationId as string;
    await waitFor(
      async () =>
        (
          await database.db
            .selectFrom('messages')
            .select('content')
            .where('conversation_id', '=', conversationId)
            .where('role', '=', 'system')
            .execute()
        ).length === 1,
      { description: 'the end is stored' },
    );
  });

  it('an api shutting down closes its voice sessions and their upstream connections', async () => {
    const { token } = await createUser(database.db);
    const other = await startApi({
      database,
      label: 'voice-shutdown',
      overrides: {
        WHITELISTED_IPS: '127.0.0.1',
        OPENAI_API_KEY: fake.apiKey,
        // The endpoint given explicitly instead of derived from OPENAI_BASE_URL.
        OPENAI_REALTIME_URL: fake.url,
        OPENAI_REALTIME_CA_FILE: fake.caFile,
      },
    });
    const c = connect({ origin: WEB_ORIGIN, authorization: `Bearer ${token}` }, other.wsBase);
    await c.opened;
    c.send({ type: 'voice-connect', voice: 'alloy' });
    await c.until((e) => e.type === 'voice-connected', 'voice connected');
    const upstream = fake.sessions.at(-1)!;
    await other.close();
    expect((await c.whenClosed()).code).toBe(1001);
    await waitFor(() => upstream.closed, { description: 'upstream closed on shutdown' });
  });

  it('a refused upstream ends the session with an error and leaks nothing', async () => {
    const { token } = await createUser(database.db);
    fake.refuse(503);
    perTest.push(() => fake.refuse(null));
    const c = await session(token);
    expect(c.ack).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE', fatal: true });
    expect((await c.whenClosed()).code).toBe(VOICE_CLOSE_CODES.UPSTREAM_FAILED);
    await waitFor(() => fake.open() === 0, { description: 'no upstream connection open' });
  });

  it('a budget that runs out mid-session ends it with PAYMENT_REQUIRED and closes the upstream', async () => {
    const { user, token } = await createUser(database.db);
    const estimate = costOf({
      provider: 'openai',
      model: MODEL,
      units: {
        unit: 'realtime',
        textInputTokens: 4_000,
        textOutputTokens: 500,
        audioInputTokens: 500,
        audioOutputTokens: 1_000,
      },
    });
    await database.db
      .insertInto('budgets')
      .values({ user_id: user.id, monthly_limit_micro: estimate + 10 })
      .execute();
    fake.script({
      onCommit: (s) => s.transcribeInput('talk for a long time'),
      onResponse: (s) => s.speak('A long answer.', { usage: { audioOutputTokens: 5_000 } }),
    });
    const c = await session(token, { mode: 'hands-free' });
    expect(c.ack.type).toBe('voice-connected');
    expect(
      (fake.sessions.at(-1)!.config as { audio: { input: { turn_detection: unknown } } }).audio.input.turn_detection,
    ).toMatchObject({ type: 'server_vad' });
    c.send({ type: 'commit' });
    expect((await c.whenClosed()).code).toBe(VOICE_CLOSE_CODES.PAYMENT_REQUIRED);
    expect(c.events.at(-1)).toMatchObject({ type: 'error', code: 'PAYMENT_REQUIRED', fatal: true });
    await waitFor(() => fake.open() === 0, { description: 'no upstream connection open' });
    const spent = await database.db
      .selectFrom('usage_events')
      .select('cost_micro')
      .where('user_id', '=', user.id)
      .where('kind', '=', 'voice')
      .execute();
    expect(spent).toHaveLength(1);
  });

  it('answers voice-connect with "needs a key" without OPENAI_API_KEY, and reports health', async () => {
    const { token } = await createUser(database.db);
    const bare = await startApi({ database, label: 'voice-bare', overrides: { WHITELISTED_IPS: '127.0.0.1' } });
    perTest.push(() => bare.close());
    const c = connect({ origin: WEB_ORIGIN, authorization: `Bearer ${token}` }, bare.wsBase);
    await c.opened;
    c.send({ type: 'voice-connect', voice: 'alloy' });
    expect((await c.whenClosed()).code).toBe(VOICE_CLOSE_CODES.NOT_CONFIGURED);
    expect(c.events[0]).toMatchObject({
      type: 'error',
      code: 'SERVICE_UNAVAILABLE',
      error: expect.stringContaining('OPENAI_API_KEY'),
    });

    // An unpriced realtime model never spends: every session is refused, saying why.
    const unpriced = await startApi({
      database,
      label: 'voice-unpriced',
      overrides: {
        WHITELISTED_IPS: '127.0.0.1',
        OPENAI_API_KEY: fake.apiKey,
        OPENAI_BASE_URL: fake.baseURL,
        OPENAI_REALTIME_CA_FILE: fake.caFile,
        OPENAI_REALTIME_MODEL: 'gpt-unpriced-voice',
      },
    });
    perTest.push(() => unpriced.close());
    const openedBefore = fake.opened();
    const u = connect({ origin: WEB_ORIGIN, authorization: `Bearer ${token}` }, unpriced.wsBase);
    await u.opened;
    u.send({ type: 'voice-connect', voice: 'alloy' });
    expect((await u.whenClosed()).code).toBe(VOICE_CLOSE_CODES.NOT_CONFIGURED);
    expect(u.events[0]).toMatchObject({ type: 'error', error: expect.stringContaining('gpt-unpriced-voice') });
    expect(fake.opened()).toBe(openedBefore);

    expect((await rest(bare.base, 'GET', '/api/voice/health')).body).toMatchObject({
      status: 'healthy',
      service: 'realtime-voice',
      openai_configured: false,
    });
    const health = await rest(api.base, 'GET', '/api/voice/health');
    expect(health.body).toMatchObject({ status: 'healthy', service: 'realtime-voice', openai_configured: true });
    expect(health.body.functions_cached).toBeGreaterThan(5);
  });
});
