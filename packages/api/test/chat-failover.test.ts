/**
 * Failover units: the circuit breaker's states on a test clock, the chain's order and its rules (hand on only
 * failures another provider may answer for, before any text), and the conversation in Gemini's shape.
 */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, createFailoverProvider } from '../src/services/chat/failover';
import { toGeminiContents } from '../src/services/chat/gemini';
import { type ChatProvider, type ProviderAnswer, ProviderError } from '../src/services/chat/provider';

const silent = { warn: () => undefined, info: () => undefined };
const request = { system: 's', messages: [], tools: [], maxTokens: 100 };

function scripted(
  provider: ChatProvider['provider'],
  model: string,
  script: (() => ProviderAnswer | Promise<ProviderAnswer>)[],
) {
  const calls: number[] = [];
  const p: ChatProvider = {
    provider,
    model,
    async stream(_req, { onText }) {
      calls.push(calls.length);
      const step = script.shift();
      if (!step) throw new Error(`${provider}: no scripted answer`);
      const answer = await step();
      if (answer.text) onText(answer.text);
      return answer;
    },
  };
  return { p, calls };
}

const ok = (text: string) => (): ProviderAnswer => ({
  text,
  toolCalls: [],
  stopReason: 'end_turn',
  usage: { inputTokens: 1, outputTokens: 1 },
});
const fail = (code: 'SERVICE_UNAVAILABLE' | 'TOO_MANY_REQUESTS' | 'BAD_REQUEST') => () => {
  throw new ProviderError(code, code);
};

describe('CircuitBreaker', () => {
  it('opens after the threshold, lets one trial through after the cooldown, and closes on its success', () => {
    let now = 0;
    const b = new CircuitBreaker(2, 1000, () => now);
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('closed');
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    now = 1000;
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    b.failure();
    expect(b.state).toBe('open');
    now = 2000;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
  });
});

describe('createFailoverProvider', () => {
  it('hands an unavailable or refusing provider on to the next and names who answered', async () => {
    const a = scripted('anthropic', 'claude-haiku-4-5', [fail('SERVICE_UNAVAILABLE'), fail('TOO_MANY_REQUESTS')]);
    const g = scripted('google', 'gemini-2.5-flash', [ok('from gemini'), fail('SERVICE_UNAVAILABLE')]);
    const o = scripted('local', 'dawg-offline-1', [ok('from offline')]);
    const chain = createFailoverProvider([a.p, g.p, o.p], { failures: 5, cooldownMs: 1000, log: silent });
    const signal = new AbortController().signal;
    const first = await chain.stream(request, { signal, onText: () => undefined });
    expect(first).toMatchObject({ text: 'from gemini', answeredBy: { provider: 'google', model: 'gemini-2.5-flash' } });
    const second = await chain.stream(request, { signal, onText: () => undefined });
    expect(second.answeredBy).toEqual({ provider: 'local', model: 'dawg-offline-1' });
    expect([a.calls.length, g.calls.length, o.calls.length]).toEqual([2, 2, 1]);
  });

  it('does not hand on a bad request, nor a failure after text was streamed', async () => {
    const a = scripted('anthropic', 'claude-haiku-4-5', [fail('BAD_REQUEST')]);
    const o = scripted('local', 'dawg-offline-1', [ok('never')]);
    const chain = createFailoverProvider([a.p, o.p], { failures: 5, cooldownMs: 1000, log: silent });
    const signal = new AbortController().signal;
    await expect(chain.stream(request, { signal, onText: () => undefined })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      failedBy: { provider: 'anthropic' },
    });

    const talker: ChatProvider = {
      provider: 'anthropic',
      model: 'claude-haiku-4-5',
      async stream(_req, { onText }) {
        onText('Half');
        throw new ProviderError('SERVICE_UNAVAILABLE', 'overloaded');
      },
    };
    const chain2 = createFailoverProvider([talker, o.p], { failures: 5, cooldownMs: 1000, log: silent });
    await expect(chain2.stream(request, { signal, onText: () => undefined })).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(o.calls.length).toBe(0);
  });

  it('keeps a turn with the provider that took it over', async () => {
    const a = scripted('anthropic', 'claude-haiku-4-5', [fail('SERVICE_UNAVAILABLE')]);
    const g = scripted('google', 'gemini-2.5-flash', [ok('step 1'), ok('step 2')]);
    const o = scripted('local', 'dawg-offline-1', []);
    const chain = createFailoverProvider([a.p, g.p, o.p], { failures: 5, cooldownMs: 1000, log: silent });
    const signal = new AbortController().signal;
    const first = await chain.stream(request, { signal, onText: () => undefined });
    const rest = chain.continueWith!(first.answeredBy!);
    expect(rest.provider).toBe('google');
    expect((await rest.stream(request, { signal, onText: () => undefined })).text).toBe('step 2');
    expect(a.calls.length).toBe(1);
  });
});

describe('toGeminiContents', () => {
  it('maps roles, tool calls and their results (named after the call)', () => {
    expect(
      toGeminiContents([
        { role: 'user', content: [{ type: 'text', text: 'list my tracks' }] },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Looking.' },
            { type: 'tool_use', id: 'call_1', name: 'list_tracks', input: { limit: 5 } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '{"tracks":[]}' },
            { type: 'tool_result', tool_use_id: 'call_2', content: 'not json', is_error: true },
          ],
        },
      ]),
    ).toEqual([
      { role: 'user', parts: [{ text: 'list my tracks' }] },
      {
        role: 'model',
        parts: [{ text: 'Looking.' }, { functionCall: { id: 'call_1', name: 'list_tracks', args: { limit: 5 } } }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { id: 'call_1', name: 'list_tracks', response: { tracks: [] } } },
          { functionResponse: { id: 'call_2', name: 'tool', response: { error: { result: 'not json' } } } },
        ],
      },
    ]);
  });
});
