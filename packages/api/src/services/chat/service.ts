/**
 * The AI producer's service: `sendMessage` (one transaction under the user's row lock: the budget check for the
 * turn's first provider call, the conversation, the running turn — one per conversation — and the user's message;
 * then the turn starts in this process), conversations (list, get, rename, delete), memories (list, delete), stop,
 * and `waitForTurn` for the non-streaming callers (REST, the `/ai-brain` socket reads the events itself).
 */
import {
  deleteConversationOfUser,
  deleteMemoryOfUser,
  failStaleTurns,
  findConversationOfUser,
  findRunningTurn,
  findTurnOfUser,
  finishTurn,
  insertConversation,
  insertMessage,
  insertRunningTurn,
  listConversationsOfUser,
  listMemoriesOfUser,
  listMessages,
  listTurns,
  lockUserForAdmission,
  renameConversationOfUser,
  requireProject,
  touchConversation,
  type ConversationRow,
  type Database,
  type MemoryRow,
  type MessageRow,
} from '@dawg/db';
import {
  AppError,
  type ApiEnv,
  CHAT_LIMITS,
  type ChatEvent,
  type ChatSendOutput,
  type ChatToolCall,
  type ChatToolResult,
  type Conversation,
  type ConversationDetail,
  type Memory,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { assertWithinBudget, noteBudgetRefusal } from '../budget';
import type { Caller } from '../generation';
import { getProject } from '../studio';
import type { StreamHub } from '../stream-hub';
import { availableTools } from '../tools';
import { ChatEventWriter, chatTurnEvents, chatTurnKey, LOST } from './events';
import type { ContentBlock, ProviderMessage } from './provider';
import { type ChatRunner, estimateCallCost } from './runner';
import { assertNotDemoAccount } from '../demo';

export interface ChatDeps {
  db: Kysely<Database>;
  redis: Redis;
  streams: StreamHub;
  prefix: string;
  chat: ChatRunner;
  log: FastifyBaseLogger;
  env: ApiEnv;
}

// ---- Views --------------------------------------------------------------------------------------------------------

export function toConversationView(row: ConversationRow): Conversation {
  return {
    id: row.id,
    title: row.title,
    projectId: row.project_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toMessageView(row: MessageRow) {
  return {
    id: row.id,
    turnId: row.turn_id,
    role: row.role,
    content: row.content,
    toolCalls: (row.tool_calls as ChatToolCall[] | null) ?? null,
    toolResults: (row.tool_results as ChatToolResult[] | null) ?? null,
    provider: row.provider,
    model: row.model,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    costMicro: row.cost_micro,
    createdAt: row.created_at.toISOString(),
  };
}

function toMemoryView(row: MemoryRow): Memory {
  return {
    id: row.id,
    key: row.key,
    content: row.content,
    category: row.category,
    projectId: row.project_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

// ---- The prompt ---------------------------------------------------------------------------------------------------

const PERSONA = `You are the AI producer of DAWG AI, a web music studio. You help musicians make music: you can start
AI generations of songs and beats, set the project's tempo and key, add lanes, place clips, and set lane volume,
pan, mute and solo, using the tools. Act when the user asks for something the tools can do; ask when a request is
ambiguous. Paid tools (generate_music) return their estimated cost: always tell the user the estimated cost of what
you started. When a tool fails, say why in one sentence. Keep answers short; use markdown lists for steps.
Remember something (remember_preference) only when the user asks you to or confirms it.`;

async function systemPrompt(deps: ChatDeps, caller: Caller, projectId: string | null): Promise<string> {
  const parts = [PERSONA.replace(/\n/g, ' ')];
  if (projectId) {
    try {
      const state = await getProject({ db: deps.db, log: deps.log }, caller.id, projectId);
      const lanes = state.lanes
        .map((l) => `"${l.name}" (id ${l.id}${l.mute ? ', muted' : ''}${l.solo ? ', solo' : ''}, ${l.gainDb} dB)`)
        .join('; ');
      parts.push(
        `Current project: "${state.project.name}" (id ${state.project.id}), ${state.project.bpm} BPM, ` +
          `key ${state.project.key ?? 'not set'}, ${state.project.timeSignature}. Lanes: ${lanes || 'none yet'}.`,
      );
    } catch {
      parts.push('The conversation belonged to a project that is no longer available.');
    }
  } else {
    parts.push('No project is open: tools that edit a project need its projectId.');
  }
  const memories = await listMemoriesOfUser(deps.db, caller.id, CHAT_LIMITS.MEMORIES_MAX);
  if (memories.length > 0) {
    parts.push(
      'What the user asked you to remember:\n' +
        memories.map((m) => `- ${m.key ? `${m.key}: ` : ''}${m.content}`).join('\n'),
    );
  }
  if (!deps.env.FEATURE_CHAT_TO_CREATE) {
    parts.push('Creating from chat is turned off on this server: you cannot start generations or add to projects.');
  }
  return parts.join('\n\n');
}

/**
 * The conversation as the provider reads it: tool calls followed by their results (a call left without one, by a
 * turn that was cut, gets an error result), same-role messages merged, starting with the user.
 */
export function toProviderMessages(rows: readonly MessageRow[]): ProviderMessage[] {
  const out: ProviderMessage[] = [];
  const push = (role: ProviderMessage['role'], content: ContentBlock[]) => {
    if (content.length === 0) return;
    const last = out.at(-1);
    if (last && last.role === role) last.content.push(...content);
    else out.push({ role, content: [...content] });
  };
  let open: ChatToolCall[] = [];
  const closeOpen = (answered: Set<string>) => {
    const missing = open.filter((c) => !answered.has(c.id));
    if (missing.length > 0) {
      push(
        'user',
        missing.map((c) => ({
          type: 'tool_result' as const,
          tool_use_id: c.id,
          content: JSON.stringify({ error: 'CANCELED', message: 'The answer was interrupted before this ran' }),
          is_error: true,
        })),
      );
    }
    open = [];
  };
  for (const row of rows) {
    if (row.role === 'tool') {
      const results = (row.tool_results as ChatToolResult[] | null) ?? [];
      const known = new Set(open.map((c) => c.id));
      const blocks = results
        .filter((r) => known.has(r.toolCallId))
        .map((r) => ({
          type: 'tool_result' as const,
          tool_use_id: r.toolCallId,
          content: JSON.stringify(r.ok ? (r.result ?? {}) : { error: r.error?.code, message: r.error?.message }),
          ...(r.ok ? {} : { is_error: true }),
        }));
      push('user', blocks);
      closeOpen(new Set(results.map((r) => r.toolCallId)));
      continue;
    }
    closeOpen(new Set());
    if (row.role === 'user') {
      push('user', row.content ? [{ type: 'text', text: row.content }] : []);
    } else if (row.role === 'assistant') {
      const calls = (row.tool_calls as ChatToolCall[] | null) ?? [];
      push('assistant', [
        ...(row.content ? [{ type: 'text' as const, text: row.content }] : []),
        ...calls.map((c) => ({ type: 'tool_use' as const, id: c.id, name: c.name, input: c.input ?? {} })),
      ]);
      open = calls;
    }
  }
  closeOpen(new Set());
  while (out.length > 0 && !(out[0]!.role === 'user' && out[0]!.content.some((b) => b.type === 'text'))) out.shift();
  // A dangling assistant message cannot end the conversation sent with a new user message.
  return out;
}

// ---- Sending ------------------------------------------------------------------------------------------------------

export interface SendInput {
  message: string;
  conversationId?: string | null | undefined;
  projectId?: string | undefined;
  /** Earlier messages to start a new conversation with (the `/ai-brain` socket's `conversationHistory`). */
  history?: { role: 'user' | 'assistant'; content: string }[] | undefined;
}

const BUSY = 'A reply is still being written in this conversation; wait for it or stop it first';

export async function sendMessage(deps: ChatDeps, caller: Caller, input: SendInput): Promise<ChatSendOutput> {
  if (!deps.chat.accepting) throw new AppError('SERVICE_UNAVAILABLE', 'The server is restarting; please send again');
  // Demo accounts never reach a paid provider: with one configured, the producer is not part of the demo.
  if (deps.env.ANTHROPIC_API_KEY || deps.env.GOOGLE_AI_API_KEY) {
    await assertNotDemoAccount(deps.db, caller.id, 'The AI producer');
  }
  let conversation = input.conversationId
    ? await findConversationOfUser(deps.db, caller.id, input.conversationId)
    : undefined;
  if (input.conversationId && !conversation) {
    throw new AppError('NOT_FOUND', 'Conversation not found', {
      details: [{ path: ['conversationId'], message: 'not found' }],
    });
  }
  const projectId = conversation ? conversation.project_id : (input.projectId ?? null);
  if (!conversation && projectId) await requireProject(deps.db, projectId, caller.id, 'read');

  const history = conversation ? await listMessages(deps.db, conversation.id, CHAT_LIMITS.HISTORY_MESSAGES) : [];
  const system = await systemPrompt(deps, caller, projectId);
  const imported = conversation ? [] : (input.history ?? []);
  const draft: ProviderMessage[] = [
    ...toProviderMessages(history),
    ...imported.map((m) => ({ role: m.role, content: [{ type: 'text' as const, text: m.content }] })),
    { role: 'user', content: [{ type: 'text', text: input.message }] },
  ];
  const estimate = estimateCallCost(deps.chat.provider, {
    system,
    messages: draft,
    tools: availableTools(deps.env),
  });

  const started = await deps.db
    .transaction()
    .execute(async (trx) => {
      const user = await lockUserForAdmission(trx, caller.id);
      if (!user || user.disabledAt) throw new AppError('FORBIDDEN', 'This account is disabled');
      if (estimate > 0) await assertWithinBudget(trx, caller.id, user.plan, estimate, 'this chat message');
      conversation ??= await insertConversation(trx, {
        userId: caller.id,
        projectId,
        title: input.message.replace(/\s+/g, ' ').slice(0, 60),
      });
      for (const m of imported) {
        await insertMessage(trx, { conversationId: conversation.id, turnId: null, role: m.role, content: m.content });
      }
      await failStaleTurns(trx, conversation.id, new Date(Date.now() - CHAT_LIMITS.STALE_TURN_MS), LOST);
      const turn = await insertRunningTurn(trx, { conversationId: conversation.id, userId: caller.id });
      if (!turn) throw new AppError('CONFLICT', BUSY);
      const userMessage = await insertMessage(trx, {
        conversationId: conversation.id,
        turnId: turn.id,
        role: 'user',
        content: input.message,
      });
      await touchConversation(trx, conversation.id);
      return { conversationId: conversation.id, turnId: turn.id, userMessageId: userMessage.id };
    })
    .catch(async (err: unknown) => {
      // A refusal for budget is the 100 % alert (written after the rollback, once per period).
      await noteBudgetRefusal(deps.db, caller.id, err, deps.log);
      throw err;
    });

  // Re-read with the stored message (and the imported history) in place, exactly as later turns will see it.
  const rows = await listMessages(deps.db, started.conversationId, CHAT_LIMITS.HISTORY_MESSAGES);
  try {
    deps.chat.start({
      turnId: started.turnId,
      conversationId: started.conversationId,
      projectId,
      caller,
      system,
      messages: toProviderMessages(rows),
    });
  } catch (err) {
    await finishTurn(deps.db, started.turnId, { status: 'failed', error: 'The server was restarting' });
    throw err;
  }
  return started;
}

/** Waits for the turn's final event (REST `POST /api/chat`); the turn goes on if the caller leaves. */
export async function waitForTurn(
  deps: ChatDeps,
  userId: string,
  turnId: string,
  signal: AbortSignal,
): Promise<Extract<ChatEvent, { type: 'message' | 'error' }>> {
  for await (const envelope of chatTurnEvents(
    { db: deps.db, streams: deps.streams, prefix: deps.prefix },
    userId,
    { turnId },
    signal,
  )) {
    const event = envelope[1];
    if (event.type === 'message' || event.type === 'error') return event;
  }
  throw new AppError('SERVICE_UNAVAILABLE', 'The answer did not finish');
}

export async function stopTurn(deps: ChatDeps, userId: string, turnId: string) {
  const turn = await findTurnOfUser(deps.db, userId, turnId);
  if (!turn) throw new AppError('NOT_FOUND', 'Turn not found');
  if (turn.status !== 'running') return { turnId, status: turn.status };
  if (turn.updated_at.getTime() < Date.now() - CHAT_LIMITS.STALE_TURN_MS) {
    await finishTurn(deps.db, turnId, { status: 'canceled' });
    return { turnId, status: 'canceled' as const };
  }
  // The api running the turn reads its stream and stops it; the turn's final event says how it ended.
  await new ChatEventWriter(deps.redis, chatTurnKey(deps.prefix, turnId)).append({ type: 'stop_requested' });
  return { turnId, status: 'running' as const };
}

// ---- Conversations ------------------------------------------------------------------------------------------------

export async function listConversations(
  deps: Pick<ChatDeps, 'db'>,
  userId: string,
  input: { projectId?: string | undefined; limit?: number | undefined },
): Promise<Conversation[]> {
  const rows = await listConversationsOfUser(deps.db, userId, {
    projectId: input.projectId,
    limit: input.limit ?? CHAT_LIMITS.CONVERSATIONS_LIST_DEFAULT,
  });
  return rows.map(toConversationView);
}

async function ownConversation(deps: Pick<ChatDeps, 'db'>, userId: string, id: string): Promise<ConversationRow> {
  const row = await findConversationOfUser(deps.db, userId, id);
  if (!row) throw new AppError('NOT_FOUND', 'Conversation not found');
  return row;
}

export async function getConversation(
  deps: Pick<ChatDeps, 'db'>,
  userId: string,
  id: string,
): Promise<ConversationDetail> {
  const conversation = await ownConversation(deps, userId, id);
  const [messages, turns, running] = await Promise.all([
    listMessages(deps.db, id, CHAT_LIMITS.MESSAGES_MAX),
    listTurns(deps.db, id, CHAT_LIMITS.MESSAGES_MAX),
    findRunningTurn(deps.db, id),
  ]);
  return {
    conversation: toConversationView(conversation),
    messages: messages.map(toMessageView),
    turns: turns.map((t) => ({
      id: t.id,
      status: t.status,
      error: t.error,
      inputTokens: t.input_tokens,
      outputTokens: t.output_tokens,
      costMicro: t.cost_micro,
      createdAt: t.created_at.toISOString(),
      finishedAt: t.finished_at?.toISOString() ?? null,
    })),
    activeTurnId: running?.id ?? null,
  };
}

export async function renameConversation(
  deps: Pick<ChatDeps, 'db'>,
  userId: string,
  id: string,
  title: string,
): Promise<Conversation> {
  const row = await renameConversationOfUser(deps.db, userId, id, title);
  if (!row) throw new AppError('NOT_FOUND', 'Conversation not found');
  return toConversationView(row);
}

export async function deleteConversation(deps: Pick<ChatDeps, 'db'>, userId: string, id: string) {
  const conversation = await ownConversation(deps, userId, id);
  if (await findRunningTurn(deps.db, conversation.id)) throw new AppError('CONFLICT', BUSY);
  await deleteConversationOfUser(deps.db, userId, id);
  return { id };
}

// ---- Memories -----------------------------------------------------------------------------------------------------

export async function listMemories(deps: Pick<ChatDeps, 'db'>, userId: string): Promise<Memory[]> {
  return (await listMemoriesOfUser(deps.db, userId, CHAT_LIMITS.MEMORIES_MAX)).map(toMemoryView);
}

export async function deleteMemory(deps: Pick<ChatDeps, 'db'>, userId: string, id: string) {
  if (!(await deleteMemoryOfUser(deps.db, userId, id))) throw new AppError('NOT_FOUND', 'Memory not found');
  return { id };
}
