/**
 * The track library beside the timeline: the user's tracks (newest first, searchable), each with its waveform, a
 * preview in the shared player, and two ways onto the timeline: drag it onto a lane, or "Add" from the keyboard
 * (selected lane, at the playhead). Each track names the provider and model that made it; a generated track of
 * the user's can be extended from a bar line.
 */
import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import { STUDIO_LIMITS } from '@dawg/shared';
import { errorsFromFailure } from '../lib/form-errors';
import { trpc } from '../lib/trpc';
import { ExtendTrackForm, ProviderLine } from './generation-controls';
import { formatDuration } from './time';
import { DRAG_THRESHOLD_PX, useTrackDrag, type DraggedTrack } from './track-drag';
import { usePeaksRevision, useTrackMedia } from './track-media';
import type { Track } from './types';
import { drawWaveform, fitCanvas } from './waveform';

export interface LibraryProps {
  readOnly: boolean;
  onAdd(track: DraggedTrack): void;
  /** The library's tracks, for titles and durations on the timeline. */
  onTracks(tracks: readonly Track[]): void;
}

const SOURCE_LABELS: Record<Track['source'], string> = {
  generated: 'Generated',
  uploaded: 'Uploaded',
  mixdown: 'Mixdown',
};

export function Library({ readOnly, onAdd, onTracks }: LibraryProps) {
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  const list = trpc.track.list.useQuery(
    { limit: STUDIO_LIMITS.TRACK_LIST_MAX, ...(query ? { search: query } : {}) },
    { placeholderData: (previous) => previous },
  );
  const media = useTrackMedia();
  const [preview, setPreview] = useState<{ track: Track; url: string } | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const player = useRef<HTMLAudioElement>(null);

  // Search as the user types, but not a request per keystroke.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const items = list.data?.items;
  useEffect(() => {
    if (items) onTracks(items);
  }, [items, onTracks]);

  async function play(track: Track) {
    setPreviewError(null);
    try {
      const urls = await media.urls(track.id);
      if (!urls.mp3Url) throw new Error('This track has no audio yet.');
      setPreview({ track, url: urls.mp3Url });
    } catch (err) {
      setPreviewError(err instanceof Error && !('data' in err) ? err.message : (errorsFromFailure(err, []).form ?? ''));
    }
  }

  useEffect(() => {
    if (preview) void player.current?.play().catch(() => undefined);
  }, [preview]);

  return (
    <section className="library" aria-labelledby="library-title">
      <div className="panel-heading">
        <h2 id="library-title">Library</h2>
        {list.isFetching && <span className="muted small">Updating…</span>}
      </div>
      <input
        type="search"
        className="input input-compact"
        aria-label="Search tracks"
        placeholder="Search tracks"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      {list.error && (
        <p className="notice notice-error small" role="alert">
          The library could not be loaded. {errorsFromFailure(list.error, []).form}{' '}
          <button type="button" className="link-button" onClick={() => void list.refetch()}>
            Try again
          </button>
        </p>
      )}
      {items && items.length === 0 && (
        <p className="muted small" data-testid="library-empty">
          {query ? 'No track matches your search.' : 'No tracks yet. Generate one above and it appears here.'}
        </p>
      )}
      <ul className="track-list" aria-label="Tracks">
        {items?.map((track) => (
          <LibraryItem
            key={track.id}
            track={track}
            readOnly={readOnly}
            previewing={preview?.track.id === track.id}
            onPreview={() => void play(track)}
            onAdd={onAdd}
          />
        ))}
      </ul>
      <div className="preview-player">
        <p className="small muted" id="preview-label">
          {preview ? `Preview: ${preview.track.title}` : 'Preview a track to hear it here.'}
        </p>
        {previewError && (
          <p className="field-error small" role="alert">
            {previewError}
          </p>
        )}
        <audio
          ref={player}
          controls
          src={preview?.url}
          aria-labelledby="preview-label"
          preload="none"
          data-testid="preview-player"
        />
      </div>
    </section>
  );
}

