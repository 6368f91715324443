/**
 * Chat provider failover on real Postgres and Redis, with the real `@anthropic-ai/sdk` against the local Anthropic
 * fake and the real `@google/genai` SDK against the local Gemini fake (streamGenerateContent, SSE):
 * - Anthropic answers 529 → the Gemini fake answers the turn; the ledger and the message name Google's model;
 * - both down (529 and 503) → the offline producer answers, billed at nothing under its own name;
 * - a failure after Anthropic already streamed text is not handed on (no answer is shown twice);
 * - the circuit breaker: after CHAT_BREAKER_FAILURES failures Anthropic is skipped without a request.
 */
import {
  createTestDatabase,
  createUser,
  defaultRedisUrl,
  flushPrefix,
  startFakeAnthropic,
  startFakeGemini,
  textReply,
  uniqueRedisPrefix,
  type FakeAnthropic,
  type FakeGemini,
  type TestDatabase,
} from '@dawg/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from './helpers/api';
import { subscribeTurn } from './helpers/chat';
import { httpClient, wsClient } from './helpers/generation';

const ANTHROPIC_MODEL = 'claude-haiku-4-5';
const GEMINI_MODEL = 'gemini-2.5-flash';
const OVERLOADED = { status: 529, type: 'overloaded_error', message: 'Overloaded' } as const;
const UNAVAILABLE = { status: 503, statusName: 'UNAVAILABLE', message: 'The model is overloaded.' } as const;

let database: TestDatabase;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let api: TestApi;
const prefix = uniqueRedisPrefix('chat-failover');
const perTest: (() => unknown)[] = [];

beforeAll(async () => {
  [database, anthropic, gemini] = await Promise.all([createTestDatabase(), startFakeAnthropic(), startFakeGemini()]);
  api = await startApi({
    database,
    prefix,
    label: 'chat-failover',
    overrides: {
      WHITELISTED_IPS: '127.0.0.1',
      MUSIC_PROVIDER: 'test',
      ANTHROPIC_API_KEY: anthropic.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_MODEL,
      ANTHROPIC_MAX_RETRIES: '0',
      GOOGLE_AI_API_KEY: gemini.apiKey,
      GOOGLE_AI_BASE_URL: gemini.url,
      GEMINI_MODEL,
      // The breaker is exercised last, on purpose: until then no number of failures opens it.
      CHAT_BREAKER_FAILURES: '6',
      CHAT_BREAKER_COOLDOWN_MS: '3600000',
    },
  });
});

afterEach(async () => {
  for (const cleanup of perTest.splice(0).reverse()) await cleanup();
  gemini.respondWith(null);
});

afterAll(async () => {
  await api?.close();
  await Promise.all([anthropic?.close(), gemini?.close()]);
  await flushPrefix(defaultRedisUrl(), prefix);
  await database?.drop();
});

async function turn(message: string) {
  const { user, token } = await createUser(database.db);
  const ws = wsClient(api.wsBase, token);
  perTest.push(() => ws.close());
  const sent = await httpClient(api.base, token).chat.send.mutate({ message });
  const sub = subscribeTurn(ws.client, { turnId: sent.turnId });
  await sub.done();
  expect(sub.errors).toEqual([]);
  const ledger = await database.db
    .selectFrom('usage_events')
    .selectAll()
    .where('conversation_id', '=', sent.conversationId)
    .execute();
  const messages = await database.db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', sent.conversationId)
    .where('role', '=', 'assistant')
    .execute();
  return { userId: user.id, sub, final: sub.final()!.data, ledger, messages };
}

