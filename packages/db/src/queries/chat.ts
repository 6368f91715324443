/**
 * The AI producer's rows: conversations, their messages, assistant turns (chat_turns) and the memories a user asked
 * to keep (ai_memories). Every read and write is scoped by the owning user; another user's id is "not found".
 */
import type { ChatTurnStatus, Provider } from '@dawg/shared';
import type { Kysely, Selectable, Transaction } from 'kysely';
import {
  json,
  type AiMemoriesTable,
  type ChatTurnsTable,
  type ConversationsTable,
  type Database,
  type MessagesTable,
} from '../schema';

type DbOrTx = Kysely<Database> | Transaction<Database>;

export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type ChatTurnRow = Selectable<ChatTurnsTable>;
export type MemoryRow = Selectable<AiMemoriesTable>;

// ---- Conversations ------------------------------------------------------------------------------------------------

export async function insertConversation(
  db: DbOrTx,
  c: { userId: string; projectId: string | null; title: string | null },
): Promise<ConversationRow> {
  return db
    .insertInto('conversations')
    .values({ user_id: c.userId, project_id: c.projectId, title: c.title })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findConversationOfUser(
  db: DbOrTx,
  userId: string,
  id: string,
): Promise<ConversationRow | undefined> {
  return db
    .selectFrom('conversations')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export async function listConversationsOfUser(
  db: DbOrTx,
  userId: string,
  opts: { projectId?: string | undefined; limit: number },
): Promise<ConversationRow[]> {
  let q = db.selectFrom('conversations').selectAll().where('user_id', '=', userId);
  if (opts.projectId) q = q.where('project_id', '=', opts.projectId);
  return q.orderBy('updated_at', 'desc').orderBy('id', 'desc').limit(opts.limit).execute();
}

export async function renameConversationOfUser(
  db: DbOrTx,
  userId: string,
  id: string,
  title: string,
): Promise<ConversationRow | undefined> {
  return db
    .updateTable('conversations')
    .set({ title })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteConversationOfUser(db: DbOrTx, userId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('conversations')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Moves the conversation to the top of its owner's list. */
export async function touchConversation(db: DbOrTx, id: string): Promise<void> {
  await db.updateTable('conversations').set({ updated_at: new Date() }).where('id', '=', id).execute();
}

// ---- Messages -----------------------------------------------------------------------------------------------------

export interface NewMessage {
  conversationId: string;
  turnId: string | null;
  role: MessageRow['role'];
  content: string;
  toolCalls?: unknown[] | null;
  toolResults?: unknown[] | null;
  provider?: Provider | null;
  model?: string | null;
  inputTokens?: number | null;
  outputTokens?: number | null;
  costMicro?: number | null;
}

export async function insertMessage(db: DbOrTx, m: NewMessage): Promise<MessageRow> {
  return db
    .insertInto('messages')
    .values({
      conversation_id: m.conversationId,
      turn_id: m.turnId,
      role: m.role,
      content: m.content,
      tool_calls: m.toolCalls ? json(m.toolCalls) : null,
      tool_results: m.toolResults ? json(m.toolResults) : null,
      provider: m.provider ?? null,
      model: m.model ?? null,
      input_tokens: m.inputTokens ?? null,
      output_tokens: m.outputTokens ?? null,
      cost_micro: m.costMicro ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The newest `limit` messages of a conversation, oldest first. */
export async function listMessages(db: DbOrTx, conversationId: string, limit: number): Promise<MessageRow[]> {
  const rows = await db
    .selectFrom('messages')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse();
}

// ---- Turns --------------------------------------------------------------------------------------------------------

/** A new running turn; undefined when the conversation already has one (the partial unique index refuses it). */
export async function insertRunningTurn(
  db: DbOrTx,
  t: { conversationId: string; userId: string },
): Promise<ChatTurnRow | undefined> {
  return db
    .insertInto('chat_turns')
    .values({ conversation_id: t.conversationId, user_id: t.userId })
    .onConflict((oc) => oc.column('conversation_id').where('status', '=', 'running').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export async function findRunningTurn(db: DbOrTx, conversationId: string): Promise<ChatTurnRow | undefined> {
  return db
    .selectFrom('chat_turns')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .where('status', '=', 'running')
    .executeTakeFirst();
}

export async function findTurnOfUser(db: DbOrTx, userId: string, turnId: string): Promise<ChatTurnRow | undefined> {
  return db
    .selectFrom('chat_turns')
    .selectAll()
    .where('id', '=', turnId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

export async function listTurns(db: DbOrTx, conversationId: string, limit: number): Promise<ChatTurnRow[]> {
  const rows = await db
    .selectFrom('chat_turns')
    .selectAll()
    .where('conversation_id', '=', conversationId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.reverse();
}

/** Adds one provider call's tokens and cost to the turn (and shows it alive). */
export async function addTurnUsage(
  db: DbOrTx,
  turnId: string,
  usage: { inputTokens: number; outputTokens: number; costMicro: number },
): Promise<void> {
  await db
    .updateTable('chat_turns')
    .set((eb) => ({
      input_tokens: eb('input_tokens', '+', usage.inputTokens),
      output_tokens: eb('output_tokens', '+', usage.outputTokens),
      cost_micro: eb('cost_micro', '+', usage.costMicro),
    }))
    .where('id', '=', turnId)
    .execute();
}

/** Shows a running turn alive (its process is still working on it). */
export async function touchTurn(db: DbOrTx, turnId: string): Promise<void> {
  await db
    .updateTable('chat_turns')
    .set({ updated_at: new Date() })
    .where('id', '=', turnId)
    .where('status', '=', 'running')
    .execute();
}

/** Ends a running turn once; false when it had already ended. */
export async function finishTurn(
  db: DbOrTx,
  turnId: string,
  outcome: { status: Exclude<ChatTurnStatus, 'running'>; error?: string | null },
): Promise<boolean> {
  const result = await db
    .updateTable('chat_turns')
    .set({ status: outcome.status, error: outcome.error ?? null, finished_at: new Date() })
    .where('id', '=', turnId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Running turns not heard of since `before` (their process died): failed, saying so. */
export async function failStaleTurns(db: DbOrTx, conversationId: string, before: Date, error: string): Promise<number> {
  const result = await db
    .updateTable('chat_turns')
    .set({ status: 'failed', error, finished_at: new Date() })
    .where('conversation_id', '=', conversationId)
    .where('status', '=', 'running')
    .where('updated_at', '<', before)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

// ---- Memories -----------------------------------------------------------------------------------------------------

/** A memory; with a key, it replaces the user's memory of the same key. */
export async function upsertMemory(
  db: DbOrTx,
  m: {
    userId: string;
    key: string | null;
    content: string;
    category?: string;
    projectId?: string | null;
    sourceConversationId?: string | null;
  },
): Promise<MemoryRow> {
  const values = {
    user_id: m.userId,
    key: m.key,
    content: m.content,
    category: m.category ?? 'preference',
    project_id: m.projectId ?? null,
    source_conversation_id: m.sourceConversationId ?? null,
  };
  if (m.key === null) return db.insertInto('ai_memories').values(values).returningAll().executeTakeFirstOrThrow();
  return db
    .insertInto('ai_memories')
    .values(values)
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'key'])
        .where('key', 'is not', null)
        .doUpdateSet({ content: values.content, category: values.category, project_id: values.project_id }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function listMemoriesOfUser(db: DbOrTx, userId: string, limit: number): Promise<MemoryRow[]> {
  return db
    .selectFrom('ai_memories')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('importance', 'desc')
    .orderBy('updated_at', 'desc')
    .limit(limit)
    .execute();
}

export async function deleteMemoryOfUser(db: DbOrTx, userId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('ai_memories')
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Forgets by key, or else every memory whose text contains `text` (case-insensitive); returns the removed rows. */
export async function deleteMemoriesMatching(
  db: DbOrTx,
  userId: string,
  match: { key?: string | undefined; text?: string | undefined },
): Promise<MemoryRow[]> {
  let q = db.deleteFrom('ai_memories').where('user_id', '=', userId);
  if (match.key) q = q.where('key', '=', match.key);
  else if (match.text) q = q.where('content', 'ilike', `%${match.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  else return [];
  return q.returningAll().execute();
}
