/**
 * The AI producer's requests, answers and live events: conversations (list, get, rename, delete), `chat.send`
 * (stores the user's message and starts the assistant turn on the server), `chat.onEvent` (the turn's events with
 * Redis Stream ids as resumable ids), `chat.stop`, memories, and the seed's REST `POST /api/chat` and `/ai-brain`
 * WebSocket messages. Pure schemas, safe in the browser.
 */
import { z } from 'zod';
import { LIMITS } from './constants';
import { providerSchema } from './prices';

export const CHAT_LIMITS = {
  CONVERSATION_TITLE_MAX_CHARS: 120,
  CONVERSATIONS_LIST_MAX: 100,
  CONVERSATIONS_LIST_DEFAULT: 30,
  /** Messages of a conversation returned by `chat.get` (the newest). */
  MESSAGES_MAX: 500,
  /** History sent to the model: the newest messages of the conversation. */
  HISTORY_MESSAGES: 40,
  /** Prior messages a `/ai-brain` client may send along (`conversationHistory`). */
  IMPORTED_HISTORY_MAX: 50,
  /** Provider calls in one turn (each tool round is one call). */
  STEPS_PER_TURN: 8,
  /** Output tokens one provider call may produce (the budget estimate assumes all of them). */
  MAX_OUTPUT_TOKENS: 1024,
  MEMORIES_MAX: 100,
  MEMORY_KEY_MAX_CHARS: 64,
  /** A running turn shows it is alive this often (its row's updated_at)... */
  TURN_HEARTBEAT_MS: 30 * 1000,
  /** ...and one with no sign of life for this long is taken as lost (its api process died) and closed as failed. */
  STALE_TURN_MS: 3 * 60 * 1000,
  /** Redis Stream of one turn: approximate length cap and how long it stays after the final event. */
  EVENTS_MAXLEN: 10_000,
  EVENTS_DONE_TTL_SEC: 60 * 60,
  EVENTS_TTL_SEC: 24 * 60 * 60,
} as const;

/** The field of a turn's stream entry holding the JSON event. */
export const CHAT_EVENT_FIELD = 'e';

export const CHAT_TURN_STATUSES = ['running', 'succeeded', 'failed', 'canceled'] as const;
export const chatTurnStatusSchema = z.enum(CHAT_TURN_STATUSES);
export type ChatTurnStatus = z.infer<typeof chatTurnStatusSchema>;

export const chatMessageTextSchema = z.string().trim().min(1).max(LIMITS.CHAT_MESSAGE_MAX_CHARS);
export const conversationTitleSchema = z.string().trim().min(1).max(CHAT_LIMITS.CONVERSATION_TITLE_MAX_CHARS);

// ---- Tool calls as stored and shown -------------------------------------------------------------------------------

export const chatToolCallSchema = z.object({
  id: z.string(),
  name: z.string(),
  input: z.unknown(),
});
export type ChatToolCall = z.infer<typeof chatToolCallSchema>;

export const chatToolErrorSchema = z.object({ code: z.string(), message: z.string() });

export const chatToolResultSchema = z.object({
  toolCallId: z.string(),
  name: z.string(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: chatToolErrorSchema.optional(),
});
export type ChatToolResult = z.infer<typeof chatToolResultSchema>;

// ---- Events of a turn (chat.onEvent, the /ai-brain socket) ---------------------------------------------------------

export const chatEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('turn_started'), turnId: z.uuid(), conversationId: z.uuid() }),
  z.object({ type: z.literal('text_delta'), text: z.string() }),
  z.object({ type: z.literal('tool_call_started'), toolCallId: z.string(), name: z.string(), input: z.unknown() }),
  z.object({
    type: z.literal('tool_call_finished'),
    toolCallId: z.string(),
    name: z.string(),
    ok: z.boolean(),
    result: z.unknown().optional(),
    error: chatToolErrorSchema.optional(),
  }),
  /** One provider call's tokens and cost (a turn makes one per tool round). */
  z.object({
    type: z.literal('usage'),
    provider: providerSchema,
    model: z.string(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costMicro: z.number().int(),
  }),
  /** Asked by `chat.stop` (read by the api running the turn; clients may ignore it). */
  z.object({ type: z.literal('stop_requested') }),
  /** Final: the answer as stored (also after a stop, with what was said so far). */
  z.object({
    type: z.literal('message'),
    messageId: z.uuid().nullable(),
    content: z.string(),
    status: z.enum(['succeeded', 'canceled']),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    costMicro: z.number().int(),
  }),
  /** Final: the turn ended without an answer; `message` says why in words a person can act on. */
  z.object({ type: z.literal('error'), code: z.string(), message: z.string(), costMicro: z.number().int() }),
]);
export type ChatEvent = z.infer<typeof chatEventSchema>;

export function isFinalChatEvent(event: ChatEvent): boolean {
  return event.type === 'message' || event.type === 'error';
}

// ---- Views --------------------------------------------------------------------------------------------------------

