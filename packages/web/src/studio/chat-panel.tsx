/**
 * The AI producer beside the studio: the project's conversations, the messages of the open one, and a running
 * answer streamed over `chat.onEvent` (text as it is written, rendered as safe markdown; a card per tool call
 * linking to what it made, a generation card with live progress; the turn's cost; a Stop button). The turn runs on
 * the server: reloading or closing the tab loses nothing, and an answer still being written resumes here.
 */
import { Fragment, useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import {
  formatUsd,
  isTerminalStatus,
  LIMITS,
  type ChatEvent,
  type ChatMessage,
  type ChatToolResult,
  type GenerationView,
} from '@dawg/shared';
import { errorsFromFailure } from '../lib/form-errors';
import { trpc } from '../lib/trpc';
import { parseMarkdown, type Inline } from './chat-markdown';
import { applyProgressEvent, STAGE_LABELS } from './generation-progress';

/** Tools whose success changes the open project (the studio reloads it). */
const PROJECT_TOOLS = new Set([
  'set_tempo',
  'set_key',
  'add_lane',
  'place_clip',
  'set_lane_gain',
  'set_lane_pan',
  'mute_lane',
  'solo_lane',
]);

const TOOL_LABELS: Record<string, string> = {
  generate_music: 'Generate music',
  extend_track: 'Extend a track',
  get_generation_status: 'Check the generation',
  list_tracks: 'List tracks',
  get_project: 'Read the project',
  create_project: 'Create a project',
  set_tempo: 'Set the tempo',
  set_key: 'Set the key',
  add_lane: 'Add a lane',
  place_clip: 'Place a clip',
  set_lane_gain: 'Set a lane volume',
  set_lane_pan: 'Pan a lane',
  mute_lane: 'Mute a lane',
  solo_lane: 'Solo a lane',
  remember_preference: 'Remember',
  forget_preference: 'Forget',
};

// ---- Markdown -----------------------------------------------------------------------------------------------------

function renderInline(nodes: Inline[]): ReactNode[] {
  return nodes.map((node, i) => {
    switch (node.kind) {
      case 'text':
        return <Fragment key={i}>{node.text}</Fragment>;
      case 'strong':
        return <strong key={i}>{renderInline(node.children)}</strong>;
      case 'em':
        return <em key={i}>{renderInline(node.children)}</em>;
      case 'code':
        return <code key={i}>{node.text}</code>;
      case 'link':
        return (
          <a key={i} href={node.href} target="_blank" rel="noopener noreferrer nofollow">
            {renderInline(node.children)}
          </a>
        );
    }
  });
}

export function Markdown({ text }: { text: string }) {
  const blocks = useMemo(() => parseMarkdown(text), [text]);
  return (
    <>
      {blocks.map((block, i) => {
        if (block.kind === 'paragraph') return <p key={i}>{renderInline(block.children)}</p>;
        if (block.kind === 'code') return <pre key={i}>{block.text}</pre>;
        const items = block.items.map((item, j) => <li key={j}>{renderInline(item)}</li>);
        return block.ordered ? <ol key={i}>{items}</ol> : <ul key={i}>{items}</ul>;
      })}
    </>
  );
}

// ---- Tool cards ---------------------------------------------------------------------------------------------------

interface ToolCall {
  id: string;
  name: string;
  input: unknown;
  result?: ChatToolResult;
}

function GenerationProgressCard({ id }: { id: string }) {
  const [view, setView] = useState<GenerationView | null>(null);
  const [live, setLive] = useState(true);
  const utils = trpc.useUtils();
  trpc.generation.onProgress.useSubscription(
    { id },
    {
      enabled: live,
      onData: ({ data }) => {
        if (data.type === 'snapshot') {
          setView(data.generation);
          if (isTerminalStatus(data.generation.status)) setLive(false);
          return;
        }
        setView((current) => (current ? applyProgressEvent(current, data.event) : current));
        if (isTerminalStatus(data.event.status)) {
          setLive(false);
          void utils.track.list.invalidate();
          void utils.generation.list.invalidate();
        }
      },
    },
  );
  if (!view) return <p className="small muted">Starting…</p>;
  const progress = view.status === 'succeeded' ? 100 : Math.round(view.progress);
  const label = view.status === 'succeeded' ? 'Done' : view.status === 'failed' ? 'Failed' : STAGE_LABELS[view.stage];
  return (
    <div className="chat-generation" data-testid="chat-generation" data-status={view.status} data-stage={view.stage}>
      <div
        className={`progress${view.status === 'failed' || view.status === 'canceled' ? ' progress-failed' : ''}`}
        role="progressbar"
        aria-label={`Generation: ${view.prompt}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={progress}
        aria-valuetext={`${label}, ${progress}%`}
      >
        <div className="progress-fill" style={{ width: `${progress}%` }} />
      </div>
      <p className="small muted">
        {label} · {progress}%{view.error ? ` · ${view.error}` : ''}
      </p>
    </div>
  );
}

function ToolCard({ call, running }: { call: ToolCall; running: boolean }) {
  const result = call.result;
  const value = (result?.ok ? result.result : undefined) as Record<string, unknown> | undefined;
  const state = !result ? (running ? 'running' : 'interrupted') : result.ok ? 'done' : 'failed';
  const generationId = typeof value?.generationId === 'string' ? value.generationId : null;
  const showProgress = generationId && (call.name === 'generate_music' || call.name === 'extend_track');
  return (
    <li className="chat-tool" data-testid="chat-tool" data-tool={call.name} data-state={state}>
      <p className="chat-tool-title">
        <span>{TOOL_LABELS[call.name] ?? call.name}</span>{' '}
        <span className="small muted">
          {state === 'running' ? 'working…' : state === 'done' ? 'done' : state === 'failed' ? 'failed' : 'not run'}
        </span>
      </p>
      {result && !result.ok && <p className="small field-error">{result.error?.message}</p>}
      {value && typeof value.estimatedCost === 'string' && (
        <p className="small muted">Estimated cost {value.estimatedCost}</p>
      )}
      {showProgress && <GenerationProgressCard id={generationId} />}
      {value && call.name === 'create_project' && typeof value.projectId === 'string' && (
        <Link to={`/projects/${value.projectId}`}>Open {String(value.name)}</Link>
      )}
      {value && (call.name === 'add_lane' || call.name === 'place_clip') && (
        <p className="small muted">On lane {String(value.lane ?? value.name ?? '')}</p>
      )}
    </li>
  );
}

// ---- Turns --------------------------------------------------------------------------------------------------------

interface LiveTurn {
  turnId: string;
  text: string;
  calls: ToolCall[];
  costMicro: number;
  /** The provider that answered (failover may hand a turn from one to another). */
  answeredBy: string | null;
  final: Extract<ChatEvent, { type: 'message' | 'error' }> | null;
}

/** A stored turn: the user's message, then the assistant's texts and tool calls in order. */
interface StoredTurn {
  turnId: string | null;
  user: ChatMessage | null;
  answeredBy: string | null;
  parts: ({ kind: 'text'; text: string } | { kind: 'tool'; call: ToolCall })[];
}

const CHAT_PROVIDER_NAMES: Record<string, string> = {
  anthropic: 'Anthropic',
  google: 'Google Gemini',
  local: 'Offline producer',
};

/** "Google Gemini · gemini-2.5-flash": who answered a turn. */
function answeredByLabel(provider: string, model: string | null): string {
  return `${CHAT_PROVIDER_NAMES[provider] ?? provider}${model ? ` · ${model}` : ''}`;
}

function groupTurns(messages: ChatMessage[]): StoredTurn[] {
  const turns: StoredTurn[] = [];
  for (const m of messages) {
    let turn = turns.at(-1);
    if (m.role === 'user' || !turn || turn.turnId !== m.turnId) {
      turn = { turnId: m.turnId, user: null, answeredBy: null, parts: [] };
      turns.push(turn);
    }
    if (m.role === 'user') turn.user = m;
    else if (m.role === 'assistant') {
      if (m.provider) turn.answeredBy = answeredByLabel(m.provider, m.model);
      if (m.content) turn.parts.push({ kind: 'text', text: m.content });
      for (const c of m.toolCalls ?? [])
        turn.parts.push({ kind: 'tool', call: { id: c.id, name: c.name, input: c.input } });
    } else if (m.role === 'tool') {
      for (const r of m.toolResults ?? []) {
        const part = turn.parts.find((p) => p.kind === 'tool' && p.call.id === r.toolCallId);
        if (part && part.kind === 'tool') part.call.result = r;
      }
    }
  }
  return turns;
}

function useLiveTurn(turnId: string | null, onEvent: (event: ChatEvent, turnId: string) => void) {
  const [turn, setTurn] = useState<LiveTurn | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setTurn(turnId ? { turnId, text: '', calls: [], costMicro: 0, answeredBy: null, final: null } : null);
    setError(null);
  }, [turnId]);
  trpc.chat.onEvent.useSubscription(
    { turnId: turnId ?? '00000000-0000-4000-8000-000000000000' },
    {
      enabled: turnId !== null,
      onData: ({ data }) => {
        // The wire type marks `unknown` fields optional; the shape is the shared schema's.
        const event = data as ChatEvent;
        setError(null);
        setTurn((current) => {
          if (!current) return current;
          switch (event.type) {
            case 'text_delta':
              return { ...current, text: current.text + event.text };
            case 'tool_call_started':
              return {
                ...current,
                text: current.text && !current.text.endsWith('\n') ? `${current.text}\n\n` : current.text,
                calls: [...current.calls, { id: event.toolCallId, name: event.name, input: event.input }],
              };
            case 'tool_call_finished':
              return {
                ...current,
                calls: current.calls.map((c) => (c.id === event.toolCallId ? { ...c, result: event } : c)),
              };
            case 'usage':
              return {
                ...current,
                costMicro: current.costMicro + event.costMicro,
                answeredBy: answeredByLabel(event.provider, event.model),
              };
            case 'message':
            case 'error':
              return { ...current, final: event };
            default:
              return current;
          }
        });
        if (turnId) onEvent(event, turnId);
      },
      onError: (err) => setError(err.message),
    },
  );
  return { turn, error };
}

// ---- The panel ----------------------------------------------------------------------------------------------------

export interface ChatPanelProps {
  projectId: string;
  /** A tool changed the project (tempo, lanes, clips): the studio reloads it. */
  onProjectChanged(): void;
}

export function ChatPanel({ projectId, onProjectChanged }: ChatPanelProps) {
  const titleId = useId();
  const utils = trpc.useUtils();
  const [open, setOpen] = useState(true);
  const [conversationId, setConversationId] = useState<string | null>(null);
  /** The user chose a conversation (or a new one): the newest is no longer opened for them. */
  const [chosen, setChosen] = useState(false);
  const [turnId, setTurnId] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const [formError, setFormError] = useState<string | null>(null);
  const list = trpc.chat.list.useQuery({ projectId });
  const detail = trpc.chat.get.useQuery({ id: conversationId ?? '' }, { enabled: conversationId !== null });
  const send = trpc.chat.send.useMutation();
  const stop = trpc.chat.stop.useMutation();
  const endRef = useRef<HTMLDivElement>(null);

  // The newest conversation of the project opens by itself; a turn still running in it resumes.
  useEffect(() => {
    if (!chosen && conversationId === null && list.data?.[0]) setConversationId(list.data[0].id);
  }, [chosen, conversationId, list.data]);
  useEffect(() => {
    if (detail.data?.activeTurnId && turnId === null) setTurnId(detail.data.activeTurnId);
  }, [detail.data?.activeTurnId, turnId]);

  const onProjectChangedRef = useRef(onProjectChanged);
  onProjectChangedRef.current = onProjectChanged;
  const { turn, error: streamError } = useLiveTurn(turnId, (event, eventTurnId) => {
    if (event.type === 'tool_call_finished' && event.ok && PROJECT_TOOLS.has(event.name)) onProjectChangedRef.current();
    if (event.type === 'message' || event.type === 'error') {
      void Promise.all([
        utils.chat.get.invalidate({ id: conversationId ?? '' }),
        utils.chat.list.invalidate({ projectId }),
      ]).then(() => setTurnId((current) => (current === eventTurnId ? null : current)));
    }
  });

  useEffect(() => {
    endRef.current?.scrollIntoView({ block: 'nearest' });
  }, [turn?.text, turn?.calls.length, detail.data?.messages.length]);

  const storedTurns = useMemo(() => {
    const messages = (detail.data?.messages ?? []) as ChatMessage[];
    // While a turn streams, its stored messages are shown live instead.
    return groupTurns(turn ? messages.filter((m) => m.turnId !== turn.turnId || m.role === 'user') : messages);
  }, [detail.data?.messages, turn]);
  const costs = useMemo(() => new Map((detail.data?.turns ?? []).map((t) => [t.id, t])), [detail.data?.turns]);

  const submit = async () => {
    const message = draft.trim();
    if (!message) return;
    setFormError(null);
    try {
      const sent = await send.mutateAsync({ message, ...(conversationId ? { conversationId } : { projectId }) });
      setDraft('');
      setConversationId(sent.conversationId);
      setTurnId(sent.turnId);
      void utils.chat.get.invalidate({ id: sent.conversationId });
      void utils.chat.list.invalidate({ projectId });
    } catch (err) {
      setFormError(errorsFromFailure(err, []).form ?? 'The message could not be sent.');
    }
  };

  const running = turn !== null && turn.final === null;

  return (
    <section className="chat-panel" aria-labelledby={titleId} data-testid="chat-panel">
      <div className="panel-heading">
        <h2 id={titleId}>AI producer</h2>
        <button type="button" className="link-button" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          {open ? 'Hide' : 'Show'}
        </button>
      </div>
      <div hidden={!open}>
        <div className="chat-conversations">
          <label className="visually-hidden" htmlFor={`${titleId}-conv`}>
            Conversation
          </label>
          <select
            id={`${titleId}-conv`}
            value={conversationId ?? ''}
            disabled={running}
            onChange={(e) => {
              setChosen(true);
              setTurnId(null);
              setConversationId(e.target.value || null);
            }}
            data-testid="chat-conversations"
          >
            <option value="">New conversation</option>
            {(list.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.title ?? 'Untitled'}
              </option>
            ))}
          </select>
        </div>
        <div className="chat-log" aria-live="polite" data-testid="chat-log">
          {storedTurns.map((t, i) => (
            <div key={t.user?.id ?? `${t.turnId}-${i}`} className="chat-turn">
              {t.user && (
                <div className="chat-message chat-user" data-testid="chat-user">
                  {t.user.content}
                </div>
              )}
              {(!turn || t.turnId !== turn.turnId) && (
                <>
                  {t.parts.length > 0 && (
                    <div className="chat-message chat-assistant" data-testid="chat-assistant">
                      <ul className="chat-tools">
                        {t.parts.flatMap((p) =>
                          p.kind === 'tool' ? [<ToolCard key={p.call.id} call={p.call} running={false} />] : [],
                        )}
                      </ul>
                      {t.parts.map((p, j) => (p.kind === 'text' ? <Markdown key={j} text={p.text} /> : null))}
                    </div>
                  )}
                  {t.turnId && costs.get(t.turnId) && (
                    <p className="small muted chat-cost" data-testid="chat-turn-cost">
                      {costs.get(t.turnId)!.status === 'failed'
                        ? `Failed: ${costs.get(t.turnId)!.error ?? 'no answer'} · `
                        : ''}
                      Cost {formatUsd(costs.get(t.turnId)!.costMicro)}
                    </p>
                  )}
                  {t.answeredBy && (
                    <p className="small muted" data-testid="chat-answered-by">
                      Answered by {t.answeredBy}
                    </p>
                  )}
                </>
              )}
            </div>
          ))}
          {turn && (
            <div className="chat-message chat-assistant" data-testid="chat-live" aria-busy={running}>
              {turn.calls.length > 0 && (
                <ul className="chat-tools">
                  {turn.calls.map((c) => (
                    <ToolCard key={c.id} call={c} running={running} />
                  ))}
                </ul>
              )}
              <Markdown text={turn.text} />
              {running && !turn.text && turn.calls.length === 0 && <p className="small muted">Thinking…</p>}
              {turn.final?.type === 'error' && (
                <p className="field-error" role="alert" data-testid="chat-error">
                  {turn.final.message}
                </p>
              )}
              <p className="small muted chat-cost" data-testid="chat-live-cost">
                Cost {formatUsd(turn.final ? turn.final.costMicro : turn.costMicro)}
              </p>
              {turn.answeredBy && (
                <p className="small muted" data-testid="chat-answered-by">
                  Answered by {turn.answeredBy}
                </p>
              )}
              {streamError && running && <p className="small field-error">Reconnecting… ({streamError})</p>}
            </div>
          )}
          <div ref={endRef} />
        </div>
        <form
          className="chat-form"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label className="visually-hidden" htmlFor={`${titleId}-input`}>
            Message to the AI producer
          </label>
          <textarea
            id={`${titleId}-input`}
            rows={2}
            value={draft}
            maxLength={LIMITS.CHAT_MESSAGE_MAX_CHARS}
            placeholder="Make a 90 bpm lofi beat"
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                void submit();
              }
            }}
            data-testid="chat-input"
          />
          {formError && (
            <p className="field-error small" role="alert">
              {formError}
            </p>
          )}
          <div className="chat-actions">
            {running ? (
              <button
                type="button"
                className="button-secondary"
                onClick={() => turn && stop.mutate({ turnId: turn.turnId })}
                disabled={stop.isPending}
              >
                Stop
              </button>
            ) : (
              <button type="submit" disabled={send.isPending || !draft.trim()}>
                Send
              </button>
            )}
          </div>
        </form>
      </div>
    </section>
  );
}
