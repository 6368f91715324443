/**
 * `chat.*`: the AI producer. send (stores the message, starts the turn on the server, returns ids), onEvent (the
 * turn's events with Redis Stream ids as resumable ids), stop, the conversations (list, get, rename, delete) and the
 * memories the producer keeps (listMemories, deleteMemory). Thin: each procedure calls services/chat.
 */
import {
  chatOnEventInputSchema,
  chatSendInputSchema,
  chatSendOutputSchema,
  chatStopOutputSchema,
  chatTurnInputSchema,
  conversationDetailSchema,
  conversationIdInputSchema,
  conversationSchema,
  deleteConversationOutputSchema,
  deleteMemoryOutputSchema,
  listConversationsInputSchema,
  listConversationsOutputSchema,
  listMemoriesOutputSchema,
  memoryIdInputSchema,
  renameConversationInputSchema,
} from '@dawg/shared';
import { chatTurnEvents } from '../services/chat/events';
import {
  type ChatDeps,
  deleteConversation,
  deleteMemory,
  getConversation,
  listConversations,
  listMemories,
  renameConversation,
  sendMessage,
  stopTurn,
} from '../services/chat/service';
import { protectedProcedure, router, type Context } from '../trpc';

export function chatDeps(ctx: Pick<Context, 'db' | 'redis' | 'streams' | 'env' | 'chat' | 'log'>): ChatDeps {
  return {
    db: ctx.db,
    redis: ctx.redis,
    streams: ctx.streams,
    prefix: ctx.env.REDIS_KEY_PREFIX,
    chat: ctx.chat,
    log: ctx.log,
    env: ctx.env,
  };
}

export const chatRouter = router({
  send: protectedProcedure
    .input(chatSendInputSchema)
    .output(chatSendOutputSchema)
    .mutation(({ ctx, input }) => sendMessage(chatDeps(ctx), ctx.user, input)),

  onEvent: protectedProcedure.input(chatOnEventInputSchema).subscription(async function* ({ ctx, input, signal }) {
    yield* chatTurnEvents(
      { db: ctx.db, streams: ctx.streams, prefix: ctx.env.REDIS_KEY_PREFIX },
      ctx.user.id,
      input,
      signal ?? new AbortController().signal,
    );
  }),

  stop: protectedProcedure
    .input(chatTurnInputSchema)
    .output(chatStopOutputSchema)
    .mutation(({ ctx, input }) => stopTurn(chatDeps(ctx), ctx.user.id, input.turnId)),

  list: protectedProcedure
    .input(listConversationsInputSchema)
    .output(listConversationsOutputSchema)
    .query(({ ctx, input }) => listConversations(ctx, ctx.user.id, input)),

  get: protectedProcedure
    .input(conversationIdInputSchema)
    .output(conversationDetailSchema)
    .query(({ ctx, input }) => getConversation(ctx, ctx.user.id, input.id)),

  rename: protectedProcedure
    .input(renameConversationInputSchema)
    .output(conversationSchema)
    .mutation(({ ctx, input }) => renameConversation(ctx, ctx.user.id, input.id, input.title)),

  delete: protectedProcedure
    .input(conversationIdInputSchema)
    .output(deleteConversationOutputSchema)
    .mutation(({ ctx, input }) => deleteConversation(ctx, ctx.user.id, input.id)),

  listMemories: protectedProcedure.output(listMemoriesOutputSchema).query(({ ctx }) => listMemories(ctx, ctx.user.id)),

  deleteMemory: protectedProcedure
    .input(memoryIdInputSchema)
    .output(deleteMemoryOutputSchema)
    .mutation(({ ctx, input }) => deleteMemory(ctx, ctx.user.id, input.id)),
});
