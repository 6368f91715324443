/**
 * The arrangement timeline: a ruler (click to move the playhead, drag to set the loop) and one canvas per lane on
 * which the clips are drawn from their waveform peaks. Only what is in view is drawn: each canvas is as wide as the
 * viewport and sticks to it while the content scrolls underneath, and a redraw (one animation frame, however many
 * scroll or pointer events came in) visits only the lanes and clips that intersect the view. Clips are dragged to
 * move (also to another lane) and trimmed at their edges, snapping to the bar or beat grid (Alt bypasses the grid);
 * everything is also possible from the keyboard. Tracks dragged from the library land where they are dropped.
 */
import {
  forwardRef,
  useCallback,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent as ReactKeyboardEvent,
  type PointerEvent as ReactPointerEvent,
} from 'react';
import { LIMITS } from '@dawg/shared';
import type { AudioEngine } from '../audio/engine';
import {
  arrangementEnd,
  clipEnd,
  clipUpdateOp,
  moveClip,
  nextLaneColor,
  sortedLanes,
  trimClipEnd,
  trimClipStart,
} from './arrangement';
import { LaneHeader, type LanePatch } from './lane-header';
import {
  barSeconds,
  beatSeconds,
  clampZoom,
  DEFAULT_PX_PER_SEC,
  formatBarsBeats,
  formatDuration,
  gridSeconds,
  MAX_PX_PER_SEC,
  MIN_PX_PER_SEC,
  scrollForZoom,
  snapTime,
  type SnapMode,
  type Tempo,
} from './time';
import { useTrackDrag, type DraggedTrack } from './track-drag';
import type { TrackMedia } from './track-media';
import type { ArrangementOp, Clip, Lane, ProjectState, Track } from './types';
import { drawWaveform, fitCanvas } from './waveform';

export const HEADER_W = 232;
export const LANE_H = 96;
export const RULER_H = 32;
/** How close to a clip's edge (px) a press trims instead of moving. */
const EDGE_PX = 7;
const DRAG_START_PX = 3;

const COLORS = {
  lane: '#13151b',
  laneSelected: '#171a22',
  bar: '#2e3240',
  beat: '#1e212a',
  text: '#e8e9ee',
  muted: '#9a9fb0',
  ink: '#0e0f13',
  focus: '#ffd166',
  loop: 'rgba(139, 123, 255, 0.10)',
  loopBand: '#8b7bff',
  loopBandOff: '#4a4560',
};

export interface LoopState {
  enabled: boolean;
  startSec: number;
  endSec: number;
}

export interface TimelineHandle {
  zoomBy(factor: number): void;
}

export interface TimelineProps {
  state: ProjectState;
  tracks: ReadonlyMap<string, Track>;
  engine: AudioEngine;
  media: TrackMedia;
  readOnly: boolean;
  loop: LoopState;
  onLoopChange(loop: LoopState): void;
  selectedLaneId: string | null;
  selectedClipId: string | null;
  onSelectLane(laneId: string): void;
  onSelectClip(clipId: string | null): void;
  onApply(ops: ArrangementOp[]): void;
  onLaneDraft(laneId: string, patch: { gainDb?: number; pan?: number } | null): void;
  onAddLane(): void;
  announce(message: string): void;
}

type ClipGesture = {
  kind: 'clip';
  mode: 'move' | 'trimStart' | 'trimEnd';
  pointerId: number;
  clip: Clip;
  startX: number;
  startY: number;
  grabSec: number;
  moved: boolean;
  preview: Clip | null;
};
type RulerGesture = { kind: 'ruler'; pointerId: number; startX: number; anchorSec: number; moved: boolean };

interface DropPreview {
  laneId: string;
  startSec: number;
  lengthSec: number;
}

function clipTitle(tracks: ReadonlyMap<string, Track>, clip: Clip): string {
  return tracks.get(clip.trackId)?.title ?? 'Audio';
}

export function describeClip(clip: Clip, title: string, tempo: Tempo): string {
  return `${title}, bar ${formatBarsBeats(clip.startSec, tempo)} to ${formatBarsBeats(clipEnd(clip), tempo)}, ${formatDuration(clip.lengthSec)} long`;
}