export const conversationSchema = z.object({
  id: z.uuid(),
  title: z.string().nullable(),
  projectId: z.uuid().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Conversation = z.infer<typeof conversationSchema>;

export const chatMessageSchema = z.object({
  id: z.uuid(),
  turnId: z.uuid().nullable(),
  role: z.enum(['user', 'assistant', 'system', 'tool']),
  content: z.string(),
  toolCalls: z.array(chatToolCallSchema).nullable(),
  toolResults: z.array(chatToolResultSchema).nullable(),
  provider: z.string().nullable(),
  model: z.string().nullable(),
  inputTokens: z.number().int().nullable(),
  outputTokens: z.number().int().nullable(),
  costMicro: z.number().int().nullable(),
  createdAt: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const chatTurnSchema = z.object({
  id: z.uuid(),
  status: chatTurnStatusSchema,
  error: z.string().nullable(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costMicro: z.number().int(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type ChatTurn = z.infer<typeof chatTurnSchema>;

export const conversationDetailSchema = z.object({
  conversation: conversationSchema,
  messages: z.array(chatMessageSchema),
  turns: z.array(chatTurnSchema),
  /** The turn still running, if any (subscribe to it with chat.onEvent). */
  activeTurnId: z.uuid().nullable(),
});
export type ConversationDetail = z.infer<typeof conversationDetailSchema>;

// ---- Procedures ---------------------------------------------------------------------------------------------------

export const chatSendInputSchema = z.object({
  /** null or absent: a new conversation. */
  conversationId: z.uuid().nullable().optional(),
  /** The project a new conversation belongs to (its tools act on it by default). */
  projectId: z.uuid().optional(),
  message: chatMessageTextSchema,
});
export type ChatSendInput = z.infer<typeof chatSendInputSchema>;

export const chatSendOutputSchema = z.object({
  conversationId: z.uuid(),
  turnId: z.uuid(),
  userMessageId: z.uuid(),
});
export type ChatSendOutput = z.infer<typeof chatSendOutputSchema>;

export const chatOnEventInputSchema = z.object({
  turnId: z.uuid(),
  /** The last stream id seen (tRPC sends it by itself on reconnect). */
  lastEventId: z.string().max(64).optional(),
});

export const chatTurnInputSchema = z.object({ turnId: z.uuid() });
export const chatStopOutputSchema = z.object({ turnId: z.uuid(), status: chatTurnStatusSchema });

export const conversationIdInputSchema = z.object({ id: z.uuid() });

export const listConversationsInputSchema = z.object({
  projectId: z.uuid().optional(),
  limit: z.number().int().min(1).max(CHAT_LIMITS.CONVERSATIONS_LIST_MAX).optional(),
});
export const listConversationsOutputSchema = z.array(conversationSchema);

export const renameConversationInputSchema = z.object({ id: z.uuid(), title: conversationTitleSchema });
export const deleteConversationOutputSchema = z.object({ id: z.uuid() });

// ---- Memories -----------------------------------------------------------------------------------------------------

export const memoryContentSchema = z.string().trim().min(1).max(LIMITS.AI_MEMORY_MAX_CHARS);
export const memoryKeySchema = z
  .string()
  .trim()
  .min(1)
  .max(CHAT_LIMITS.MEMORY_KEY_MAX_CHARS)
  .regex(/^[\w .:-]+$/, 'letters, digits, spaces and _ . : - only');

export const memorySchema = z.object({
  id: z.uuid(),
  key: z.string().nullable(),
  content: z.string(),
  category: z.string(),
  projectId: z.uuid().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Memory = z.infer<typeof memorySchema>;

export const listMemoriesOutputSchema = z.array(memorySchema);
export const memoryIdInputSchema = z.object({ id: z.uuid() });
export const deleteMemoryOutputSchema = z.object({ id: z.uuid() });

// ---- The seed's REST and WebSocket shapes -------------------------------------------------------------------------

/** Seed post-deploy 1.3: `{ message, conversationId: null }`. */
export const restChatRequestSchema = z.object({
  message: chatMessageTextSchema,
  conversationId: z.uuid().nullable().optional(),
  projectId: z.uuid().optional(),
});
export const restChatResponseSchema = z.object({
  conversationId: z.uuid(),
  turnId: z.uuid(),
  message: z.object({ role: z.literal('assistant'), content: z.string() }),
  costMicro: z.number().int(),
});

const importedMessageSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string().trim().min(1).max(LIMITS.CHAT_MESSAGE_MAX_CHARS),
});

/** Seed post-deploy 3.2: `{ message, conversationHistory: [] }` on `/ai-brain`. */
export const aiBrainRequestSchema = z.object({
  message: chatMessageTextSchema,
  conversationHistory: z.array(importedMessageSchema).max(CHAT_LIMITS.IMPORTED_HISTORY_MAX).optional(),
  conversationId: z.uuid().nullable().optional(),
  projectId: z.uuid().optional(),
});
export type AiBrainRequest = z.infer<typeof aiBrainRequestSchema>;
