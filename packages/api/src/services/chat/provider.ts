/**
 * What the turn runner asks of a chat model: one streamed call with the system prompt, the conversation (Anthropic's
 * message shape, which the offline provider reads too) and the tools; text arrives through `onText` as it is
 * produced; the answer is the full text, the tool calls and the tokens used. Failures are ProviderErrors whose
 * message is written for people (the turn's error event shows it as is).
 */
import type { AppErrorCode, Provider } from '@dawg/shared';
import type { ToolDefinition } from '../tools';

export type ContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean };

export interface ProviderMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface ProviderRequest {
  system: string;
  messages: ProviderMessage[];
  tools: ToolDefinition[];
  maxTokens: number;
}

export interface ProviderUsage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
}

export interface ProviderAnswer {
  text: string;
  toolCalls: { id: string; name: string; input: unknown }[];
  stopReason: string | null;
  usage: ProviderUsage;
  /** Who answered, when not the provider called (failover): the ledger and the message name it. */
  answeredBy?: ProviderIdentity;
}

export interface ProviderIdentity {
  provider: Provider;
  model: string;
}

export interface ChatProvider {
  provider: Provider;
  model: string;
  stream(request: ProviderRequest, opts: { signal: AbortSignal; onText(delta: string): void }): Promise<ProviderAnswer>;
  /**
   * The provider for the rest of a turn once `answeredBy` answered a step (failover: the turn stays with the provider
   * that took it over, so one plan is not continued by another model). Absent: the same provider.
   */
  continueWith?(answeredBy: ProviderIdentity): ChatProvider;
}

export class ProviderError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message: string,
    /** What the call used before it failed, when the provider said (it is billed). */
    readonly usage: ProviderUsage | null = null,
    opts: { cause?: unknown } = {},
  ) {
    super(message, opts);
    this.name = 'ProviderError';
  }

  /** Which provider failed, when not the provider called (failover): its usage is billed to it. */
  failedBy?: ProviderIdentity;
}

/** Rough token count of a request (≈ 3 characters a token: an upper bound for English and JSON). */
export function estimateInputTokens(request: Omit<ProviderRequest, 'maxTokens'>): number {
  return Math.ceil(JSON.stringify([request.system, request.messages, request.tools]).length / 3);
}
