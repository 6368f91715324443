/**
 * The studio (`/projects/:id`): transport on top, the library with the generate panel docked beside the timeline,
 * and the audio engine playing the arrangement. This screen wires them together: the engine follows the project's
 * state (and fader moves before they are saved), edits go through the project session, meters are painted while
 * playing, keyboard shortcuts act on the selection, and `window.__dawg` exposes the engine to browser tests.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { Link, useParams } from 'react-router';
import { LIMITS, type TimeSignature } from '@dawg/shared';
import { ErrorPanel } from '../../components/error-boundary';
import { useToast } from '../../components/toasts';
import { AudioEngine, installTestHooks } from '../../audio/engine';
import type { LaneMix } from '../../audio/mix';
import { errorCode, errorsFromFailure } from '../../lib/form-errors';
import { trpc } from '../../lib/trpc';
import { usePageTitle } from '../../lib/use-page-title';
import { nextLaneColor, sortedLanes } from '../../studio/arrangement';
import { ChatPanel } from '../../studio/chat-panel';
import { GeneratePanel } from '../../studio/generate-panel';
import { Library } from '../../studio/library';
import { paintMeters } from '../../studio/meters';
import { PresenceAvatars } from '../../studio/presence';
import { SHORTCUTS, shortcutFor, type ShortcutAction } from '../../studio/shortcuts';
import { StudioIoPanel } from '../../studio/studio-io-panel';
import { barSeconds, formatBarsBeats, type Tempo } from '../../studio/time';
import { Timeline, type LoopState, type TimelineHandle } from '../../studio/timeline';
import { Transport } from '../../studio/transport';
import { TrackDragController, TrackDragProvider, type DraggedTrack } from '../../studio/track-drag';
import { TrackMedia, TrackMediaProvider } from '../../studio/track-media';
import type { ArrangementOp, ProjectState, Track } from '../../studio/types';
import { useProjectSession, type ProjectSession } from '../../studio/use-project-session';
import { VoicePanel } from '../../studio/voice-panel';

export function StudioPage() {
  const { id = '' } = useParams();
  const utils = trpc.useUtils();
  const { notify } = useToast();
  const media = useMemo(() => new TrackMedia((trackId) => utils.client.track.urls.query({ id: trackId })), [utils]);
  const [engine, setEngine] = useState<AudioEngine | null>(null);
  const [drag] = useState(() => new TrackDragController());
  const session = useProjectSession(id);
  usePageTitle(session.state?.project.name ?? 'Studio');

  // Made in an effect (not a memo) so React's development double-mount disposes one engine and builds another.
  useEffect(() => {
    const created = new AudioEngine({
      loadAudio: (trackId, signal) => media.audio(trackId, signal),
      onLoadError: (_trackId, err) => {
        const message = err instanceof Error && !('data' in err) ? err.message : errorsFromFailure(err, []).form;
        notify(`Some audio could not be loaded, so its clips stay silent. ${message ?? ''}`, { tone: 'error' });
      },
    });
    setEngine(created);
    const removeHooks = installTestHooks(created);
    return () => {
      removeHooks();
      created.dispose();
    };
  }, [media, notify]);

  useEffect(() => () => drag.cancel(), [drag]);

  if (session.error && !session.state) {
    const code = errorCode(session.error);
    if (code === 'NOT_FOUND' || code === 'BAD_REQUEST') {
      return (
        <section className="page" aria-labelledby="studio-missing">
          <h1 id="studio-missing">Project not found</h1>
          <p>
            This project does not exist or is not shared with you. <Link to="/">Back to your projects</Link>.
          </p>
        </section>
      );
    }
    return <ErrorPanel message={errorsFromFailure(session.error, []).form ?? ''} onRetry={session.refetch} />;
  }
  if (!session.state || !engine) {
    return (
      <p className="page muted" aria-busy="true" data-testid="studio-loading">
        Loading the project…
      </p>
    );
  }
  return (
    <TrackMediaProvider value={media}>
      <TrackDragProvider value={drag}>
        <Studio session={session} state={session.state} engine={engine} media={media} />
      </TrackDragProvider>
    </TrackMediaProvider>
  );
}

interface StudioProps {
  session: ProjectSession;
  state: ProjectState;
  engine: AudioEngine;
  media: TrackMedia;
}

function Studio({ session, state, engine, media }: StudioProps) {
  const rootRef = useRef<HTMLDivElement>(null);
  const timelineRef = useRef<TimelineHandle>(null);
  const { readOnly } = session;
  const project = state.project;
  const tempo: Tempo = useMemo(
    () => ({ bpm: project.bpm, timeSignature: project.timeSignature }),
    [project.bpm, project.timeSignature],
  );
  const lanes = useMemo(() => sortedLanes(state.lanes), [state.lanes]);
  const [selectedLaneId, setSelectedLaneId] = useState<string | null>(null);
  const [selectedClipId, setSelectedClipId] = useState<string | null>(null);
  const [loop, setLoop] = useState<LoopState>({ enabled: false, startSec: 0, endSec: 0 });
  const [announcement, setAnnouncement] = useState({ text: '', n: 0 });
  const [libraryTracks, setLibraryTracks] = useState<readonly Track[]>([]);
  const drafts = useRef(new Map<string, { gainDb?: number; pan?: number }>());
  const snapshot = useSyncExternalStore(engine.subscribe, engine.getSnapshot);

  // Tracks the arrangement uses but the library may not list (a collaborator's, or beyond the first page).
  const projectTracks = trpc.track.list.useQuery({ projectId: project.id, limit: 100 });
  const tracks = useMemo(() => {
    const map = new Map<string, Track>();
    for (const t of projectTracks.data?.items ?? []) map.set(t.id, t);
    for (const t of libraryTracks) map.set(t.id, t);
    return map;
  }, [projectTracks.data, libraryTracks]);
  const usedTrackIds = useMemo(() => [...new Set(state.clips.map((c) => c.trackId))], [state.clips]);
  const missingTrack = usedTrackIds.some((trackId) => !tracks.has(trackId));
  const { refetch: refetchProjectTracks } = projectTracks;
  useEffect(() => {
    if (missingTrack && !projectTracks.isFetching) void refetchProjectTracks();
  }, [missingTrack, projectTracks.isFetching, refetchProjectTracks]);

  const announce = useCallback((text: string) => setAnnouncement((a) => ({ text, n: a.n + 1 })), []);
  const playhead = useCallback(() => engine.position(), [engine]);

  // ---- The engine follows the arrangement -------------------------------------------------------------------------

  const syncEngine = useCallback(() => {
    const mix: LaneMix[] = state.lanes.map((lane) => ({ ...lane, ...drafts.current.get(lane.id) }));
    engine.setArrangement(mix, state.clips);
  }, [engine, state.lanes, state.clips]);
  useEffect(syncEngine, [syncEngine]);
  useEffect(() => {
    void engine.preload(usedTrackIds);
  }, [engine, usedTrackIds]);
  useEffect(() => {
    engine.setLoop(loop.enabled && loop.endSec > loop.startSec ? loop : null);
  }, [engine, loop]);

  const onLaneDraft = useCallback(
    (laneId: string, patch: { gainDb?: number; pan?: number } | null) => {
      if (patch) drafts.current.set(laneId, patch);
      else drafts.current.delete(laneId);
      syncEngine();
    },
    [syncEngine],
  );

  // Meters run only while playing, and fall to silence at once when playback stops.
  useEffect(() => {
    const root = rootRef.current;
    if (!root) return;
    if (snapshot.state !== 'playing') {
      paintMeters(root, engine, false);
      return;
    }
    let raf = 0;
    const frame = () => {
      paintMeters(root, engine, true);
      raf = requestAnimationFrame(frame);
    };
    raf = requestAnimationFrame(frame);
    return () => cancelAnimationFrame(raf);
  }, [engine, snapshot.state]);

  // ---- Edits ------------------------------------------------------------------------------------------------------

  const apply = useCallback(
    (ops: ArrangementOp[]) => {
      if (readOnly) {
        announce('You can view this project but not change it.');
        return;
      }
      session.apply(ops);
    },
    [readOnly, session, announce],
  );

  const addLane = useCallback(() => {
    if (readOnly) return;
    if (lanes.length >= LIMITS.LANES_PER_PROJECT) {
      announce(`A project has at most ${LIMITS.LANES_PER_PROJECT} lanes.`);
      return;
    }
    const laneId = crypto.randomUUID();
    apply([{ type: 'addLane', lane: { id: laneId, name: `Lane ${lanes.length + 1}`, color: nextLaneColor(lanes) } }]);
    setSelectedLaneId(laneId);
    announce(`Lane ${lanes.length + 1} added.`);
  }, [apply, announce, lanes, readOnly]);

  /** "Add" from the library or a finished generation: the selected lane (or a new one), at the playhead. */
  const addTrack = useCallback(
    (track: DraggedTrack) => {
      if (readOnly || !(track.durationSec > 0)) return;
      const startSec = Math.round(engine.position() * 1e6) / 1e6;
      const ops: ArrangementOp[] = [];
      let laneId = selectedLaneId && lanes.some((l) => l.id === selectedLaneId) ? selectedLaneId : null;
      if (!laneId) {
        if (lanes.length >= LIMITS.LANES_PER_PROJECT) {
          announce(`A project has at most ${LIMITS.LANES_PER_PROJECT} lanes.`);
          return;
        }
        laneId = crypto.randomUUID();
        const name = track.title.trim().slice(0, LIMITS.LANE_NAME_MAX_CHARS) || `Lane ${lanes.length + 1}`;
        ops.push({ type: 'addLane', lane: { id: laneId, name, color: nextLaneColor(lanes) } });
      }
      const clipId = crypto.randomUUID();
      ops.push({
        type: 'addClip',
        clip: { id: clipId, laneId, trackId: track.trackId, startSec, offsetSec: 0, lengthSec: track.durationSec },
      });
      apply(ops);
      setSelectedLaneId(laneId);
      setSelectedClipId(clipId);
      announce(`${track.title} added at bar ${formatBarsBeats(startSec, tempo)}.`);
    },
    [apply, announce, engine, lanes, readOnly, selectedLaneId, tempo],
  );

  const toggleLoop = useCallback(() => {
    setLoop((current) => {
      if (current.endSec > current.startSec) return { ...current, enabled: !current.enabled };
      // No region yet: four bars from the bar the playhead is in.
      const bar = barSeconds(tempo);
      const start = Math.floor(engine.position() / bar) * bar;
      return { enabled: true, startSec: start, endSec: start + 4 * bar };
    });
  }, [engine, tempo]);

  const loopAnnounced = useRef(loop.enabled);
  useEffect(() => {
    if (loopAnnounced.current === loop.enabled) return;
    loopAnnounced.current = loop.enabled;
    announce(
      loop.enabled
        ? `Loop on, bars ${formatBarsBeats(loop.startSec, tempo)} to ${formatBarsBeats(loop.endSec, tempo)}.`
        : 'Loop off.',
    );
  }, [loop, tempo, announce]);

  // ---- Keyboard shortcuts -----------------------------------------------------------------------------------------

  const actions = useRef<Record<ShortcutAction, () => void>>(null!);
  actions.current = {
    playPause: () => (engine.state === 'playing' ? engine.pause() : void engine.play()),
    stop: () => engine.stop(),
    toStart: () => engine.seek(0),
    toggleLoop,
    undo: () => !readOnly && state.canUndo && session.undo(),
    redo: () => !readOnly && state.canRedo && session.redo(),
    zoomIn: () => timelineRef.current?.zoomBy(1.5),
    zoomOut: () => timelineRef.current?.zoomBy(1 / 1.5),
    deleteClip: () => {
      const clip = state.clips.find((c) => c.id === selectedClipId);
      if (!clip || readOnly) return;
      apply([{ type: 'removeClip', clipId: clip.id }]);
      setSelectedClipId(null);
      announce(`Clip removed. Undo brings it back.`);
    },
    muteLane: () => {
      const lane = lanes.find((l) => l.id === selectedLaneId);
      if (!lane) return;
      apply([{ type: 'updateLane', laneId: lane.id, mute: !lane.mute }]);
      announce(`${lane.name} ${lane.mute ? 'unmuted' : 'muted'}.`);
    },
    soloLane: () => {
      const lane = lanes.find((l) => l.id === selectedLaneId);
      if (!lane) return;
      apply([{ type: 'updateLane', laneId: lane.id, solo: !lane.solo }]);
      announce(`${lane.name} ${lane.solo ? 'no longer soloed' : 'soloed'}.`);
    },
    addLane,
  };
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.repeat) return;
      const target = e.target instanceof HTMLElement ? e.target : null;
      // A dialog or menu open on top owns the keyboard.
      if (target?.closest('dialog')) return;
      const action = shortcutFor(e, target);
      if (!action) return;
      e.preventDefault();
      actions.current[action]();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);

  return (
    <div className="studio" ref={rootRef} data-testid="studio">
      <div className="studio-bar">
        <ProjectName name={project.name} readOnly={readOnly} onCommit={(name) => session.updateProject({ name })} />
        <Transport
          engine={engine}
          tempo={tempo}
          loopEnabled={loop.enabled}
          onToggleLoop={toggleLoop}
          readOnly={readOnly}
          onTempo={(bpm) => session.updateProject({ bpm })}
          onTimeSignature={(value) => session.updateProject({ timeSignature: value as TimeSignature })}
          canUndo={state.canUndo}
          canRedo={state.canRedo}
          onUndo={() => actions.current.undo()}
          onRedo={() => actions.current.redo()}
          saving={session.saving}
        />
        <PresenceAvatars
          projectId={project.id}
          version={project.version}
          playhead={playhead}
          onRemoteChange={session.refetch}
        />
      </div>
      {readOnly && (
        <p className="notice studio-notice" role="status">
          You are viewing this project. Only its owner and editors can change it.
        </p>
      )}
      <div className="studio-main">
        <aside className="studio-side" aria-label="Generate and library">
          <ChatPanel projectId={project.id} onProjectChanged={session.refetch} />
          <VoicePanel projectId={project.id} onProjectChanged={session.refetch} />
          <StudioIoPanel state={state} readOnly={readOnly} onProjectChanged={session.refetch} />
          <GeneratePanel projectId={project.id} onAdd={addTrack} />
          <Library readOnly={readOnly} onAdd={addTrack} onTracks={setLibraryTracks} />
          <details className="shortcut-help">
            <summary>Keyboard shortcuts</summary>
            <dl>
              {SHORTCUTS.map((s) => (
                <div key={s.action}>
                  <dt>
                    <kbd>{s.keys}</kbd>
                  </dt>
                  <dd>{s.label}</dd>
                </div>
              ))}
            </dl>
          </details>
        </aside>
        <Timeline
          ref={timelineRef}
          state={state}
          tracks={tracks}
          engine={engine}
          media={media}
          readOnly={readOnly}
          loop={loop}
          onLoopChange={setLoop}
          selectedLaneId={selectedLaneId}
          selectedClipId={selectedClipId}
          onSelectLane={setSelectedLaneId}
          onSelectClip={setSelectedClipId}
          onApply={apply}
          onLaneDraft={onLaneDraft}
          onAddLane={addLane}
          announce={announce}
        />
      </div>
      <p className="visually-hidden" role="status" aria-live="polite" data-testid="announcer">
        {announcement.text}
        {announcement.n % 2 === 1 ? '\u200b' : ''}
      </p>
    </div>
  );
}

function ProjectName({ name, readOnly, onCommit }: { name: string; readOnly: boolean; onCommit(name: string): void }) {
  const [draft, setDraft] = useState(name);
  useEffect(() => setDraft(name), [name]);
  const commit = () => {
    const trimmed = draft.trim().slice(0, LIMITS.PROJECT_NAME_MAX_CHARS);
    if (!trimmed) setDraft(name);
    else if (trimmed !== name) onCommit(trimmed);
  };
  return (
    <div className="project-name">
      <Link to="/" className="back-link" aria-label="All projects">
        ←
      </Link>
      <h1 className="visually-hidden">{name}</h1>
      <input
        className="project-name-input"
        aria-label="Project name"
        value={draft}
        readOnly={readOnly}
        maxLength={LIMITS.PROJECT_NAME_MAX_CHARS}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') e.currentTarget.blur();
          if (e.key === 'Escape') {
            setDraft(name);
            e.currentTarget.blur();
          }
        }}
        data-testid="project-name"
      />
    </div>
  );
}
