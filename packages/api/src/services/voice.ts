/**
 * One realtime voice session: the relay between a browser socket and an upstream OpenAI Realtime session (GA
 * protocol, through the `openai` SDK's `OpenAIRealtimeWS`). The browser's PCM16 frames go up as
 * `input_audio_buffer.append`; the model's `response.output_audio.delta` come down as binary frames, untouched.
 *
 * The model acts through the ONE tool registry (services/tools) exactly as chat does (`runTool`, as the user, under
 * FEATURE_CHAT_TO_CREATE); each result goes back as a `function_call_output` item followed by `response.create`.
 * The session's words are stored in a conversation (user transcripts, assistant transcripts, tool calls and results).
 * Every `response.done` is billed (`recordUsage`, kind voice, key `voice:<session>:<response>`, audio and text tokens
 * priced by the price table's realtime prices) and the budget is checked before each answer: a refusal ends the
 * session. The user's speech-to-text is billed per second (kind transcription).
 *
 * Ending: the browser closing, the upstream failing, the budget, or VOICE_MAX_SESSION_MS. Each ends the session once:
 * a fatal `error` event (except a browser close), a close frame, a `system` message saying why, and the upstream
 * socket closed (terminated if its close handshake does not finish), so no upstream connection outlives its relay.
 */