export const Timeline = forwardRef<TimelineHandle, TimelineProps>(function Timeline(props, ref) {
  const { state, tracks, engine, media, readOnly, loop, selectedLaneId, selectedClipId } = props;
  const [pxPerSec, setPxPerSec] = useState(DEFAULT_PX_PER_SEC);
  const [snap, setSnap] = useState<SnapMode>('bar');
  const [viewWidth, setViewWidth] = useState(800);
  const scrollRef = useRef<HTMLDivElement>(null);
  const rulerRef = useRef<HTMLCanvasElement>(null);
  const playheadRef = useRef<HTMLDivElement>(null);
  const canvases = useRef(new Map<string, HTMLCanvasElement>());
  const gesture = useRef<ClipGesture | RulerGesture | null>(null);
  const dropPreview = useRef<DropPreview | null>(null);
  const loopPreview = useRef<LoopState | null>(null);
  const pendingScroll = useRef<number | null>(null);
  const frame = useRef(0);
  const drag = useTrackDrag();

  const tempo: Tempo = useMemo(
    () => ({ bpm: state.project.bpm, timeSignature: state.project.timeSignature }),
    [state.project.bpm, state.project.timeSignature],
  );
  const lanes = useMemo(() => sortedLanes(state.lanes), [state.lanes]);
  const clipsByLane = useMemo(() => {
    const map = new Map<string, Clip[]>();
    for (const lane of state.lanes) map.set(lane.id, []);
    for (const clip of state.clips) map.get(clip.laneId)?.push(clip);
    for (const list of map.values()) list.sort((a, b) => a.startSec - b.startSec || a.id.localeCompare(b.id));
    return map;
  }, [state.lanes, state.clips]);
  const bar = barSeconds(tempo);
  const contentSec = Math.max(
    arrangementEnd(state.clips) + 8 * bar,
    64 * bar,
    loop.endSec + 4 * bar,
    viewWidth / pxPerSec,
  );
  const contentPx = Math.ceil(contentSec * pxPerSec);

  // Everything the drawing code reads, refreshed on every render; drawing itself happens outside React.
  const model = useRef({ lanes, clipsByLane, tracks, tempo, pxPerSec, snap, viewWidth, loop, selectedClipId, selectedLaneId });
  model.current = { lanes, clipsByLane, tracks, tempo, pxPerSec, snap, viewWidth, loop, selectedClipId, selectedLaneId };

  const propsRef = useRef(props);
  propsRef.current = props;

  /** Client x → timeline seconds (the lane canvases all start HEADER_W px into the scroll box). */
  const timeAtClientX = useCallback((clientX: number): number => {
    const scroll = scrollRef.current;
    if (!scroll) return 0;
    const left = scroll.getBoundingClientRect().left + scroll.clientLeft + HEADER_W;
    return Math.max(0, (clientX - left + scroll.scrollLeft) / model.current.pxPerSec);
  }, []);

  const positionPlayhead = useCallback(() => {
    const playhead = playheadRef.current;
    if (!playhead) return;
    const x = HEADER_W + engine.position() * model.current.pxPerSec;
    playhead.style.transform = `translateX(${x}px)`;
  }, [engine]);

  const draw = useCallback(() => {
    frame.current = 0;
    const scroll = scrollRef.current;
    if (!scroll) return;
    const m = model.current;
    const view = { pxPerSec: m.pxPerSec, scrollLeft: scroll.scrollLeft, width: m.viewWidth };
    const loopShown = loopPreview.current ?? m.loop;
    const ruler = rulerRef.current;
    if (ruler) drawRuler(ruler, view, m.tempo, loopShown);
    const top = scroll.scrollTop;
    const bottom = top + scroll.clientHeight;
    const g = gesture.current;
    const moving = g?.kind === 'clip' && g.preview ? g.preview : null;
    m.lanes.forEach((lane, index) => {
      const rowTop = RULER_H + index * LANE_H;
      if (rowTop + LANE_H < top || rowTop > bottom) return;
      const canvas = canvases.current.get(lane.id);
      if (!canvas) return;
      let clips = m.clipsByLane.get(lane.id) ?? [];
      if (moving) {
        clips = clips.filter((c) => c.id !== moving.id);
        if (moving.laneId === lane.id) clips = [...clips, moving];
      }
      const drop = dropPreview.current?.laneId === lane.id ? dropPreview.current : null;
      drawLane(canvas, {
        lane,
        clips,
        view,
        tempo: m.tempo,
        loop: loopShown,
        selectedClipId: m.selectedClipId,
        selectedLane: m.selectedLaneId === lane.id,
        tracks: m.tracks,
        media,
        drop,
      });
    });
    positionPlayhead();
  }, [media, positionPlayhead]);

  const requestDraw = useCallback(() => {
    if (frame.current === 0) frame.current = requestAnimationFrame(draw);
  }, [draw]);

  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  // Redraw after every render (new state, zoom, selection) and whenever peaks arrive.
  useLayoutEffect(() => {
    if (pendingScroll.current !== null && scrollRef.current) {
      scrollRef.current.scrollLeft = pendingScroll.current;
      pendingScroll.current = null;
    }
    requestDraw();
  });
  useEffect(() => media.subscribe(requestDraw), [media, requestDraw]);

  useEffect(() => {
    const scroll = scrollRef.current;
    if (!scroll) return;
    const observer = new ResizeObserver(() => setViewWidth(Math.max(100, scroll.clientWidth - HEADER_W)));
    observer.observe(scroll);
    return () => observer.disconnect();
  }, []);

  // The playhead follows the audio clock while playing, and the view pages along with it.
  useEffect(() => {
    let raf = 0;
    const follow = () => {
      positionPlayhead();
      const scroll = scrollRef.current;
      if (scroll) {
        const x = engine.position() * model.current.pxPerSec;
        const width = model.current.viewWidth;
        if (x > scroll.scrollLeft + width - 24 || x < scroll.scrollLeft) scroll.scrollLeft = Math.max(0, x - 24);
      }
      raf = requestAnimationFrame(follow);
    };
    const onChange = () => {
      cancelAnimationFrame(raf);
      raf = 0;
      positionPlayhead();
      if (engine.getSnapshot().state === 'playing') raf = requestAnimationFrame(follow);
    };
    const unsubscribe = engine.subscribe(onChange);
    onChange();
    return () => {
      unsubscribe();
      cancelAnimationFrame(raf);
    };
  }, [engine, positionPlayhead]);

  const zoomTo = useCallback((next: number, anchorX?: number) => {
    const scroll = scrollRef.current;
    const m = model.current;
    const pps = clampZoom(next);
    if (!scroll || pps === m.pxPerSec) return;
    const view = { pxPerSec: m.pxPerSec, scrollLeft: scroll.scrollLeft, width: m.viewWidth };
    const playheadX = engine.position() * m.pxPerSec - scroll.scrollLeft;
    const anchor = anchorX ?? (playheadX >= 0 && playheadX <= m.viewWidth ? playheadX : m.viewWidth / 2);
    pendingScroll.current = scrollForZoom(view, pps, anchor);
    setPxPerSec(pps);
  }, [engine]);

  useImperativeHandle(ref, () => ({ zoomBy: (factor: number) => zoomTo(model.current.pxPerSec * factor) }), [zoomTo]);

  // Ctrl/⌘ + wheel zooms around the pointer; needs a non-passive listener to keep the page from zooming.
  useEffect(() => {
    const scroll = scrollRef.current;
    if (!scroll) return;
    const onWheel = (e: WheelEvent) => {
      if (!e.ctrlKey && !e.metaKey) {
        // A sideways scroll past either end would go on to the browser, which takes it as "back" or "forward".
        const sideways = Math.abs(e.deltaX) > Math.abs(e.deltaY);
        const atStart = scroll.scrollLeft <= 0 && e.deltaX < 0;
        const atEnd = scroll.scrollLeft >= scroll.scrollWidth - scroll.clientWidth - 1 && e.deltaX > 0;
        if (sideways && (atStart || atEnd)) e.preventDefault();
        return;
      }
      e.preventDefault();
      const x = e.clientX - (scroll.getBoundingClientRect().left + scroll.clientLeft + HEADER_W);
      zoomTo(model.current.pxPerSec * Math.exp(-e.deltaY * 0.002), Math.max(0, x));
    };
    scroll.addEventListener('wheel', onWheel, { passive: false });
    return () => scroll.removeEventListener('wheel', onWheel);
  }, [zoomTo]);

  // ---- Library drops ---------------------------------------------------------------------------------------------

  useEffect(() => {
    const targetAt = (x: number, y: number): HTMLElement | null =>
      document.elementFromPoint(x, y)?.closest<HTMLElement>('[data-lane-drop]') ?? null;
    let highlighted: HTMLElement | null = null;
    const highlight = (el: HTMLElement | null) => {
      if (highlighted === el) return;
      highlighted?.removeAttribute('data-drop-active');
      el?.setAttribute('data-drop-active', 'true');
      highlighted = el;
    };
    const startFor = (x: number) => snapTime(timeAtClientX(x), model.current.tempo, model.current.snap);
    return drag.register({
      hover(track: DraggedTrack, x: number, y: number) {
        const el = propsRef.current.readOnly ? null : targetAt(x, y);
        highlight(el);
        const laneId = el?.dataset.laneDrop;
        dropPreview.current =
          laneId && laneId !== 'new' ? { laneId, startSec: startFor(x), lengthSec: track.durationSec } : null;
        requestDraw();
      },
      drop(track: DraggedTrack, x: number, y: number) {
        const p = propsRef.current;
        const el = targetAt(x, y);
        const laneId = el?.dataset.laneDrop;
        if (p.readOnly || !laneId) return false;
        const startSec = startFor(x);
        const clipId = crypto.randomUUID();
        const ops: ArrangementOp[] = [];
        let targetLane = laneId;
        if (laneId === 'new') {
          if (model.current.lanes.length >= LIMITS.LANES_PER_PROJECT) {
            p.announce(`A project has at most ${LIMITS.LANES_PER_PROJECT} lanes.`);
            return false;
          }
          targetLane = crypto.randomUUID();
          const name = track.title.trim().slice(0, LIMITS.LANE_NAME_MAX_CHARS) || `Lane ${model.current.lanes.length + 1}`;
          ops.push({ type: 'addLane', lane: { id: targetLane, name, color: nextLaneColor(model.current.lanes) } });
        }
        ops.push({
          type: 'addClip',
          clip: { id: clipId, laneId: targetLane, trackId: track.trackId, startSec, offsetSec: 0, lengthSec: track.durationSec },
        });
        p.onApply(ops);
        p.onSelectLane(targetLane);
        p.onSelectClip(clipId);
        p.announce(`${track.title} placed at bar ${formatBarsBeats(startSec, model.current.tempo)}.`);
        return true;
      },
      leave() {
        highlight(null);
        dropPreview.current = null;
        requestDraw();
      },
    });
  }, [drag, requestDraw, timeAtClientX]);

  // ---- Clip gestures ---------------------------------------------------------------------------------------------

  const hitClip = (laneId: string, clientX: number): { clip: Clip; mode: ClipGesture['mode'] } | null => {
    const t = timeAtClientX(clientX);
    const pps = model.current.pxPerSec;
    const clips = model.current.clipsByLane.get(laneId) ?? [];
    for (let i = clips.length - 1; i >= 0; i--) {
      const clip = clips[i];
      if (!clip || t < clip.startSec || t > clipEnd(clip)) continue;
      const widthPx = clip.lengthSec * pps;
      const edge = Math.min(EDGE_PX, widthPx / 4);
      const fromStart = (t - clip.startSec) * pps;
      const fromEnd = (clipEnd(clip) - t) * pps;
      return { clip, mode: fromStart <= edge ? 'trimStart' : fromEnd <= edge ? 'trimEnd' : 'move' };
    }
    return null;
  };

  const onLanePointerDown = (e: ReactPointerEvent<HTMLCanvasElement>, lane: Lane) => {
    if (e.button !== 0) return;
    const p = propsRef.current;
    p.onSelectLane(lane.id);
    e.currentTarget.focus({ preventScroll: true });
    const hit = hitClip(lane.id, e.clientX);
    if (!hit) {
      p.onSelectClip(null);
      engine.seek(snapTime(timeAtClientX(e.clientX), model.current.tempo, e.altKey ? 'off' : model.current.snap));
      return;
    }
    p.onSelectClip(hit.clip.id);
    if (p.readOnly) return;
    e.preventDefault();
    e.currentTarget.setPointerCapture(e.pointerId);
    gesture.current = {
      kind: 'clip',
      mode: hit.mode,
      pointerId: e.pointerId,
      clip: hit.clip,
      startX: e.clientX,
      startY: e.clientY,
      grabSec: timeAtClientX(e.clientX) - hit.clip.startSec,
      moved: false,
      preview: null,
    };
  };

  const onLanePointerMove = (e: ReactPointerEvent<HTMLCanvasElement>, lane: Lane) => {
    const g = gesture.current;
    if (!g || g.kind !== 'clip' || g.pointerId !== e.pointerId) {
      if (!propsRef.current.readOnly) {
        const hit = hitClip(lane.id, e.clientX);
        e.currentTarget.style.cursor = !hit ? 'text' : hit.mode === 'move' ? 'grab' : 'ew-resize';
      }
      return;
    }
    if (!g.moved && Math.hypot(e.clientX - g.startX, e.clientY - g.startY) < DRAG_START_PX) return;
    g.moved = true;
    const m = model.current;
    const snapMode = e.altKey ? 'off' : m.snap;
    const t = timeAtClientX(e.clientX);
    if (g.mode === 'move') {
      const over = document.elementFromPoint(e.clientX, e.clientY)?.closest<HTMLElement>('[data-lane-id]');
      const laneId = over?.dataset.laneId ?? g.clip.laneId;
      g.preview = moveClip(g.clip, snapTime(t - g.grabSec, m.tempo, snapMode), laneId);
      e.currentTarget.style.cursor = 'grabbing';
    } else if (g.mode === 'trimStart') {
      g.preview = trimClipStart(g.clip, snapTime(t, m.tempo, snapMode));
    } else {
      const duration = m.tracks.get(g.clip.trackId)?.durationSec;
      g.preview = trimClipEnd(g.clip, snapTime(t, m.tempo, snapMode), duration);
    }
    requestDraw();
  };

  const onLanePointerUp = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const g = gesture.current;
    if (!g || g.kind !== 'clip' || g.pointerId !== e.pointerId) return;
    gesture.current = null;
    if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId);
    if (g.moved && g.preview) {
      const op = clipUpdateOp(g.clip, g.preview);
      if (op) {
        propsRef.current.onApply([op]);
        const verb = g.mode === 'move' ? 'Moved' : 'Trimmed';
        propsRef.current.announce(`${verb}: ${describeClip(g.preview, clipTitle(tracks, g.preview), tempo)}.`);
      }
    }
    requestDraw();
  };

  const onLanePointerCancel = () => {
    gesture.current = null;
    requestDraw();
  };

  const focusLane = (laneId: string) => {
    canvases.current.get(laneId)?.focus();
    propsRef.current.onSelectLane(laneId);
  };

  const onLaneKeyDown = (e: ReactKeyboardEvent<HTMLCanvasElement>, lane: Lane) => {
    const p = propsRef.current;
    const m = model.current;
    const clips = m.clipsByLane.get(lane.id) ?? [];
    const index = clips.findIndex((c) => c.id === m.selectedClipId);
    const selected = index >= 0 ? clips[index] : undefined;
    const step = gridSeconds(m.tempo, m.snap) ?? beatSeconds(m.tempo);
    const plain = !e.altKey && !e.ctrlKey && !e.metaKey && !e.shiftKey;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      const dir = e.key === 'ArrowRight' ? 1 : -1;
      if (e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        if (!selected || p.readOnly) return;
        const next = e.shiftKey
          ? trimClipEnd(selected, clipEnd(selected) + dir * step, m.tracks.get(selected.trackId)?.durationSec)
          : moveClip(selected, snapTime(selected.startSec + dir * step, m.tempo, m.snap));
        const op = clipUpdateOp(selected, next);
        if (op) p.onApply([op]);
        p.announce(describeClip(next, clipTitle(m.tracks, next), m.tempo));
      } else if (plain) {
        e.preventDefault();
        if (clips.length === 0) {
          p.announce(`${lane.name} has no clips.`);
          return;
        }
        const nextIndex = index < 0 ? (dir > 0 ? 0 : clips.length - 1) : Math.max(0, Math.min(clips.length - 1, index + dir));
        const clip = clips[nextIndex];
        if (!clip) return;
        p.onSelectClip(clip.id);
        const scroll = scrollRef.current;
        if (scroll) {
          const x = clip.startSec * m.pxPerSec;
          if (x < scroll.scrollLeft || x > scroll.scrollLeft + m.viewWidth - 40) scroll.scrollLeft = Math.max(0, x - 40);
        }
        p.announce(`Clip ${nextIndex + 1} of ${clips.length}: ${describeClip(clip, clipTitle(m.tracks, clip), m.tempo)}.`);
      }
    } else if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      const laneIndex = m.lanes.findIndex((l) => l.id === lane.id);
      const target = m.lanes[laneIndex + (e.key === 'ArrowDown' ? 1 : -1)];
      if (e.altKey && !e.ctrlKey && !e.metaKey) {
        e.preventDefault();
        if (!selected || !target || p.readOnly) return;
        const next = moveClip(selected, selected.startSec, target.id);
        const op = clipUpdateOp(selected, next);
        if (op) p.onApply([op]);
        focusLane(target.id);
        p.announce(`Moved to ${target.name}: ${describeClip(next, clipTitle(m.tracks, next), m.tempo)}.`);
      } else if (plain && target) {
        e.preventDefault();
        focusLane(target.id);
      }
    }
  };

  // ---- Ruler: click to move the playhead, drag to set the loop, arrows to step -------------------------------------

  const onRulerPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    gesture.current = {
      kind: 'ruler',
      pointerId: e.pointerId,
      startX: e.clientX,
      anchorSec: timeAtClientX(e.clientX),
      moved: false,
    };
  };

  const onRulerPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const g = gesture.current;
    if (!g || g.kind !== 'ruler' || g.pointerId !== e.pointerId) return;
    if (!g.moved && Math.abs(e.clientX - g.startX) < DRAG_START_PX) return;
    g.moved = true;
    const m = model.current;
    const snapMode = e.altKey ? 'off' : m.snap;
    const a = snapTime(g.anchorSec, m.tempo, snapMode);
    const b = snapTime(timeAtClientX(e.clientX), m.tempo, snapMode);
    loopPreview.current = { enabled: true, startSec: Math.min(a, b), endSec: Math.max(a, b) };
    requestDraw();
  };

  const onRulerPointerUp = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const g = gesture.current;
    if (!g || g.kind !== 'ruler' || g.pointerId !== e.pointerId) return;
    gesture.current = null;
    const m = model.current;
    const preview = loopPreview.current;
    loopPreview.current = null;
    if (g.moved && preview && preview.endSec > preview.startSec) {
      propsRef.current.onLoopChange(preview);
      propsRef.current.announce(
        `Loop from bar ${formatBarsBeats(preview.startSec, m.tempo)} to bar ${formatBarsBeats(preview.endSec, m.tempo)}.`,
      );
    } else if (!g.moved) {
      engine.seek(snapTime(g.anchorSec, m.tempo, e.altKey ? 'off' : m.snap));
    }
    requestDraw();
  };

  const onRulerKeyDown = (e: ReactKeyboardEvent<HTMLCanvasElement>) => {
    const m = model.current;
    const step = gridSeconds(m.tempo, m.snap) ?? beatSeconds(m.tempo);
    let target: number | null = null;
    if (e.key === 'ArrowRight') target = snapTime(engine.position() + step, m.tempo, m.snap);
    else if (e.key === 'ArrowLeft') target = snapTime(engine.position() - step, m.tempo, m.snap);
    else if (e.key === 'PageDown') target = engine.position() + 4 * barSeconds(m.tempo);
    else if (e.key === 'PageUp') target = Math.max(0, engine.position() - 4 * barSeconds(m.tempo));
    else if (e.key === 'End') target = arrangementEnd(state.clips);
    if (target === null) return;
    e.preventDefault();
    engine.seek(target);
    propsRef.current.announce(`Playhead at bar ${formatBarsBeats(target, m.tempo)}.`);
  };

  const zoomLevel = Math.log2(pxPerSec);

  return (
    <section className="timeline" aria-label="Timeline">
      <div className="timeline-toolbar">
        <div className="toolbar-group" role="group" aria-label="Zoom">
          <button type="button" className="icon-button" aria-label="Zoom out" onClick={() => zoomTo(pxPerSec / 1.5)}>
            −
          </button>
          <input
            type="range"
            className="zoom-slider"
            aria-label="Zoom"
            min={Math.log2(MIN_PX_PER_SEC)}
            max={Math.log2(MAX_PX_PER_SEC)}
            step={0.1}
            value={zoomLevel}
            aria-valuetext={`${Math.round(pxPerSec)} pixels per second`}
            onChange={(e) => zoomTo(2 ** Number(e.target.value))}
          />
          <button type="button" className="icon-button" aria-label="Zoom in" onClick={() => zoomTo(pxPerSec * 1.5)}>
            +
          </button>
        </div>
        <label className="toolbar-field">
          Snap
          <select className="input input-compact" value={snap} onChange={(e) => setSnap(e.target.value as SnapMode)}>
            <option value="bar">Bar</option>
            <option value="beat">Beat</option>
            <option value="off">Off</option>
          </select>
        </label>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={props.onAddLane}
          aria-disabled={readOnly || lanes.length >= LIMITS.LANES_PER_PROJECT || undefined}
        >
          Add lane
        </button>
        <p className="toolbar-hint muted">Drag clips to move, edges to trim; Alt ignores the grid.</p>
      </div>
      <div className="timeline-scroll" ref={scrollRef} onScroll={requestDraw} data-testid="timeline-scroll">
        <div
          className="timeline-content"
          style={{ width: HEADER_W + contentPx, height: RULER_H + (lanes.length + 1) * LANE_H }}
        >
          <div className="timeline-ruler-row">
            <div className="timeline-corner muted">
              {lanes.length} {lanes.length === 1 ? 'lane' : 'lanes'}
            </div>
            <div className="lane-track" style={{ width: contentPx }}>
              <canvas
                ref={rulerRef}
                className="timeline-ruler"
                style={{ width: viewWidth, height: RULER_H }}
                tabIndex={0}
                role="slider"
                aria-label="Playhead (click to move it, drag to set the loop)"
                aria-valuemin={0}
                aria-valuemax={Math.round(contentSec)}
                aria-valuenow={Math.round(engine.position())}
                aria-valuetext={`bar ${formatBarsBeats(engine.position(), tempo)}`}
                data-testid="timeline-ruler"
                onPointerDown={onRulerPointerDown}
                onPointerMove={onRulerPointerMove}
                onPointerUp={onRulerPointerUp}
                onPointerCancel={onLanePointerCancel}
                onKeyDown={onRulerKeyDown}
              />
            </div>
          </div>
          {lanes.map((lane) => {
            const count = clipsByLane.get(lane.id)?.length ?? 0;
            return (
              <div
                key={lane.id}
                className={`lane-row${lane.id === selectedLaneId ? ' lane-row-selected' : ''}`}
                data-lane-id={lane.id}
                data-testid="lane-row"
              >
                <LaneHeader
                  lane={lane}
                  selected={lane.id === selectedLaneId}
                  readOnly={readOnly}
                  onSelect={() => props.onSelectLane(lane.id)}
                  onCommit={(patch: LanePatch) => props.onApply([{ type: 'updateLane', laneId: lane.id, ...patch }])}
                  onDraft={(patch) => props.onLaneDraft(lane.id, patch)}
                  onRemove={() => {
                    props.onApply([{ type: 'removeLane', laneId: lane.id }]);
                    props.announce(`Lane ${lane.name} removed. Undo brings it back.`);
                  }}
                />
                <div className="lane-track" data-lane-drop={lane.id} style={{ width: contentPx }}>
                  <canvas
                    ref={(el) => {
                      if (el) canvases.current.set(lane.id, el);
                      else canvases.current.delete(lane.id);
                    }}
                    className="lane-canvas"
                    style={{ width: viewWidth, height: LANE_H }}
                    tabIndex={0}
                    role="group"
                    aria-roledescription="lane"
                    aria-label={`${lane.name}: ${count} ${count === 1 ? 'clip' : 'clips'}`}
                    aria-describedby="timeline-keys"
                    data-testid="lane-canvas"
                    onPointerDown={(e) => onLanePointerDown(e, lane)}
                    onPointerMove={(e) => onLanePointerMove(e, lane)}
                    onPointerUp={onLanePointerUp}
                    onPointerCancel={onLanePointerCancel}
                    onKeyDown={(e) => onLaneKeyDown(e, lane)}
                    onFocus={() => props.onSelectLane(lane.id)}
                  />
                </div>
              </div>
            );
          })}
          <div className="lane-row lane-row-new">
            <div className="lane-header lane-header-new">
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={props.onAddLane}
                aria-disabled={readOnly || lanes.length >= LIMITS.LANES_PER_PROJECT || undefined}
              >
                Add lane
              </button>
            </div>
            <div className="lane-track lane-drop-new" data-lane-drop="new" data-testid="new-lane-drop" style={{ width: contentPx }}>
              <p className="lane-drop-text" style={{ width: viewWidth }}>
                {lanes.length === 0
                  ? 'Drag a track from the library here to start your arrangement.'
                  : 'Drop a track here to put it on a new lane.'}
              </p>
            </div>
          </div>
          <div className="playhead" ref={playheadRef} aria-hidden="true" />
        </div>
      </div>
      <p id="timeline-keys" className="visually-hidden">
        Left and right arrows select clips; Alt with left or right moves the selected clip by the grid, Alt Shift
        trims its end, Alt with up or down moves it to another lane; Delete removes it. Up and down arrows move between
        lanes.
      </p>
    </section>
  );
});

