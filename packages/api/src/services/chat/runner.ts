/**
 * Runs assistant turns inside the api process, detached from the request or socket that asked for them: closing the
 * tab loses nothing. One turn = up to STEPS_PER_TURN provider calls; after each call its tokens and cost go to the
 * ledger (`recordUsage`, kind chat, key `chat:<turn>:<step>`) with the assistant message in one transaction, then
 * its tool calls run through the tool registry as the user, and their results are stored and sent back to the model.
 * Every event is appended to the turn's Redis Stream as it happens.
 *
 * Stopping: `chat.stop` (on any instance) appends `stop_requested` to the turn's stream; the runner reads its own
 * stream through the process's one stream reader and aborts. Shutdown: `drain` lets running turns finish within the
 * grace period, then aborts the rest, which end with an error event saying so.
 */
import {
  addTurnUsage,
  finishTurn,
  insertMessage,
  lockUserForAdmission,
  recordUsage,
  touchTurn,
  type Database,
} from '@dawg/db';
import {
  AppError,
  CHAT_EVENT_FIELD,
  CHAT_LIMITS,
  costOf,
  estimateChatCost,
  isAppError,
  type ChatEvent,
  type ChatToolResult,
} from '@dawg/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import { assertWithinBudget, noteBudgetRefusal } from '../budget';
import type { Caller } from '../generation';
import type { StreamEntry, StreamHub } from '../stream-hub';
import { availableTools, runTool, type ToolDeps } from '../tools';
import { ChatEventWriter, chatTurnKey, parseChatEntry } from './events';
import {
  type ChatProvider,
  type ContentBlock,
  estimateInputTokens,
  type ProviderAnswer,
  ProviderError,
  type ProviderIdentity,
  type ProviderMessage,
  type ProviderUsage,
} from './provider';

export interface TurnSpec {
  turnId: string;
  conversationId: string;
  projectId: string | null;
  caller: Caller;
  system: string;
  messages: ProviderMessage[];
}

export interface ChatRunnerDeps {
  db: Kysely<Database>;
  redis: Redis;
  streams: StreamHub;
  prefix: string;
  log: FastifyBaseLogger;
  tools: ToolDeps;
  provider: ChatProvider;
}

export interface ChatRunner {
  readonly provider: ChatProvider;
  /** Whether new turns are accepted (false once draining). */
  readonly accepting: boolean;
  /** Starts a turn whose row and user message are committed; returns at once. */
  start(spec: TurnSpec): void;
  /** Turns running in this process. */
  readonly running: number;
  /** Stops accepting, waits up to `graceMs` for running turns, aborts the rest and waits for them to end. */
  drain(graceMs: number): Promise<void>;
}

const SHUTDOWN = 'shutdown';
const STOP = 'stop';

/** The cost of what a provider call used, per the price table (a free provider costs 0). */
export function usageCost(provider: ProviderIdentity, usage: ProviderUsage): number {
  return costOf({
    provider: provider.provider,
    model: provider.model,
    units: {
      unit: 'tokens',
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      ...(usage.cachedInputTokens ? { cachedInputTokens: usage.cachedInputTokens } : {}),
    },
  });
}

/** The most a provider call with this request may cost (its whole output allowance). */
export function estimateCallCost(
  provider: ChatProvider,
  request: { system: string; messages: ProviderMessage[]; tools: unknown[] },
): number {
  return estimateChatCost({
    provider: provider.provider,
    model: provider.model,
    inputTokens: estimateInputTokens(request as never),
    maxOutputTokens: CHAT_LIMITS.MAX_OUTPUT_TOKENS,
  });
}

function toolResultContent(result: ChatToolResult): string {
  return JSON.stringify(
    result.ok ? (result.result ?? {}) : { error: result.error?.code, message: result.error?.message },
  );
}

