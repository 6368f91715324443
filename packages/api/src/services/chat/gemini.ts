/**
 * The Google Gemini provider (`@google/genai`, `models.generateContentStream`): the chat's first fallback when
 * Anthropic is down, overloaded or refusing. The conversation is sent in Gemini's shape — roles `user` / `model`,
 * tool calls as `functionCall` parts, their results as `functionResponse` parts named after the call — and the tools
 * as function declarations with their JSON schemas. A stream that goes quiet for ANTHROPIC_TIMEOUT_MS (the chat's
 * idle limit) is aborted; HTTP refusals (429), unavailability (5xx) and every other failure become ProviderErrors.
 */
import { ApiError, type Content, GoogleGenAI, type Part } from '@google/genai';
import { type ApiEnv, hasPrice } from '@dawg/shared';
import {
  type ChatProvider,
  type ProviderAnswer,
  ProviderError,
  type ProviderMessage,
  type ProviderUsage,
} from './provider';

/** The Anthropic-shaped conversation in Gemini's shape. */
export function toGeminiContents(messages: readonly ProviderMessage[]): Content[] {
  const names = new Map<string, string>();
  const out: Content[] = [];
  for (const message of messages) {
    const parts: Part[] = [];
    for (const block of message.content) {
      if (block.type === 'text') {
        if (block.text) parts.push({ text: block.text });
      } else if (block.type === 'tool_use') {
        names.set(block.id, block.name);
        parts.push({
          functionCall: { id: block.id, name: block.name, args: (block.input ?? {}) as Record<string, unknown> },
        });
      } else {
        let response: Record<string, unknown>;
        try {
          const parsed: unknown = JSON.parse(block.content);
          response =
            parsed && typeof parsed === 'object' && !Array.isArray(parsed)
              ? (parsed as Record<string, unknown>)
              : { result: parsed };
        } catch {
          response = { result: block.content };
        }
        parts.push({
          functionResponse: {
            id: block.tool_use_id,
            name: names.get(block.tool_use_id) ?? 'tool',
            response: block.is_error ? { error: response } : response,
          },
        });
      }
    }
    if (parts.length > 0) out.push({ role: message.role === 'assistant' ? 'model' : 'user', parts });
  }
  return out;
}

export function createGeminiProvider(
  env: Pick<ApiEnv, 'GOOGLE_AI_API_KEY' | 'GOOGLE_AI_BASE_URL' | 'GEMINI_MODEL' | 'ANTHROPIC_TIMEOUT_MS'>,
): ChatProvider {
  if (!hasPrice('google', env.GEMINI_MODEL)) {
    throw new Error(`GEMINI_MODEL ${env.GEMINI_MODEL} has no price in the price table (@dawg/shared prices.ts)`);
  }
  const client = new GoogleGenAI({
    apiKey: env.GOOGLE_AI_API_KEY ?? '',
    ...(env.GOOGLE_AI_BASE_URL ? { httpOptions: { baseUrl: env.GOOGLE_AI_BASE_URL } } : {}),
  });
  const model = env.GEMINI_MODEL;
  let callSeq = 0;

  return {
    provider: 'google',
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
      let text = '';
      let stopReason: string | null = null;
      const toolCalls: ProviderAnswer['toolCalls'] = [];
      arm();
      try {
        const stream = await client.models.generateContentStream({
          model,
          contents: toGeminiContents(request.messages),
          config: {
            systemInstruction: request.system,
            maxOutputTokens: request.maxTokens,
            abortSignal: combined,
            ...(request.tools.length > 0
              ? {
                  tools: [
                    {
                      functionDeclarations: request.tools.map((t) => ({
                        name: t.name,
                        description: t.description,
                        parametersJsonSchema: t.parameters,
                      })),
                    },
                  ],
                }
              : {}),
          },
        });
        for await (const chunk of stream) {
          arm();
          const candidate = chunk.candidates?.[0];
          for (const part of candidate?.content?.parts ?? []) {
            if (part.thought) continue;
            if (part.text) {
              text += part.text;
              onText(part.text);
            }
            if (part.functionCall?.name) {
              toolCalls.push({
                id: part.functionCall.id ?? `gemini_call_${Date.now().toString(36)}_${++callSeq}`,
                name: part.functionCall.name,
                input: part.functionCall.args ?? {},
              });
            }
          }
          if (candidate?.finishReason) stopReason = candidate.finishReason;
          const meta = chunk.usageMetadata;
          if (meta) {
            usage = {
              inputTokens: meta.promptTokenCount ?? 0,
              outputTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
              cachedInputTokens: meta.cachedContentTokenCount ?? 0,
            };
          }
        }
      } catch (err) {
        if (signal.aborted) throw err;
        throw toProviderError(err, idle.signal.aborted, usage);
      } finally {
        clearTimeout(timer);
      }
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      if (idle.signal.aborted) throw toProviderError(null, true, usage);
      return {
        text,
        toolCalls,
        stopReason: toolCalls.length > 0 ? 'tool_use' : stopReason,
        usage: usage ?? { inputTokens: 0, outputTokens: 0 },
      };
    },
  };
}

function toProviderError(err: unknown, timedOut: boolean, usage: ProviderUsage | null): ProviderError {
  if (timedOut) {
    return new ProviderError('TIMEOUT', 'The AI provider did not answer in time; please try again', usage, {
      cause: err,
    });
  }
  if (err instanceof ApiError) {
    if (err.status === 429) {
      return new ProviderError(
        'TOO_MANY_REQUESTS',
        'The AI provider is refusing requests for the moment (rate limit); please try again in a minute',
        usage,
        { cause: err },
      );
    }
    return new ProviderError('SERVICE_UNAVAILABLE', `The AI provider answered ${err.status}; please try again`, usage, {
      cause: err,
    });
  }
  return new ProviderError('SERVICE_UNAVAILABLE', 'The AI provider could not be reached; please try again', usage, {
    cause: err,
  });
}