describe('chat failover', () => {
  it('Anthropic answers 529: the Gemini fake answers, and the ledger names Google', async () => {
    const anthropicBefore = anthropic.requests.length;
    const geminiBefore = gemini.requests.length;
    anthropic.enqueue(OVERLOADED);
    gemini.enqueue({ text: ['Hello from ', 'Gemini.'], promptTokens: 1000, outputTokens: 200 });

    const { final, ledger, messages, sub } = await turn('hello there');

    expect(anthropic.requests.length - anthropicBefore).toBe(1);
    expect(gemini.requests.length - geminiBefore).toBe(1);
    const sent = gemini.requests.at(-1)!;
    expect(sent.model).toBe(GEMINI_MODEL);
    expect(sent.headers['x-goog-api-key']).toBe(gemini.apiKey);
    expect(sent.body.contents?.at(-1)).toMatchObject({ role: 'user', parts: [{ text: 'hello there' }] });
    expect(sent.body.tools?.[0]?.functionDeclarations?.length).toBeGreaterThan(0);

    expect(sub.text()).toBe('Hello from Gemini.');
    expect(final).toMatchObject({ type: 'message', status: 'succeeded', content: 'Hello from Gemini.' });
    const usage = sub.items.map((i) => i.data).find((e) => e.type === 'usage');
    expect(usage).toMatchObject({ provider: 'google', model: GEMINI_MODEL, inputTokens: 1000, outputTokens: 200 });
    expect(ledger).toEqual([
      expect.objectContaining({
        provider: 'google',
        model: GEMINI_MODEL,
        kind: 'chat',
        cost_micro: expect.any(Number),
      }),
    ]);
    // gemini-2.5-flash: $0.30 / M input, $2.50 / M output → 300 + 500 micro-dollars.
    expect(ledger[0]!.cost_micro).toBe(800);
    expect(messages).toEqual([expect.objectContaining({ provider: 'google', model: GEMINI_MODEL })]);
  });

  it('both down: the offline producer answers, at no cost, under its own name', async () => {
    anthropic.enqueue(OVERLOADED);
    gemini.enqueue(UNAVAILABLE);
    const { final, ledger, messages } = await turn('list my tracks');
    expect(final).toMatchObject({ type: 'message', status: 'succeeded' });
    expect(ledger.length).toBeGreaterThan(0);
    for (const row of ledger) expect(row).toMatchObject({ provider: 'local', cost_micro: 0 });
    expect(messages.length).toBeGreaterThan(0);
    for (const m of messages) expect(m).toMatchObject({ provider: 'local' });
  });

  it('is not handed on once Anthropic has streamed text: the turn ends with the error', async () => {
    const geminiBefore = gemini.requests.length;
    anthropic.enqueue({
      steps: [{ text: 'Half an answer' }, { error: { type: 'overloaded_error', message: 'Overloaded' } }],
    });
    const { final } = await turn('fail after some text');
    expect(final).toMatchObject({ type: 'error', code: 'SERVICE_UNAVAILABLE' });
    expect(gemini.requests.length).toBe(geminiBefore);
  });

  it('the circuit opens after repeated failures: Anthropic is then skipped without a request', async () => {
    // Failures so far: 3 (the tests above). Three more open the circuit.
    for (let i = 0; i < 3; i++) {
      anthropic.enqueue(OVERLOADED);
      gemini.enqueue({ text: [`Fallback ${i}.`] });
      expect((await turn(`overloaded ${i}`)).final).toMatchObject({ type: 'message', status: 'succeeded' });
    }
    const anthropicBefore = anthropic.requests.length;
    anthropic.enqueue(textReply('Anthropic would have answered.'));
    gemini.enqueue({ text: ['Gemini, with the circuit open.'] });
    const { final, ledger } = await turn('hello again');
    expect(anthropic.requests.length).toBe(anthropicBefore);
    expect(final).toMatchObject({ type: 'message', content: 'Gemini, with the circuit open.' });
    expect(ledger).toEqual([expect.objectContaining({ provider: 'google' })]);
    // Leave the fake as found for later tests of this file (none): the unused scripted reply is dropped.
    expect(anthropic.queued).toBe(1);
  });
});