export function createChatRunner(deps: ChatRunnerDeps): ChatRunner {
  const active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let accepting = true;
  const { provider, log } = deps;

  async function checkBudget(caller: Caller, estimate: number): Promise<void> {
    if (estimate <= 0) return;
    await deps.db
      .transaction()
      .execute(async (trx) => {
        const user = await lockUserForAdmission(trx, caller.id);
        if (!user || user.disabledAt) throw new AppError('FORBIDDEN', 'This account is disabled');
        await assertWithinBudget(trx, caller.id, user.plan, estimate, 'the next step of this answer');
      })
      .catch(async (err: unknown) => {
        await noteBudgetRefusal(deps.db, caller.id, err, log);
        throw err;
      });
  }

  async function record(
    spec: TurnSpec,
    step: number,
    answer: Pick<ProviderAnswer, 'text' | 'toolCalls' | 'usage'>,
    costMicro: number,
    by: ProviderIdentity,
  ): Promise<string> {
    return deps.db.transaction().execute(async (trx) => {
      await recordUsage(trx, {
        userId: spec.caller.id,
        provider: by.provider,
        model: by.model,
        kind: 'chat',
        units: {
          unit: 'tokens',
          inputTokens: answer.usage.inputTokens,
          outputTokens: answer.usage.outputTokens,
          ...(answer.usage.cachedInputTokens ? { cachedInputTokens: answer.usage.cachedInputTokens } : {}),
        },
        costMicro,
        conversationId: spec.conversationId,
        idempotencyKey: `chat:${spec.turnId}:${step}`,
      });
      const message = await insertMessage(trx, {
        conversationId: spec.conversationId,
        turnId: spec.turnId,
        role: 'assistant',
        content: answer.text,
        toolCalls: answer.toolCalls.length > 0 ? answer.toolCalls : null,
        provider: by.provider,
        model: by.model,
        inputTokens: answer.usage.inputTokens,
        outputTokens: answer.usage.outputTokens,
        costMicro,
      });
      await addTurnUsage(trx, spec.turnId, {
        inputTokens: answer.usage.inputTokens,
        outputTokens: answer.usage.outputTokens,
        costMicro,
      });
      return message.id;
    });
  }

  async function run(spec: TurnSpec, controller: AbortController): Promise<void> {
    const key = chatTurnKey(deps.prefix, spec.turnId);
    const events = new ChatEventWriter(deps.redis, key);
    const emit = (event: ChatEvent) => {
      events.append(event).catch((err: unknown) => log.warn({ err, turnId: spec.turnId }, 'chat event not written'));
    };
    // The turn's own deltas come back through the reader too: only a possible stop is parsed.
    const isStop = (raw: StreamEntry) =>
      raw.fields[CHAT_EVENT_FIELD]?.includes('stop_requested') === true &&
      parseChatEntry(raw)?.event.type === 'stop_requested';
    const unsubscribe = await deps.streams
      .subscribe(key, (raw) => {
        if (isStop(raw)) controller.abort(STOP);
      })
      .catch(() => () => undefined);
    // A stop sent before the reader had the stream (the client had the turn id a moment earlier) is in its backlog.
    const early = await deps.streams.range(key, null).catch(() => []);
    if (early.some(isStop)) controller.abort(STOP);
    const signal = controller.signal;
    // The row's heartbeat: a turn whose process dies stops beating and is closed as lost (see STALE_TURN_MS).
    const heartbeat = setInterval(() => {
      touchTurn(deps.db, spec.turnId).catch((err: unknown) => log.debug({ err }, 'turn heartbeat failed'));
    }, CHAT_LIMITS.TURN_HEARTBEAT_MS);
    heartbeat.unref();
    const messages = [...spec.messages];
    const texts: string[] = [];
    const totals = { inputTokens: 0, outputTokens: 0, costMicro: 0 };
    let lastMessageId: string | null = null;
    let partial = '';
    let step = 0;
    /** The provider of the next step: a failover chain keeps the turn with the provider that took it over. */
    let active: ChatProvider = provider;
    emit({ type: 'turn_started', turnId: spec.turnId, conversationId: spec.conversationId });
    try {
      for (; step < CHAT_LIMITS.STEPS_PER_TURN; step++) {
        const tools = availableTools(deps.tools.env);
        if (step > 0)
          await checkBudget(spec.caller, estimateCallCost(active, { system: spec.system, messages, tools }));
        partial = '';
        const answer = await active.stream(
          { system: spec.system, messages, tools, maxTokens: CHAT_LIMITS.MAX_OUTPUT_TOKENS },
          {
            signal,
            onText: (delta) => {
              partial += delta;
              emit({ type: 'text_delta', text: delta });
            },
          },
        );
        partial = '';
        // The provider that answered (a failover chain names it) is the one billed and shown.
        const by = answer.answeredBy ?? active;
        if (answer.answeredBy && active.continueWith) active = active.continueWith(answer.answeredBy);
        const costMicro = usageCost(by, answer.usage);
        lastMessageId = await record(spec, step, answer, costMicro, { provider: by.provider, model: by.model });
        totals.inputTokens += answer.usage.inputTokens;
        totals.outputTokens += answer.usage.outputTokens;
        totals.costMicro += costMicro;
        emit({
          type: 'usage',
          provider: by.provider,
          model: by.model,
          inputTokens: answer.usage.inputTokens,
          outputTokens: answer.usage.outputTokens,
          costMicro,
        });
        if (answer.text) texts.push(answer.text);
        if (answer.toolCalls.length === 0) break;

        const assistant: ContentBlock[] = [
          ...(answer.text ? [{ type: 'text' as const, text: answer.text }] : []),
          ...answer.toolCalls.map((c) => ({ type: 'tool_use' as const, id: c.id, name: c.name, input: c.input })),
        ];
        messages.push({ role: 'assistant', content: assistant });
        const results: ChatToolResult[] = [];
        for (const call of answer.toolCalls) {
          if (signal.aborted) {
            results.push({
              toolCallId: call.id,
              name: call.name,
              ok: false,
              error: { code: 'CANCELED', message: 'Stopped before it ran' },
            });
            continue;
          }
          emit({ type: 'tool_call_started', toolCallId: call.id, name: call.name, input: call.input });
          const outcome = await runTool(
            {
              deps: deps.tools,
              caller: spec.caller,
              conversationId: spec.conversationId,
              projectId: spec.projectId,
              toolCallId: call.id,
              signal,
            },
            call.name,
            call.input,
          );
          const result: ChatToolResult = outcome.ok
            ? { toolCallId: call.id, name: call.name, ok: true, result: outcome.result }
            : { toolCallId: call.id, name: call.name, ok: false, error: outcome.error };
          results.push(result);
          emit({ type: 'tool_call_finished', ...result });
        }
        await insertMessage(deps.db, {
          conversationId: spec.conversationId,
          turnId: spec.turnId,
          role: 'tool',
          content: '',
          toolResults: results,
        });
        messages.push({
          role: 'user',
          content: results.map((r) => ({
            type: 'tool_result' as const,
            tool_use_id: r.toolCallId,
            content: toolResultContent(r),
            ...(r.ok ? {} : { is_error: true }),
          })),
        });
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      }
      await finishTurn(deps.db, spec.turnId, { status: 'succeeded' });
      emit({
        type: 'message',
        messageId: lastMessageId,
        content: texts.join('\n\n'),
        status: 'succeeded',
        ...totals,
      });
    } catch (err) {
      const reason: unknown = signal.aborted ? signal.reason : undefined;
      // What the failed call used is billed too (the provider said so before failing).
      if (err instanceof ProviderError && err.usage) {
        const by = err.failedBy ?? { provider: active.provider, model: active.model };
        const costMicro = usageCost(by, err.usage);
        await record(spec, step, { text: partial, toolCalls: [], usage: err.usage }, costMicro, by).catch(
          (recordErr: unknown) =>
            log.error({ err: recordErr, turnId: spec.turnId }, 'usage of a failed call not recorded'),
        );
        totals.inputTokens += err.usage.inputTokens;
        totals.outputTokens += err.usage.outputTokens;
        totals.costMicro += costMicro;
        partial = '';
      }
      if (reason === STOP) {
        if (partial) {
          lastMessageId = await insertMessage(deps.db, {
            conversationId: spec.conversationId,
            turnId: spec.turnId,
            role: 'assistant',
            content: partial,
          }).then(
            (m) => m.id,
            () => lastMessageId,
          );
          texts.push(partial);
        }
        await finishTurn(deps.db, spec.turnId, { status: 'canceled' });
        emit({ type: 'message', messageId: lastMessageId, content: texts.join('\n\n'), status: 'canceled', ...totals });
      } else {
        const { code, message } = describeFailure(err, reason);
        if (code === 'INTERNAL_SERVER_ERROR') log.error({ err, turnId: spec.turnId }, 'chat turn failed');
        else log.info({ code, message, turnId: spec.turnId }, 'chat turn ended with an error');
        await finishTurn(deps.db, spec.turnId, { status: 'failed', error: message }).catch((finishErr: unknown) =>
          log.error({ err: finishErr, turnId: spec.turnId }, 'failed turn not marked'),
        );
        emit({ type: 'error', code, message, costMicro: totals.costMicro });
      }
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
      await events.finish().catch((err: unknown) => log.warn({ err, turnId: spec.turnId }, 'chat stream not closed'));
    }
  }

  return {
    provider,
    get accepting() {
      return accepting;
    },
    get running() {
      return active.size;
    },
    start(spec) {
      if (!accepting) throw new AppError('SERVICE_UNAVAILABLE', 'The server is restarting; please send again');
      const controller = new AbortController();
      const done = run(spec, controller)
        .catch((err: unknown) => log.error({ err, turnId: spec.turnId }, 'chat turn crashed'))
        .finally(() => active.delete(spec.turnId));
      active.set(spec.turnId, { controller, done });
    },
    async drain(graceMs) {
      accepting = false;
      const all = () => Promise.all([...active.values()].map((t) => t.done));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([all(), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, graceMs))))]);
      clearTimeout(timer);
      for (const turn of active.values()) turn.controller.abort(SHUTDOWN);
      await all();
    },
  };
}

function describeFailure(err: unknown, reason: unknown): { code: string; message: string } {
  if (reason === SHUTDOWN) {
    return {
      code: 'SERVICE_UNAVAILABLE',
      message: 'The server restarted while answering; please send your message again',
    };
  }
  if (err instanceof ProviderError) return { code: err.code, message: err.message };
  if (isAppError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL_SERVER_ERROR', message: 'Something went wrong while answering; please try again' };
}
