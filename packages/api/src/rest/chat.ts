/**
 * The seed's REST chat (post-deploy 1.3): `POST /api/chat` `{ message, conversationId: null }` → `{ conversationId,
 * message: { role: "assistant", content } }`. Non-streaming: the turn runs like any other (detached, on the server)
 * and the request waits for its final event. A turn that ends with an error answers with that error's status
 * (overload 503, provider rate limit 429, provider timeout 408, budget 402).
 */
import {
  AppError,
  type AppErrorCode,
  APP_ERROR_CODES,
  restChatRequestSchema,
  restChatResponseSchema,
} from '@dawg/shared';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../deps';
import { chatDeps } from '../routers/chat';
import { sendMessage, waitForTurn } from '../services/chat/service';
import { defineRestRoute } from './define';

/** A turn may wait for a generation it started; the seed's 30 s request timer is too short for that. */
const CHAT_REQUEST_TIMEOUT_MS = 5 * 60 * 1000;

export function registerChatRoutes(app: FastifyInstance, deps: AppDeps): void {
  defineRestRoute(
    app,
    {
      method: 'POST',
      url: '/api/chat',
      auth: 'user',
      body: restChatRequestSchema,
      response: restChatResponseSchema,
      summary: 'Ask the AI producer (non-streaming)',
      description:
        'Stores the message, runs the assistant turn (tools included) and answers with its final text. Stream the ' +
        'same turn with the tRPC subscription `chat.onEvent` or the `/ai-brain` WebSocket.',
      tags: ['chat'],
      config: { timeout: CHAT_REQUEST_TIMEOUT_MS },
      errors: {
        402: 'AI budget exhausted',
        404: 'No such conversation (or not yours)',
        409: 'A reply is still being written in this conversation',
        503: 'The AI provider is overloaded or unreachable',
      },
    },
    async ({ body, user, request, reply }) => {
      const ctx = chatDeps({ ...deps, log: request.log });
      const started = await sendMessage(ctx, user, body);
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      const final = await waitForTurn(ctx, user.id, started.turnId, gone.signal);
      if (final.type === 'error') {
        const code: AppErrorCode = final.code in APP_ERROR_CODES ? (final.code as AppErrorCode) : 'SERVICE_UNAVAILABLE';
        throw new AppError(code, final.message, {
          extra: { conversationId: started.conversationId, turnId: started.turnId },
        });
      }
      return {
        conversationId: started.conversationId,
        turnId: started.turnId,
        message: { role: 'assistant' as const, content: final.content },
        costMicro: final.costMicro,
      };
    },
  );
}
