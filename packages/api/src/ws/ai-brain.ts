/**
 * The seed's AI Brain WebSocket at `/ai-brain` (post-deploy 3.2): the client sends `{ message, conversationHistory }`
 * (optionally `conversationId`, `projectId`) and receives the answer as it is written:
 *
 *   { type: "start", conversationId, turnId } → { type: "delta", text }… (and tool_call / tool_result)
 *   → { type: "done", conversationId, turnId, message: { role: "assistant", content }, costMicro }
 *   or { type: "error", error, code }.
 *
 * Authenticated like the other sockets (session cookie, `Authorization: Bearer`, or `x-api-key` on the upgrade);
 * an anonymous socket gets an error and is closed with 4401. The turn runs on the server like any other: a socket
 * that closes mid-answer loses nothing (the conversation has it). One turn at a time per socket.
 */
import { aiBrainRequestSchema, type ChatEvent } from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { type WebSocket, WebSocketServer } from 'ws';
import { resolveRequestAuth, unauthorizedMessage } from '../auth/context-user';
import type { AppDeps } from '../deps';
import { chatDeps } from '../routers/chat';
import { chatTurnEvents } from '../services/chat/events';
import { sendMessage } from '../services/chat/service';
import { isAppError } from '@dawg/shared';
import { HEARTBEAT_MS } from './main-socket';
import { WS_MAX_PAYLOAD_BYTES } from './upgrade';

function wire(event: ChatEvent, ids: { conversationId: string; turnId: string }): Record<string, unknown> | null {
  switch (event.type) {
    case 'text_delta':
      return { type: 'delta', text: event.text };
    case 'tool_call_started':
      return { type: 'tool_call', toolCallId: event.toolCallId, name: event.name, input: event.input };
    case 'tool_call_finished':
      return {
        type: 'tool_result',
        toolCallId: event.toolCallId,
        name: event.name,
        ok: event.ok,
        ...(event.ok ? { result: event.result } : { error: event.error }),
      };
    case 'message':
      return {
        type: 'done',
        ...ids,
        status: event.status,
        message: { role: 'assistant', content: event.content },
        costMicro: event.costMicro,
      };
    case 'error':
      return { type: 'error', ...ids, code: event.code, error: event.message };
    default:
      return null;
  }
}

export function createAiBrainSocketServer(deps: AppDeps, log: FastifyBaseLogger): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES });
  const alive = new WeakMap<WebSocket, boolean>();

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', (err) => log.debug({ err }, 'ai-brain socket error'));
    const closed = new AbortController();
    ws.once('close', () => closed.abort());
    const send = (payload: Record<string, unknown>) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(payload));
    };
    const authenticated = resolveRequestAuth(deps.db, req.headers).then((auth) => {
      if (!auth.user) {
        send({ type: 'error', code: 'UNAUTHORIZED', error: unauthorizedMessage(auth) });
        ws.close(4401, 'Unauthorized');
        return null;
      }
      deps.revocations.register(ws, auth);
      return auth.user;
    });
    let busy = false;

    ws.on('message', (data, isBinary) => {
      void (async () => {
        const user = await authenticated.catch(() => null);
        if (!user) return;
        let body: unknown;
        try {
          body = isBinary ? undefined : JSON.parse(data.toString());
        } catch {
          body = undefined;
        }
        if ((body as { type?: unknown } | undefined)?.type === 'ping') return send({ type: 'pong' });
        const parsed = aiBrainRequestSchema.safeParse(body);
        if (!parsed.success) {
          return send({
            type: 'error',
            code: 'BAD_REQUEST',
            error: 'Validation failed',
            details: parsed.error.issues.map((i) => ({ path: i.path, message: i.message })),
          });
        }
        if (busy) return send({ type: 'error', code: 'CONFLICT', error: 'Wait for the answer before sending again' });
        busy = true;
        try {
          const ctx = chatDeps({ ...deps, log });
          const started = await sendMessage(ctx, user, {
            message: parsed.data.message,
            conversationId: parsed.data.conversationId,
            projectId: parsed.data.projectId,
            history: parsed.data.conversationHistory,
          });
          const ids = { conversationId: started.conversationId, turnId: started.turnId };
          send({ type: 'start', ...ids });
          for await (const envelope of chatTurnEvents(
            { db: deps.db, streams: deps.streams, prefix: deps.env.REDIS_KEY_PREFIX },
            user.id,
            { turnId: started.turnId },
            closed.signal,
          )) {
            const payload = wire(envelope[1], ids);
            if (payload) send(payload);
          }
        } catch (err) {
          if (isAppError(err)) send({ type: 'error', code: err.code, error: err.message });
          else {
            log.error({ err }, 'ai-brain message failed');
            send({ type: 'error', code: 'INTERNAL_SERVER_ERROR', error: 'Something went wrong; please try again' });
          }
        } finally {
          busy = false;
        }
      })();
    });
  });

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  wss.on('close', () => clearInterval(heartbeat));
  return wss;
}
