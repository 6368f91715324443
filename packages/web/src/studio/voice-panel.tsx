/**
 * Talk to the studio: a voice control beside the AI producer. It opens the `/voice` socket (the session cookie rides
 * along), captures the microphone in an AudioWorklet as PCM16 mono 24 kHz frames, and plays the model's speech as it
 * arrives. Push-to-talk (hold the button, or Space while it has focus) or hands-free (the server hears when you stop);
 * a level meter, the live transcript, each action the model takes (the studio reloads the project after one), the
 * session's cost, and a clear state line. Without OPENAI_API_KEY on the server the control says voice needs a key.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { formatUsd, type VoiceMode, type VoiceServerEvent } from '@dawg/shared';
import { apiBase } from '../lib/api-url';
import { CAPTURE_WORKLET_SOURCE, PcmPlayer, VOICE_SAMPLE_RATE } from './voice-audio';

type Phase = 'checking' | 'unconfigured' | 'idle' | 'connecting' | 'ready' | 'listening' | 'speaking' | 'error';

const PHASE_TEXT: Record<Phase, string> = {
  checking: 'Checking voice…',
  unconfigured: 'Voice needs an OpenAI API key on the server (OPENAI_API_KEY).',
  idle: 'Voice is off.',
  connecting: 'Connecting…',
  ready: 'Ready: hold to talk.',
  listening: 'Listening…',
  speaking: 'Speaking…',
  error: 'Voice stopped.',
};

/** What each tool call reads as in the transcript (the names are the tool registry's). */
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
const toolLabel = (name: string) => TOOL_LABELS[name] ?? name.replace(/_/g, ' ');

interface Line {
  key: string;
  role: 'user' | 'assistant' | 'tool';
  text: string;
  final: boolean;
  ok?: boolean;
}

