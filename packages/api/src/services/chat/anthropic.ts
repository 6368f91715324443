/**
 * The Anthropic provider: `@anthropic-ai/sdk` Messages API, streaming with tool use. Text deltas are handed on as
 * they arrive; tool inputs are assembled from their `input_json_delta` fragments. A stream that goes quiet for
 * ANTHROPIC_TIMEOUT_MS is aborted (the SDK's own timeout covers the connection, not a stalled stream); refusals
 * (429), overload (529 or an `overloaded_error` event) and every other failure become ProviderErrors.
 */
import Anthropic from '@anthropic-ai/sdk';
import { type ApiEnv, hasPrice } from '@dawg/shared';
import { type ChatProvider, type ProviderAnswer, ProviderError, type ProviderUsage } from './provider';

export function createAnthropicProvider(
  env: Pick<
    ApiEnv,
    'ANTHROPIC_API_KEY' | 'ANTHROPIC_BASE_URL' | 'ANTHROPIC_MODEL' | 'ANTHROPIC_TIMEOUT_MS' | 'ANTHROPIC_MAX_RETRIES'
  >,
): ChatProvider {
  // Spending at an unknown rate is never silent: an unpriced model is refused at start.
  if (!hasPrice('anthropic', env.ANTHROPIC_MODEL)) {
    throw new Error(`ANTHROPIC_MODEL ${env.ANTHROPIC_MODEL} has no price in the price table (@dawg/shared prices.ts)`);
  }
  const client = new Anthropic({
    apiKey: env.ANTHROPIC_API_KEY ?? null,
    ...(env.ANTHROPIC_BASE_URL ? { baseURL: env.ANTHROPIC_BASE_URL } : {}),
    maxRetries: env.ANTHROPIC_MAX_RETRIES,
    timeout: env.ANTHROPIC_TIMEOUT_MS,
  });
  const model = env.ANTHROPIC_MODEL;

  return {
    provider: 'anthropic',
    model,
    async stream(request, { signal, onText }) {
      const idle = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), env.ANTHROPIC_TIMEOUT_MS);
      };
      const combined = AbortSignal.any([signal, idle.signal]);
      let usage: ProviderUsage | null = null;
      const blocks = new Map<
        number,
        { type: 'text' | 'tool_use'; id: string; name: string; text: string; json: string }
      >();
      let stopReason: string | null = null;
      arm();
      try {
        const stream = await client.messages.create(
          {
            model,
            max_tokens: request.maxTokens,
            system: request.system,
            messages: request.messages as Anthropic.MessageParam[],
            ...(request.tools.length > 0
              ? {
                  tools: request.tools.map((t) => ({
                    name: t.name,
                    description: t.description,
                    input_schema: t.parameters as Anthropic.Tool.InputSchema,
                  })),
                }
              : {}),
            stream: true,
          },
          { signal: combined },
        );
        for await (const event of stream) {
          arm();
          switch (event.type) {
            case 'message_start':
              usage = {
                inputTokens: event.message.usage.input_tokens,
                outputTokens: event.message.usage.output_tokens,
                cachedInputTokens: event.message.usage.cache_read_input_tokens ?? 0,
              };
              break;
            case 'content_block_start': {
              const b = event.content_block;
              if (b.type === 'text') {
                blocks.set(event.index, { type: 'text', id: '', name: '', text: b.text, json: '' });
                if (b.text) onText(b.text);
              } else if (b.type === 'tool_use') {
                blocks.set(event.index, { type: 'tool_use', id: b.id, name: b.name, text: '', json: '' });
              }
              break;
            }
            case 'content_block_delta': {
              const block = blocks.get(event.index);
              if (!block) break;
              if (event.delta.type === 'text_delta') {
                block.text += event.delta.text;
                onText(event.delta.text);
              } else if (event.delta.type === 'input_json_delta') {
                block.json += event.delta.partial_json;
              }
              break;
            }
            case 'message_delta':
              stopReason = event.delta.stop_reason ?? stopReason;
              if (usage) usage.outputTokens = event.usage.output_tokens;
              break;
            default:
              break;
          }
        }
      } catch (err) {
        if (signal.aborted) throw err;
        throw toProviderError(err, idle.signal.aborted, usage);
      } finally {
        clearTimeout(timer);
      }
      // The SDK's stream ends quietly (no error) when its signal fires.
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      if (idle.signal.aborted) throw toProviderError(null, true, usage);
      const ordered = [...blocks.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
      const answer: ProviderAnswer = {
        text: ordered
          .filter((b) => b.type === 'text')
          .map((b) => b.text)
          .join(''),
        toolCalls: [],
        stopReason,
        usage: usage ?? { inputTokens: 0, outputTokens: 0 },
      };
      for (const b of ordered) {
        if (b.type !== 'tool_use') continue;
        let input: unknown;
        try {
          input = b.json.trim() ? JSON.parse(b.json) : {};
        } catch {
          input = { _unparsed: b.json };
        }
        answer.toolCalls.push({ id: b.id, name: b.name, input });
      }
      return answer;
    },
  };
}

function toProviderError(err: unknown, timedOut: boolean, usage: ProviderUsage | null): ProviderError {
  if (timedOut || err instanceof Anthropic.APIConnectionTimeoutError) {
    return new ProviderError('TIMEOUT', 'The AI provider did not answer in time; please try again', usage, {
      cause: err,
    });
  }
  if (err instanceof Anthropic.APIError) {
    if (err.status === 529 || err.type === 'overloaded_error') {
      return new ProviderError(
        'SERVICE_UNAVAILABLE',
        'The AI provider is overloaded right now; please try again in a moment',
        usage,
        { cause: err },
      );
    }
    if (err.status === 429 || err.type === 'rate_limit_error') {
      return new ProviderError(
        'TOO_MANY_REQUESTS',
        'The AI provider is refusing requests for the moment (rate limit); please try again in a minute',
        usage,
        { cause: err },
      );
    }
    if (err instanceof Anthropic.APIConnectionError) {
      return new ProviderError('SERVICE_UNAVAILABLE', 'The AI provider could not be reached; please try again', usage, {
        cause: err,
      });
    }
    const what = err.status ? `answered ${err.status}` : `reported ${err.type ?? 'an error'}`;
    return new ProviderError('SERVICE_UNAVAILABLE', `The AI provider ${what}; please try again`, usage, { cause: err });
  }
  return new ProviderError('INTERNAL_SERVER_ERROR', 'The AI provider call failed unexpectedly', usage, { cause: err });
}