interface View {
  pxPerSec: number;
  scrollLeft: number;
  width: number;
}

function drawGrid(ctx: CanvasRenderingContext2D, view: View, tempo: Tempo, height: number, ruler: boolean): void {
  const bar = barSeconds(tempo);
  const beat = beatSeconds(tempo);
  const barPx = bar * view.pxPerSec;
  const beatPx = beat * view.pxPerSec;
  const from = view.scrollLeft / view.pxPerSec;
  const to = (view.scrollLeft + view.width) / view.pxPerSec;
  // Bars shown every 1, 2, 4, … so lines are at least 6 px apart and labels at least 48 px.
  let every = 1;
  while (every * barPx < 6) every *= 2;
  let labelEvery = every;
  while (labelEvery * barPx < 48) labelEvery *= 2;
  if (beatPx >= 10) {
    ctx.fillStyle = COLORS.beat;
    const first = Math.floor(from / beat);
    for (let i = first; i * beat <= to; i++) {
      const x = Math.round(i * beat * view.pxPerSec - view.scrollLeft);
      ctx.fillRect(x, ruler ? height - 6 : 0, 1, ruler ? 6 : height);
    }
  }
  const firstBar = Math.floor(from / bar / every) * every;
  ctx.font = '11px system-ui, sans-serif';
  for (let i = firstBar; i * bar <= to; i += every) {
    const x = Math.round(i * bar * view.pxPerSec - view.scrollLeft);
    ctx.fillStyle = COLORS.bar;
    ctx.fillRect(x, ruler ? height - 12 : 0, 1, ruler ? 12 : height);
    if (ruler && i % labelEvery === 0) {
      ctx.fillStyle = COLORS.muted;
      ctx.fillText(String(i + 1), x + 3, 12);
    }
  }
}