function LibraryItem({
  track,
  readOnly,
  previewing,
  onPreview,
  onAdd,
}: {
  track: Track;
  readOnly: boolean;
  previewing: boolean;
  onPreview(): void;
  onAdd(track: DraggedTrack): void;
}) {
  const drag = useTrackDrag();
  const media = useTrackMedia();
  const [extending, setExtending] = useState(false);
  usePeaksRevision(media);
  const canvas = useRef<HTMLCanvasElement>(null);
  const press = useRef<{ pointerId: number; x: number; y: number; dragging: boolean } | null>(null);
  const ready = track.status === 'ready' && track.durationSec !== null && track.durationSec > 0;
  const peaks = track.peaksUrl ? media.peaks(track.id, track.peaksUrl) : undefined;
  const peaksState = peaks ? 'loaded' : media.peaksStatus(track.id);
  const dragged: DraggedTrack | null = ready
    ? { trackId: track.id, title: track.title, durationSec: track.durationSec ?? 0 }
    : null;

  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const width = el.clientWidth || 240;
    const ctx = fitCanvas(el, width, 32);
    if (!ctx) return;
    ctx.clearRect(0, 0, width, 32);
    if (!peaks) return;
    ctx.fillStyle = '#8b7bff';
    drawWaveform(ctx, peaks, {
      x0: 0,
      x1: width,
      top: 1,
      height: 30,
      timeAt: (x) => (x / width) * peaks.durationSec,
      secPerPx: peaks.durationSec / width,
    });
  }, [peaks]);

  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (e.button !== 0 || !dragged || readOnly) return;
    press.current = { pointerId: e.pointerId, x: e.clientX, y: e.clientY, dragging: false };
    e.currentTarget.setPointerCapture(e.pointerId);
  };
  const onPointerMove = (e: ReactPointerEvent<HTMLDivElement>) => {
    const p = press.current;
    if (!p || p.pointerId !== e.pointerId || !dragged) return;
    if (!p.dragging) {
      if (Math.hypot(e.clientX - p.x, e.clientY - p.y) < DRAG_THRESHOLD_PX) return;
      p.dragging = true;
      drag.start(dragged, e.clientX, e.clientY);
    } else {
      drag.move(e.clientX, e.clientY);
    }
  };
  const onPointerUp = (e: ReactPointerEvent<HTMLDivElement>) => {
    const p = press.current;
    if (!p || p.pointerId !== e.pointerId) return;
    press.current = null;
    if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId);
    if (p.dragging) drag.drop(e.clientX, e.clientY);
  };
  const onPointerCancel = () => {
    press.current = null;
    drag.cancel();
  };

  return (
    <li className="track-item" data-testid="library-track" data-track-id={track.id} data-status={track.status}>
      <div
        className={`track-grip${dragged && !readOnly ? ' is-draggable' : ''}`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerCancel}
        onKeyDown={(e) => {
          if (e.key === 'Escape') drag.cancel();
        }}
        title={dragged && !readOnly ? 'Drag onto a lane' : undefined}
      >
        <div className="track-line">
          <span className="track-title" data-testid="track-title">
            {track.title}
          </span>
          <span className="muted small">{formatDuration(track.durationSec)}</span>
        </div>
        <canvas
          ref={canvas}
          className="track-wave"
          role="img"
          aria-label={peaks ? `Waveform of ${track.title}` : `Waveform of ${track.title} (not loaded)`}
          data-peaks={peaksState}
          data-testid="track-waveform"
        />
        <div className="track-meta small muted">
          <span>{SOURCE_LABELS[track.source]}</span>
          {track.bpm !== null && <span>{Math.round(track.bpm)} BPM</span>}
          {track.key && <span>{track.key}</span>}
          <ProviderLine provider={track.provider} model={track.model} />
          {track.status !== 'ready' && <span className="badge badge-inline badge-pending">{track.status}</span>}
        </div>
      </div>
      <div className="track-actions">
        <button
          type="button"
          className="button button-secondary button-small"
          aria-pressed={previewing}
          aria-disabled={track.status !== 'ready' || undefined}
          onClick={() => track.status === 'ready' && onPreview()}
        >
          Preview<span className="visually-hidden"> {track.title}</span>
        </button>
        <button
          type="button"
          className="button button-secondary button-small"
          aria-disabled={!dragged || readOnly || undefined}
          onClick={() => dragged && !readOnly && onAdd(dragged)}
        >
          Add<span className="visually-hidden"> {track.title} to the timeline</span>
        </button>
        {track.mine && track.source === 'generated' && (
          <button
            type="button"
            className="button button-secondary button-small"
            aria-expanded={extending}
            aria-disabled={!ready || undefined}
            onClick={() => ready && setExtending((open) => !open)}
          >
            Extend<span className="visually-hidden"> {track.title}</span>
          </button>
        )}
      </div>
      {extending && <ExtendTrackForm track={track} onClose={() => setExtending(false)} />}
    </li>
  );
}