function voiceUrl(): string {
  const base = apiBase(import.meta.env.VITE_API_URL);
  if (base === '') return `${window.location.protocol === 'https:' ? 'wss:' : 'ws:'}//${window.location.host}/voice`;
  const url = new URL(`${base}/voice`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

interface Live {
  ws: WebSocket;
  ctx: AudioContext;
  stream: MediaStream;
  node: AudioWorkletNode;
  player: PcmPlayer;
  workletUrl: string;
}

export function VoicePanel({ projectId, onProjectChanged }: { projectId: string; onProjectChanged: () => void }) {
  const [phase, setPhase] = useState<Phase>('checking');
  const [mode, setMode] = useState<VoiceMode>('push-to-talk');
  const [talking, setTalking] = useState(false);
  const [level, setLevel] = useState(0);
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [costMicro, setCostMicro] = useState(0);
  const [played, setPlayed] = useState(0);
  const [sent, setSent] = useState(0);
  const live = useRef<Live | null>(null);
  const talkingRef = useRef(false);
  const modeRef = useRef<VoiceMode>(mode);
  const sentRef = useRef(0);

  useEffect(() => {
    let stop = false;
    fetch(`${apiBase(import.meta.env.VITE_API_URL)}/api/voice/health`)
      .then((r) => r.json() as Promise<{ openai_configured?: boolean }>)
      .then((h) => !stop && setPhase(h.openai_configured ? 'idle' : 'unconfigured'))
      .catch(() => !stop && setPhase('idle'));
    return () => {
      stop = true;
    };
  }, []);

  const teardown = useCallback(() => {
    const l = live.current;
    live.current = null;
    if (!l) return;
    l.player.stop();
    l.node.port.onmessage = null;
    l.node.disconnect();
    for (const t of l.stream.getTracks()) t.stop();
    if (l.ws.readyState === WebSocket.OPEN || l.ws.readyState === WebSocket.CONNECTING) l.ws.close(1000);
    void l.ctx.close();
    URL.revokeObjectURL(l.workletUrl);
    talkingRef.current = false;
    setTalking(false);
    setLevel(0);
  }, []);
  useEffect(() => teardown, [teardown]);

  const upsertLine = useCallback((line: Line) => {
    setLines((all) => {
      const i = all.findIndex((l) => l.key === line.key);
      if (i === -1) return [...all, line].slice(-50);
      const next = all.slice();
      next[i] = line;
      return next;
    });
  }, []);

  const onEvent = useCallback(
    (event: VoiceServerEvent) => {
      switch (event.type) {
        case 'voice-connected':
          setMode(event.mode);
          setPhase('ready');
          return;
        case 'transcript':
          upsertLine({ key: `${event.role}:${event.itemId}`, role: event.role, text: event.text, final: event.final });
          return;
        case 'speech_started':
          live.current?.player.stop();
          setPhase('listening');
          return;
        case 'tool_call':
          upsertLine({ key: `tool:${event.toolCallId}`, role: 'tool', text: toolLabel(event.name), final: false });
          return;
        case 'tool_result':
          upsertLine({
            key: `tool:${event.toolCallId}`,
            role: 'tool',
            text: event.ok ? toolLabel(event.name) : `${toolLabel(event.name)}: ${event.error?.message ?? 'failed'}`,
            final: true,
            ok: event.ok,
          });
          if (event.ok && event.result && 'projectId' in event.result) onProjectChanged();
          return;
        case 'usage':
          setCostMicro(event.totalCostMicro);
          return;
        case 'mode':
          setMode(event.mode);
          return;
        case 'error':
          if (event.fatal) {
            setError(event.error);
            setPhase('error');
            teardown();
          } else setError(event.error);
          return;
        default:
          return;
      }
    },
    [onProjectChanged, teardown, upsertLine],
  );

  const start = useCallback(async () => {
    setError(null);
    setPhase('connecting');
    setLines([]);
    setCostMicro(0);
    let stream: MediaStream | null = null;
    let ctx: AudioContext | null = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
      ctx = new AudioContext({ sampleRate: VOICE_SAMPLE_RATE, latencyHint: 'interactive' });
      const workletUrl = URL.createObjectURL(new Blob([CAPTURE_WORKLET_SOURCE], { type: 'text/javascript' }));
      await ctx.audioWorklet.addModule(workletUrl);
      const node = new AudioWorkletNode(ctx, 'pcm16-capture', { numberOfInputs: 1, numberOfOutputs: 0 });
      ctx.createMediaStreamSource(stream).connect(node);
      const player = new PcmPlayer(ctx, ctx.destination);
      const ws = new WebSocket(voiceUrl());
      ws.binaryType = 'arraybuffer';
      live.current = { ws, ctx, stream, node, player, workletUrl };
      let painted = 0;
      let peak = 0;
      node.port.onmessage = (e: MessageEvent<{ pcm: ArrayBuffer; level: number }>) => {
        const sending = modeRef.current === 'hands-free' || talkingRef.current;
        if (sending && ws.readyState === WebSocket.OPEN) {
          ws.send(e.data.pcm);
          sentRef.current += e.data.pcm.byteLength;
        }
        // The meter and counters repaint at most 10 times a second (frames come every 20 ms).
        peak = Math.max(peak, e.data.level);
        const now = performance.now();
        if (now - painted >= 100) {
          painted = now;
          setLevel(peak);
          setSent(sentRef.current);
          peak = 0;
        }
      };
      ws.onopen = () =>
        ws.send(JSON.stringify({ type: 'voice-connect', voice: 'alloy', mode: modeRef.current, projectId }));
      ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => {
        if (typeof e.data === 'string') return onEvent(JSON.parse(e.data) as VoiceServerEvent);
        setPhase('speaking');
        player.enqueue(e.data, () => {
          setPlayed(player.played);
          if (!player.playing) setPhase((p) => (p === 'speaking' ? 'ready' : p));
        });
      };
      ws.onclose = (e) => {
        if (live.current?.ws !== ws) return;
        teardown();
        setPhase((p) => (p === 'error' ? p : 'idle'));
        if (e.code !== 1000 && e.code !== 1005) setError((msg) => msg ?? 'The voice connection closed');
      };
    } catch (err) {
      if (stream) for (const t of stream.getTracks()) t.stop();
      if (ctx) void ctx.close();
      live.current = null;
      setPhase('error');
      setError(
        err instanceof DOMException && err.name === 'NotAllowedError'
          ? 'Microphone access was refused: allow it in the browser to talk to the studio'
          : `Voice could not start: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }, [onEvent, projectId, teardown]);

  const pressTalk = useCallback(() => {
    if (!live.current || modeRef.current !== 'push-to-talk') return;
    // Talking over the answer stops it, here and upstream.
    if (live.current.player.playing && live.current.ws.readyState === WebSocket.OPEN) {
      live.current.ws.send(JSON.stringify({ type: 'interrupt' }));
    }
    live.current.player.stop();
    talkingRef.current = true;
    setTalking(true);
    setPhase('listening');
  }, []);
  const releaseTalk = useCallback(() => {
    if (!talkingRef.current) return;
    talkingRef.current = false;
    setTalking(false);
    setPhase('ready');
    live.current?.ws.send(JSON.stringify({ type: 'commit' }));
  }, []);

  const changeMode = (next: VoiceMode) => {
    modeRef.current = next;
    setMode(next);
    const ws = live.current?.ws;
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'mode', mode: next }));
  };

  const active = live.current !== null && phase !== 'error';
  const stateText = phase === 'ready' && mode === 'hands-free' ? 'Ready: just talk.' : PHASE_TEXT[phase];
  return (
    <section
      className="voice-panel"
      aria-labelledby="voice-heading"
      data-testid="voice-panel"
      data-phase={phase}
      data-played-samples={played}
      data-sent-bytes={sent}
    >
      <h2 id="voice-heading" className="panel-heading">
        Voice
      </h2>
      <p className="small muted" role="status" data-testid="voice-state">
        {stateText}
      </p>
      {phase === 'unconfigured' ? null : !active ? (
        <button
          type="button"
          className="button button-small"
          data-testid="voice-start"
          disabled={phase === 'checking' || phase === 'connecting'}
          onClick={() => void start()}
        >
          {phase === 'connecting' ? 'Connecting…' : 'Start voice'}
        </button>
      ) : (
        <div className="voice-controls">
          <fieldset className="voice-mode">
            <legend className="small">Mode</legend>
            <label className="small">
              <input
                type="radio"
                name="voice-mode"
                checked={mode === 'push-to-talk'}
                onChange={() => changeMode('push-to-talk')}
              />{' '}
              Push to talk
            </label>
            <label className="small">
              <input
                type="radio"
                name="voice-mode"
                checked={mode === 'hands-free'}
                onChange={() => changeMode('hands-free')}
              />{' '}
              Hands-free
            </label>
          </fieldset>
          {mode === 'push-to-talk' && (
            <button
              type="button"
              className={`button voice-talk${talking ? ' is-talking' : ''}`}
              data-testid="voice-talk"
              aria-pressed={talking}
              disabled={phase === 'connecting'}
              onPointerDown={pressTalk}
              onPointerUp={releaseTalk}
              onPointerLeave={releaseTalk}
              onKeyDown={(e) => {
                if (e.key === ' ' && !e.repeat) {
                  e.preventDefault();
                  pressTalk();
                }
              }}
              onKeyUp={(e) => {
                if (e.key === ' ') releaseTalk();
              }}
            >
              {talking ? 'Release to send' : 'Hold to talk'}
            </button>
          )}
          <meter className="voice-level" aria-label="Microphone level" min={0} max={0.5} value={Math.min(level, 0.5)} />
          <button
            type="button"
            className="button button-small button-secondary"
            data-testid="voice-stop"
            onClick={() => {
              teardown();
              setPhase('idle');
            }}
          >
            Stop voice
          </button>
        </div>
      )}
      {error && (
        <p className="small error" role="alert" data-testid="voice-error">
          {error}
        </p>
      )}
      {lines.length > 0 && (
        <ol className="voice-transcript" aria-label="Voice transcript" data-testid="voice-transcript">
          {lines.map((l) => (
            <li key={l.key} className={`voice-line voice-${l.role}${l.final ? '' : ' is-partial'}`}>
              {l.role === 'tool' ? (l.final ? (l.ok ? '✓ ' : '✗ ') : '… ') : ''}
              {l.text}
            </li>
          ))}
        </ol>
      )}
      {costMicro > 0 && <p className="small muted">This session: {formatUsd(costMicro)}</p>}
    </section>
  );
}