function drawRuler(canvas: HTMLCanvasElement, view: View, tempo: Tempo, loop: LoopState): void {
  const ctx = fitCanvas(canvas, view.width, RULER_H);
  if (!ctx) return;
  ctx.fillStyle = '#171920';
  ctx.fillRect(0, 0, view.width, RULER_H);
  if (loop.endSec > loop.startSec) {
    const x0 = loop.startSec * view.pxPerSec - view.scrollLeft;
    const x1 = loop.endSec * view.pxPerSec - view.scrollLeft;
    ctx.fillStyle = loop.enabled ? COLORS.loopBand : COLORS.loopBandOff;
    ctx.globalAlpha = loop.enabled ? 0.55 : 0.4;
    ctx.fillRect(x0, 16, x1 - x0, 8);
    ctx.globalAlpha = 1;
  }
  drawGrid(ctx, view, tempo, RULER_H, true);
  ctx.fillStyle = COLORS.bar;
  ctx.fillRect(0, RULER_H - 1, view.width, 1);
}

interface LaneDrawing {
  lane: Lane;
  clips: readonly Clip[];
  view: View;
  tempo: Tempo;
  loop: LoopState;
  selectedClipId: string | null;
  selectedLane: boolean;
  tracks: ReadonlyMap<string, Track>;
  media: TrackMedia;
  drop: DropPreview | null;
}