import {
  findConversationOfUser,
  insertConversation,
  insertMessage,
  lockUserForAdmission,
  recordUsage,
  touchConversation,
  type Database,
} from '@dawg/db';
import {
  AppError,
  type ApiEnv,
  costOf,
  findModelPrice,
  isAppError,
  type UsageUnits,
  VOICE_AUDIO,
  VOICE_CLOSE_CODES,
  type VoiceConnectMessage,
  type VoiceMode,
  type VoiceServerEvent,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { assertWithinBudget } from './budget';
import type { Caller } from './generation';
import { getProject } from './studio';
import { availableTools, runTool, type ToolDeps } from './tools';

export interface VoiceDeps {
  db: Kysely<Database>;
  env: ApiEnv;
  log: FastifyBaseLogger;
  tools: ToolDeps;
}

/** What the session needs of the browser socket. */
export interface VoiceClient {
  send(event: VoiceServerEvent): void;
  sendAudio(pcm16: Buffer): void;
  close(code: number, reason: string): void;
}

export function voiceConfigured(env: Pick<ApiEnv, 'OPENAI_API_KEY'>): boolean {
  return Boolean(env.OPENAI_API_KEY);
}

/**
 * Why voice may not spend money here, or null: spending at an unknown rate is never silent, so an unpriced
 * OPENAI_REALTIME_MODEL (or OPENAI_TRANSCRIBE_MODEL) refuses every session with this message.
 */
export function voicePricingProblem(
  env: Pick<ApiEnv, 'OPENAI_REALTIME_MODEL' | 'OPENAI_TRANSCRIBE_MODEL'>,
): string | null {
  if (findModelPrice('openai', env.OPENAI_REALTIME_MODEL)?.unit !== 'realtime') {
    return `OPENAI_REALTIME_MODEL ${env.OPENAI_REALTIME_MODEL} has no realtime price in the price table`;
  }
  const transcribe = env.OPENAI_TRANSCRIBE_MODEL;
  if (transcribe && findModelPrice('openai', transcribe)?.unit !== 'seconds') {
    return `OPENAI_TRANSCRIBE_MODEL ${transcribe} has no per-minute price in the price table`;
  }
  return null;
}

/** Upper bound of one spoken answer, as reserved by the budget check (about 30 s of speech each way). */
export const VOICE_RESPONSE_ESTIMATE: UsageUnits = {
  unit: 'realtime',
  textInputTokens: 4_000,
  textOutputTokens: 500,
  audioInputTokens: 500,
  audioOutputTokens: 1_000,
};

/** How long a closing upstream socket may take before it is terminated. */
const UPSTREAM_CLOSE_GRACE_MS = 2_000;

export function voiceInstructions(projectId: string | null): string {
  return [
    "You are DAWG AI's voice producer inside a web music studio. You hear the user and answer by voice.",
    'Keep spoken answers short and natural: one or two sentences.',
    'Act through the functions when the user asks for a change (tempo, key, lanes, volume, pan, mute, solo, music).',
    'Before anything that costs money, say the estimated cost the function reports.',
    projectId
      ? `The open project is ${projectId}: functions act on it unless the user names another.`
      : 'No project is open: ask the user to open one before editing.',
  ].join(' ');
}

/** The SDK's realtime client for the configured endpoint; an extra CA (OPENAI_REALTIME_CA_FILE) is added to the
 * system roots for this connection only. */
export function openRealtimeUpstream(env: ApiEnv): OpenAIRealtimeWS {
  const client = new OpenAI({
    apiKey: env.OPENAI_API_KEY ?? '',
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
  });
  const model = env.OPENAI_REALTIME_MODEL;
  const fixedUrl = env.OPENAI_REALTIME_URL;
  const ca = env.OPENAI_REALTIME_CA_FILE
    ? [...rootCertificates, readFileSync(env.OPENAI_REALTIME_CA_FILE, 'utf8')]
    : null;
  return new OpenAIRealtimeWS(
    {
      model,
      ...(fixedUrl
        ? {
            buildRealtimeURL: () => {
              const url = new URL(fixedUrl);
              url.searchParams.set('model', model);
              return url;
            },
          }
        : {}),
      options: { handshakeTimeout: 10_000, ...(ca ? { ca } : {}) },
    },
    client,
  );
}

interface UsageLike {
  input_token_details?: {
    text_tokens?: number;
    audio_tokens?: number;
    cached_tokens_details?: { text_tokens?: number; audio_tokens?: number };
  };
  output_token_details?: { text_tokens?: number; audio_tokens?: number };
}

/** A `response.done` usage as the ledger's realtime units (input counts exclude cached tokens). */
export function realtimeUnits(usage: UsageLike | null | undefined): UsageUnits {
  const input = usage?.input_token_details ?? {};
  const cachedText = input.cached_tokens_details?.text_tokens ?? 0;
  const cachedAudio = input.cached_tokens_details?.audio_tokens ?? 0;
  return {
    unit: 'realtime',
    textInputTokens: Math.max(0, (input.text_tokens ?? 0) - cachedText),
    cachedTextInputTokens: cachedText,
    audioInputTokens: Math.max(0, (input.audio_tokens ?? 0) - cachedAudio),
    cachedAudioInputTokens: cachedAudio,
    textOutputTokens: usage?.output_token_details?.text_tokens ?? 0,
    audioOutputTokens: usage?.output_token_details?.audio_tokens ?? 0,
  };
}

type Upstream = Pick<OpenAIRealtimeWS, 'send' | 'close' | 'on' | 'socket'>;

interface PendingCall {
  callId: string;
  name: string;
  arguments: string;
}

export class VoiceSession {
  readonly id = randomUUID();
  private upstream: Upstream | null = null;
  private conversationId: string | null = null;
  private projectId: string | null = null;
  private mode: VoiceMode = 'push-to-talk';
  private ready = false;
  private ended = false;
  private chain: Promise<void> = Promise.resolve();
  private totalCostMicro = 0;
  private pendingCalls: PendingCall[] = [];
  private bytesSinceCommit = 0;
  private readonly committedSeconds = new Map<string, number>();
  private readonly partial = new Map<string, string>();
  private sessionTimer: NodeJS.Timeout | null = null;
  private readonly model: string;

  constructor(
    private readonly deps: VoiceDeps,
    private readonly caller: Caller,
    private readonly client: VoiceClient,
    private readonly openUpstream: (env: ApiEnv) => Upstream = openRealtimeUpstream,
  ) {
    this.model = deps.env.OPENAI_REALTIME_MODEL;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Answers `voice-connect`: checks the project and the budget, stores the conversation, opens the upstream. */
  async connect(msg: VoiceConnectMessage): Promise<void> {
    const { db, env } = this.deps;
    if (!voiceConfigured(env)) {
      return this.end(
        'SERVICE_UNAVAILABLE',
        'Voice needs an OpenAI API key: set OPENAI_API_KEY on the server',
        VOICE_CLOSE_CODES.NOT_CONFIGURED,
      );
    }
    const pricing = voicePricingProblem(env);
    if (pricing) {
      return this.end('SERVICE_UNAVAILABLE', `Voice is misconfigured: ${pricing}`, VOICE_CLOSE_CODES.NOT_CONFIGURED);
    }
    try {
      let conversationId: string;
      let projectId = msg.projectId ?? null;
      if (msg.conversationId) {
        const existing = await findConversationOfUser(db, this.caller.id, msg.conversationId);
        if (!existing) throw new AppError('NOT_FOUND', 'Conversation not found');
        conversationId = existing.id;
        projectId ??= existing.project_id;
      }
      if (projectId) await getProject({ db, log: this.deps.log }, this.caller.id, projectId);
      await this.checkBudget('this voice session');
      if (this.ended) return;
      if (!msg.conversationId) {
        const title = `Voice session ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
        conversationId = (await insertConversation(db, { userId: this.caller.id, projectId, title })).id;
      }
      this.conversationId = conversationId!;
      this.projectId = projectId;
      this.mode = msg.mode;
    } catch (err) {
      return this.endWith(err);
    }
    if (this.ended) return;
    let upstream: Upstream;
    try {
      upstream = this.openUpstream(env);
    } catch (err) {
      this.deps.log.error({ err }, 'voice upstream not opened');
      return this.end(
        'SERVICE_UNAVAILABLE',
        'The voice service could not be reached',
        VOICE_CLOSE_CODES.UPSTREAM_FAILED,
      );
    }
    this.upstream = upstream;
    this.sessionTimer = setTimeout(
      () => this.end('TIMEOUT', 'The voice session reached its time limit', VOICE_CLOSE_CODES.TIMEOUT),
      env.VOICE_MAX_SESSION_MS,
    );
    this.sessionTimer.unref();
    upstream.on('error', (err) => {
      // API errors arrive as events on an open socket (not fatal); transport errors end the session via `close`.
      const apiError = (err as { error?: { message?: string } }).error;
      if (apiError) {
        this.deps.log.info({ message: apiError.message, sessionId: this.id }, 'voice upstream reported an error');
        this.client.send({
          type: 'error',
          code: 'UPSTREAM_ERROR',
          error: String(apiError.message ?? 'error'),
          fatal: false,
        });
      } else {
        this.deps.log.info({ err, sessionId: this.id }, 'voice upstream transport error');
      }
    });
    upstream.socket.on('error', () => undefined);
    upstream.socket.once('close', (code: number) => {
      if (this.ended) return;
      this.deps.log.info({ code, sessionId: this.id }, 'voice upstream closed');
      this.end(
        'SERVICE_UNAVAILABLE',
        this.ready
          ? 'The voice service disconnected; start voice again'
          : 'The voice service could not be reached; try again later',
        VOICE_CLOSE_CODES.UPSTREAM_FAILED,
      );
    });
    upstream.on('event', (event) => this.onUpstreamEvent(event as unknown as UpstreamEvent));
  }

  /** A binary frame of microphone audio (PCM16, 24 kHz, mono). */
  audio(frame: Buffer): void {
    if (!this.ready || this.ended || !this.upstream) return;
    this.bytesSinceCommit += frame.length;
    this.upstream.send({ type: 'input_audio_buffer.append', audio: frame.toString('base64') });
  }

  /** Push-to-talk released: answer what was said. */
  commit(): void {
    if (!this.ready || this.ended || !this.upstream) return;
    this.enqueue(async () => {
      await this.checkBudget('the next answer');
      if (this.ended || !this.upstream) return;
      this.upstream.send({ type: 'input_audio_buffer.commit' });
      this.upstream.send({ type: 'response.create' });
    });
  }

  setMode(mode: VoiceMode): void {
    this.mode = mode;
    if (this.ready && this.upstream)
      this.upstream.send({ type: 'session.update', session: this.sessionConfig(false) } as never);
    this.client.send({ type: 'mode', mode });
  }

  interrupt(): void {
    if (this.ready && this.upstream && !this.ended) this.upstream.send({ type: 'response.cancel' });
  }

  /** The browser went away: close the upstream quietly. */
  clientClosed(): void {
    this.finish(null);
  }

  // ---- Upstream events ---------------------------------------------------------------------------------------------

  private sessionConfig(full: boolean): Record<string, unknown> {
    const turnDetection =
      this.mode === 'hands-free' ? { type: 'server_vad', create_response: true, interrupt_response: true } : null;
    const input: Record<string, unknown> = {
      format: { type: 'audio/pcm', rate: VOICE_AUDIO.SAMPLE_RATE },
      turn_detection: turnDetection,
    };
    if (!full) return { type: 'realtime', audio: { input } };
    if (this.deps.env.OPENAI_TRANSCRIBE_MODEL) input.transcription = { model: this.deps.env.OPENAI_TRANSCRIBE_MODEL };
    return {
      type: 'realtime',
      model: this.model,
      instructions: voiceInstructions(this.projectId),
      output_modalities: ['audio'],
      audio: {
        input,
        output: { format: { type: 'audio/pcm', rate: VOICE_AUDIO.SAMPLE_RATE }, voice: this.voice },
      },
      tools: availableTools(this.deps.env).map((t) => ({
        type: 'function',
        name: t.name,
        description: t.description,
        parameters: t.parameters,
      })),
      tool_choice: 'auto',
    };
  }

  private voice: VoiceConnectMessage['voice'] = 'alloy';

  /** Sets the voice before connect() (the first session.update carries it). */
  withVoice(voice: VoiceConnectMessage['voice']): this {
    this.voice = voice;
    return this;
  }

  private onUpstreamEvent(event: UpstreamEvent): void {
    if (this.ended) return;
    switch (event.type) {
      case 'session.created':
        this.upstream?.send({ type: 'session.update', session: this.sessionConfig(true) } as never);
        return;
      case 'session.updated':
        if (!this.ready) {
          this.ready = true;
          this.client.send({
            type: 'voice-connected',
            sessionId: this.id,
            conversationId: this.conversationId!,
            voice: this.voice,
            mode: this.mode,
            model: this.model,
            sampleRate: VOICE_AUDIO.SAMPLE_RATE,
          });
        }
        return;
      case 'response.output_audio.delta':
        this.client.sendAudio(Buffer.from(event.delta ?? '', 'base64'));
        return;
      case 'input_audio_buffer.speech_started':
        this.client.send({ type: 'speech_started' });
        return;
      case 'input_audio_buffer.speech_stopped':
        this.client.send({ type: 'speech_stopped' });
        return;
      case 'input_audio_buffer.committed':
        if (event.item_id) {
          this.committedSeconds.set(
            event.item_id,
            this.bytesSinceCommit / (VOICE_AUDIO.SAMPLE_RATE * VOICE_AUDIO.BYTES_PER_SAMPLE),
          );
        }
        this.bytesSinceCommit = 0;
        return;
      case 'conversation.item.input_audio_transcription.delta':
        return this.transcriptDelta('user', event.item_id ?? '', event.delta ?? '');
      case 'conversation.item.input_audio_transcription.completed': {
        const itemId = event.item_id ?? '';
        const text = event.transcript ?? '';
        this.partial.delete(`user:${itemId}`);
        this.client.send({ type: 'transcript', role: 'user', text, final: true, itemId });
        const seconds = this.committedSeconds.get(itemId) ?? 0;
        this.committedSeconds.delete(itemId);
        return this.enqueue(() => this.storeUserTranscript(itemId, text, seconds));
      }
      case 'response.created':
        this.client.send({ type: 'response_started', responseId: event.response?.id ?? '' });
        return;
      case 'response.output_audio_transcript.delta':
      case 'response.output_text.delta':
        return this.transcriptDelta('assistant', event.item_id ?? '', event.delta ?? '');
      case 'response.output_audio_transcript.done':
      case 'response.output_text.done': {
        const itemId = event.item_id ?? '';
        const text = event.transcript ?? event.text ?? '';
        this.partial.delete(`assistant:${itemId}`);
        this.client.send({ type: 'transcript', role: 'assistant', text, final: true, itemId });
        return this.enqueue(async () => {
          if (!text) return;
          await insertMessage(this.deps.db, {
            conversationId: this.conversationId!,
            turnId: null,
            role: 'assistant',
            content: text,
            provider: 'openai',
            model: this.model,
          });
        });
      }
      case 'response.function_call_arguments.done': {
        const call = { callId: event.call_id ?? '', name: event.name ?? '', arguments: event.arguments ?? '' };
        this.pendingCalls.push(call);
        return;
      }
      case 'response.done':
        return this.enqueue(() => this.responseDone(event.response ?? {}));
      default:
        return;
    }
  }

  private transcriptDelta(role: 'user' | 'assistant', itemId: string, delta: string): void {
    const key = `${role}:${itemId}`;
    const text = (this.partial.get(key) ?? '') + delta;
    this.partial.set(key, text);
    this.client.send({ type: 'transcript', role, text, final: false, itemId });
  }

  private async storeUserTranscript(itemId: string, text: string, seconds: number): Promise<void> {
    const { db, env } = this.deps;
    const model = env.OPENAI_TRANSCRIBE_MODEL;
    await db.transaction().execute(async (trx) => {
      if (text)
        await insertMessage(trx, { conversationId: this.conversationId!, turnId: null, role: 'user', content: text });
      if (seconds > 0 && model) {
        const units: UsageUnits = { unit: 'seconds', seconds: Math.round(seconds * 1000) / 1000 };
        const costMicro = costOf({ provider: 'openai', model, units });
        await recordUsage(trx, {
          userId: this.caller.id,
          provider: 'openai',
          model,
          kind: 'transcription',
          units,
          costMicro,
          conversationId: this.conversationId,
          idempotencyKey: `voice:${this.id}:transcription:${itemId}`,
        });
        this.addCost(costMicro);
      }
      await touchConversation(trx, this.conversationId!);
    });
  }

  private async responseDone(response: NonNullable<UpstreamEvent['response']>): Promise<void> {
    const responseId = response.id ?? randomUUID();
    const units = realtimeUnits(response.usage);
    const costMicro = costOf({ provider: 'openai', model: this.model, units });
    const calls = this.pendingCalls;
    this.pendingCalls = [];
    await this.deps.db.transaction().execute(async (trx) => {
      await recordUsage(trx, {
        userId: this.caller.id,
        provider: 'openai',
        model: this.model,
        kind: 'voice',
        units,
        costMicro,
        conversationId: this.conversationId,
        idempotencyKey: `voice:${this.id}:${responseId}`,
      });
      if (calls.length > 0) {
        await insertMessage(trx, {
          conversationId: this.conversationId!,
          turnId: null,
          role: 'assistant',
          content: '',
          toolCalls: calls.map((c) => ({ id: c.callId, name: c.name, input: parseArguments(c.arguments) })),
          provider: 'openai',
          model: this.model,
          costMicro,
        });
      }
    });
    this.addCost(costMicro);
    this.client.send({ type: 'response_done', responseId, status: response.status ?? 'completed' });
    if (this.ended) return;
    if (calls.length === 0) {
      // Hands-free answers start by themselves: the next one must fit the budget, or the session ends now.
      if (this.mode === 'hands-free') await this.checkBudget('the next answer');
      return;
    }
    const results = [];
    for (const call of calls) {
      const input = parseArguments(call.arguments);
      this.client.send({ type: 'tool_call', toolCallId: call.callId, name: call.name, input });
      const controller = new AbortController();
      const outcome = await runTool(
        {
          deps: this.deps.tools,
          caller: this.caller,
          conversationId: this.conversationId,
          projectId: this.projectId,
          toolCallId: call.callId,
          signal: controller.signal,
        },
        call.name,
        input,
      );
      const result = outcome.ok
        ? { toolCallId: call.callId, name: call.name, ok: true, result: outcome.result }
        : { toolCallId: call.callId, name: call.name, ok: false, error: outcome.error };
      results.push(result);
      this.client.send({ type: 'tool_result', ...result });
      this.upstream?.send({
        type: 'conversation.item.create',
        item: {
          type: 'function_call_output',
          call_id: call.callId,
          output: JSON.stringify(
            outcome.ok ? outcome.result : { error: outcome.error.code, message: outcome.error.message },
          ),
        },
      });
    }
    await insertMessage(this.deps.db, {
      conversationId: this.conversationId!,
      turnId: null,
      role: 'tool',
      content: '',
      toolResults: results,
    });
    if (this.ended) return;
    await this.checkBudget('the answer to what was done');
    if (!this.ended) this.upstream?.send({ type: 'response.create' });
  }

  // ---- Budget, errors and the end ----------------------------------------------------------------------------------

  private addCost(costMicro: number): void {
    this.totalCostMicro += costMicro;
    if (costMicro > 0) this.client.send({ type: 'usage', costMicro, totalCostMicro: this.totalCostMicro });
  }

  private async checkBudget(what: string): Promise<void> {
    const estimate = costOf({ provider: 'openai', model: this.model, units: VOICE_RESPONSE_ESTIMATE });
    await this.deps.db.transaction().execute(async (trx) => {
      const user = await lockUserForAdmission(trx, this.caller.id);
      if (!user || user.disabledAt) throw new AppError('FORBIDDEN', 'This account is disabled');
      await assertWithinBudget(trx, this.caller.id, user.plan, estimate, what);
    });
  }

  /** Runs DB work in arrival order; a failure ends the session. */
  private enqueue(work: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.ended) return;
      try {
        await work();
      } catch (err) {
        this.endWith(err);
      }
    });
  }

  private endWith(err: unknown): void {
    if (isAppError(err)) {
      const close =
        err.code === 'PAYMENT_REQUIRED'
          ? VOICE_CLOSE_CODES.PAYMENT_REQUIRED
          : err.code === 'UNAUTHORIZED'
            ? VOICE_CLOSE_CODES.UNAUTHORIZED
            : VOICE_CLOSE_CODES.BAD_REQUEST;
      return this.end(err.code, err.message, close);
    }
    this.deps.log.error({ err, sessionId: this.id }, 'voice session failed');
    this.end('INTERNAL_SERVER_ERROR', 'Voice stopped after an error; please start again', 1011);
  }

  /** Ends the session with a fatal error event and a close frame. */
  end(code: string, message: string, closeCode: number): void {
    if (this.ended) return;
    this.client.send({ type: 'error', code, error: message, fatal: true });
    this.finish({ code, message, closeCode });
  }

  private finish(reason: { code: string; message: string; closeCode: number } | null): void {
    if (this.ended) return;
    this.ended = true;
    if (this.sessionTimer) clearTimeout(this.sessionTimer);
    if (reason) this.client.close(reason.closeCode, reason.code.slice(0, 100));
    const upstream = this.upstream;
    if (upstream) {
      const socket = upstream.socket;
      if (socket.readyState === socket.CONNECTING || socket.readyState === socket.OPEN) {
        try {
          upstream.close({ code: 1000, reason: 'Session ended' });
        } catch {
          // Closing a socket that never opened: terminate below.
        }
        const timer = setTimeout(() => socket.terminate(), UPSTREAM_CLOSE_GRACE_MS);
        timer.unref();
        socket.once('close', () => clearTimeout(timer));
      }
    }
    const conversationId = this.conversationId;
    if (reason && conversationId) {
      this.chain = this.chain.then(() =>
        insertMessage(this.deps.db, {
          conversationId,
          turnId: null,
          role: 'system',
          content: `Voice session ended: ${reason.message}`,
        }).then(
          () => undefined,
          (err: unknown) => this.deps.log.warn({ err }, 'voice end not stored'),
        ),
      );
    }
  }

  /** Resolves when the session's stored work is written (tests, shutdown). */
  settled(): Promise<void> {
    return this.chain;
  }
}

function parseArguments(text: string): unknown {
  try {
    return text ? JSON.parse(text) : {};
  } catch {
    return { _unparsed: text };
  }
}

/** The fields of the GA server events the relay reads. */
interface UpstreamEvent {
  type: string;
  delta?: string;
  item_id?: string;
  transcript?: string;
  text?: string;
  call_id?: string;
  name?: string;
  arguments?: string;
  response?: { id?: string; status?: string; usage?: UsageLike | null };
}
