/**
 * The realtime voice socket at `/voice` (seed post-deploy 3.3): `{ type: "voice-connect", voice }` is acknowledged
 * with `{ type: "voice-connected", sessionId, conversationId, voice, mode, model, sampleRate }` once the upstream
 * Realtime session is configured; then binary frames carry PCM16 24 kHz audio both ways (protocol in
 * `@dawg/shared` voice.ts, the relay in services/voice.ts).
 *
 * Authenticated like the other sockets (the session cookie a browser sends with the upgrade, `Authorization: Bearer`,
 * or `x-api-key`): an anonymous socket gets a fatal error event and is closed with 4401. Origin and per-IP limits are the upgrade router's (403 / 429 before the handshake). A user holding
 * VOICE_MAX_SESSIONS_PER_USER voice sockets on this instance is refused with 4429.
 */
import {
  VOICE_AUDIO,
  VOICE_CLOSE_CODES,
  voiceClientMessageSchema,
  type ApiEnv,
  type VoiceServerEvent,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { resolveRequestAuth, unauthorizedMessage } from '../auth/context-user';
import type { AppDeps } from '../deps';
import { type openRealtimeUpstream, voiceConfigured, voicePricingProblem, VoiceSession } from '../services/voice';
import { HEARTBEAT_MS } from './main-socket';
import { WS_MAX_PAYLOAD_BYTES } from './upgrade';

export interface VoiceSocketServer {
  wss: WebSocketServer;
  /** Open sessions on this instance (tests, metrics). */
  sessions(): number;
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

export function createVoiceSocketServer(
  deps: AppDeps,
  log: FastifyBaseLogger,
  opts: { openUpstream?: typeof openRealtimeUpstream } = {},
): VoiceSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_PAYLOAD_BYTES });
  const pricing = voiceConfigured(deps.env) ? voicePricingProblem(deps.env) : null;
  if (pricing) log.error({ problem: pricing }, 'voice sessions will be refused');
  const alive = new WeakMap<WebSocket, boolean>();
  const perUser = new Map<string, number>();
  const open = new Set<VoiceSession>();
  const env: ApiEnv = deps.env;
  const tools = {
    db: deps.db,
    env,
    log,
    storage: { s3: deps.s3, bucket: env.AWS_S3_BUCKET },
    generationQueue: deps.generationQueue,
    progress: deps.progress,
    trackDeletion: deps.trackDeletion,
    studioIo: deps.studioIo,
  };

  wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    ws.on('error', (err) => log.debug({ err }, 'voice socket error'));
    const send = (event: VoiceServerEvent) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
    };
    const refuse = (code: string, error: string, close: number) => {
      send({ type: 'error', code, error, fatal: true });
      ws.close(close, code);
    };
    let session: VoiceSession | null = null;
    let released = false;
    let userId: string | null = null;
    const release = () => {
      if (released || !userId) return;
      released = true;
      const left = (perUser.get(userId) ?? 1) - 1;
      if (left > 0) perUser.set(userId, left);
      else perUser.delete(userId);
    };
    ws.once('close', () => {
      release();
      if (session) {
        session.clientClosed();
        open.delete(session);
      }
    });

    const authenticated = resolveRequestAuth(deps.db, req.headers).then(
      (auth) => {
        if (ws.readyState !== ws.OPEN) return null;
        if (!auth.user) {
          refuse('UNAUTHORIZED', unauthorizedMessage(auth), VOICE_CLOSE_CODES.UNAUTHORIZED);
          return null;
        }
        if (auth.user.ephemeral) {
          // OpenAI Realtime is a paid provider: not part of the demo.
          refuse(
            'FORBIDDEN',
            'Voice is not part of the demo; keep your work (create an account) to use it',
            VOICE_CLOSE_CODES.PAYMENT_REQUIRED,
          );
          return null;
        }
        const held = perUser.get(auth.user.id) ?? 0;
        if (held >= env.VOICE_MAX_SESSIONS_PER_USER) {
          refuse(
            'TOO_MANY_REQUESTS',
            `At most ${env.VOICE_MAX_SESSIONS_PER_USER} voice sessions at once: close another one first`,
            VOICE_CLOSE_CODES.TOO_MANY_SESSIONS,
          );
          return null;
        }
        userId = auth.user.id;
        perUser.set(userId, held + 1);
        deps.revocations.register(ws, auth);
        return auth.user;
      },
      (err: unknown) => {
        log.error({ err }, 'voice authentication failed');
        refuse('INTERNAL_SERVER_ERROR', 'Something went wrong; please try again', 1011);
        return null;
      },
    );

    // Messages are handled in order, after authentication.
    let queue: Promise<unknown> = authenticated;
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        // Audio is the hot path: no queueing once the session exists.
        if (session) {
          const frame = toBuffer(data);
          if (frame.length > VOICE_AUDIO.MAX_FRAME_BYTES || frame.length % 2 !== 0) {
            return send({
              type: 'error',
              code: 'BAD_REQUEST',
              error: `Audio frames are PCM16 (an even number of bytes), at most ${VOICE_AUDIO.MAX_FRAME_BYTES} bytes`,
              fatal: false,
            });
          }
          session.audio(frame);
        }
        return;
      }
      queue = queue.then(async () => {
        const user = await authenticated;
        if (!user) return;
        let body: unknown;
        try {
          body = JSON.parse(toBuffer(data).toString('utf8'));
        } catch {
          body = undefined;
        }
        const parsed = voiceClientMessageSchema.safeParse(body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return send({
            type: 'error',
            code: 'BAD_REQUEST',
            error: `Invalid message: ${issue ? `${issue.path.join('.') || 'type'}: ${issue.message}` : 'not JSON'}`,
            fatal: false,
          });
        }
        const msg = parsed.data;
        switch (msg.type) {
          case 'ping':
            return send({ type: 'pong' });
          case 'voice-connect': {
            if (session) {
              return send({
                type: 'error',
                code: 'CONFLICT',
                error: 'This socket already has a voice session',
                fatal: false,
              });
            }
            const client = {
              send,
              sendAudio: (pcm: Buffer) => {
                if (ws.readyState === ws.OPEN) ws.send(pcm, { binary: true });
              },
              close: (code: number, reason: string) => {
                if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
              },
            };
            session = new VoiceSession(
              { db: deps.db, env, log, tools },
              { id: user.id, role: user.role },
              client,
              opts.openUpstream,
            ).withVoice(msg.voice);
            open.add(session);
            await session.connect(msg);
            return;
          }
          default:
            if (!session) {
              return send({ type: 'error', code: 'BAD_REQUEST', error: 'Send voice-connect first', fatal: false });
            }
            if (msg.type === 'commit') session.commit();
            else if (msg.type === 'mode') session.setMode(msg.mode);
            else session.interrupt();
        }
      });
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
  wss.on('close', () => {
    clearInterval(heartbeat);
    for (const s of open) s.clientClosed();
  });
  return { wss, sessions: () => [...open].filter((s) => !s.isEnded).length };
}