function drawLane(canvas: HTMLCanvasElement, d: LaneDrawing): void {
  const { view } = d;
  const ctx = fitCanvas(canvas, view.width, LANE_H);
  if (!ctx) return;
  ctx.fillStyle = d.selectedLane ? COLORS.laneSelected : COLORS.lane;
  ctx.fillRect(0, 0, view.width, LANE_H);
  drawGrid(ctx, view, d.tempo, LANE_H, false);
  if (d.loop.enabled && d.loop.endSec > d.loop.startSec) {
    ctx.fillStyle = COLORS.loop;
    const x0 = d.loop.startSec * view.pxPerSec - view.scrollLeft;
    ctx.fillRect(x0, 0, (d.loop.endSec - d.loop.startSec) * view.pxPerSec, LANE_H);
  }
  const from = view.scrollLeft / view.pxPerSec;
  const to = (view.scrollLeft + view.width) / view.pxPerSec;
  for (const clip of d.clips) {
    if (clip.startSec > to || clipEnd(clip) < from) continue;
    drawClip(ctx, d, clip);
  }
  ctx.fillStyle = COLORS.bar;
  ctx.fillRect(0, LANE_H - 1, view.width, 1);
  if (d.drop) {
    const x = d.drop.startSec * view.pxPerSec - view.scrollLeft;
    const w = Math.max(4, d.drop.lengthSec * view.pxPerSec);
    ctx.setLineDash([6, 4]);
    ctx.strokeStyle = COLORS.focus;
    ctx.lineWidth = 2;
    ctx.strokeRect(x + 1, 5, w - 2, LANE_H - 10);
    ctx.setLineDash([]);
  }
}

function drawClip(ctx: CanvasRenderingContext2D, d: LaneDrawing, clip: Clip): void {
  const { view, lane } = d;
  const x = clip.startSec * view.pxPerSec - view.scrollLeft;
  const w = Math.max(2, clip.lengthSec * view.pxPerSec);
  const y = 4;
  const h = LANE_H - 8;
  const selected = clip.id === d.selectedClipId;
  ctx.save();
  ctx.beginPath();
  ctx.rect(x, y, w, h);
  ctx.clip();
  ctx.fillStyle = lane.color;
  ctx.globalAlpha = 0.18;
  ctx.fillRect(x, y, w, h);
  ctx.globalAlpha = 0.75;
  ctx.fillRect(x, y, w, 16);
  ctx.globalAlpha = 1;
  if (w > 24) {
    ctx.fillStyle = COLORS.ink;
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.fillText(clipTitle(d.tracks, clip), Math.max(x, 0) + 5, y + 12);
  }
  const peaks = d.media.peaks(clip.trackId, d.tracks.get(clip.trackId)?.peaksUrl);
  const x0 = Math.max(x, 0);
  const x1 = Math.min(x + w, view.width);
  if (peaks) {
    ctx.fillStyle = lane.color;
    drawWaveform(ctx, peaks, {
      x0,
      x1,
      top: y + 19,
      height: h - 21,
      timeAt: (px) => clip.offsetSec + (px - x) / view.pxPerSec,
      secPerPx: 1 / view.pxPerSec,
    });
  } else if (w > 80) {
    ctx.fillStyle = COLORS.muted;
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillText(d.media.peaksStatus(clip.trackId) === 'error' ? 'No waveform' : 'Loading waveform…', x0 + 5, y + 40);
  }
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.7)';
  ctx.lineWidth = 1;
  if (clip.fadeInSec > 0) {
    ctx.beginPath();
    ctx.moveTo(x, y + h);
    ctx.lineTo(x + clip.fadeInSec * view.pxPerSec, y + 17);
    ctx.stroke();
  }
  if (clip.fadeOutSec > 0) {
    ctx.beginPath();
    ctx.moveTo(x + w - clip.fadeOutSec * view.pxPerSec, y + 17);
    ctx.lineTo(x + w, y + h);
    ctx.stroke();
  }
  ctx.restore();
  ctx.lineWidth = selected ? 2 : 1;
  ctx.strokeStyle = selected ? COLORS.focus : lane.color;
  ctx.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
}
