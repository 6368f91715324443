/**
 * Dragging a track from the library onto the timeline with pointer events (mouse, pen and touch alike, and real
 * mouse input in browser tests), rather than HTML5 drag-and-drop, whose drop position and feedback cannot be
 * controlled on a canvas. The library starts a drag; the timeline registers as the drop target, shows where the
 * clip would land while the pointer moves and takes the drop. A ghost label follows the pointer; Escape cancels.
 */
import { createContext, useContext } from 'react';

export interface DraggedTrack {
  trackId: string;
  title: string;
  durationSec: number;
}

export interface DropTarget {
  /** The pointer is at (x, y) in client coordinates while dragging. */
  hover(track: DraggedTrack, x: number, y: number): void;
  /** Released at (x, y); true when the target took the track. */
  drop(track: DraggedTrack, x: number, y: number): boolean;
  /** The drag ended (dropped anywhere or cancelled): clear any feedback. */
  leave(): void;
}

/** Pixels the pointer must travel before a press becomes a drag (a click stays a click). */
export const DRAG_THRESHOLD_PX = 4;

export class TrackDragController {
  private readonly targets = new Set<DropTarget>();
  private ghost: HTMLElement | null = null;
  private active: DraggedTrack | null = null;

  register(target: DropTarget): () => void {
    this.targets.add(target);
    return () => this.targets.delete(target);
  }

  get dragging(): boolean {
    return this.active !== null;
  }

  start(track: DraggedTrack, x: number, y: number): void {
    this.active = track;
    const ghost = document.createElement('div');
    ghost.className = 'drag-ghost';
    ghost.setAttribute('aria-hidden', 'true');
    ghost.textContent = track.title;
    document.body.append(ghost);
    document.body.classList.add('is-dragging-track');
    this.ghost = ghost;
    this.move(x, y);
  }

  move(x: number, y: number): void {
    if (!this.active) return;
    if (this.ghost) this.ghost.style.transform = `translate(${x + 12}px, ${y + 8}px)`;
    for (const target of this.targets) target.hover(this.active, x, y);
  }

  /** Ends the drag; true when a target took the track. */
  drop(x: number, y: number): boolean {
    const track = this.active;
    if (!track) return false;
    let taken = false;
    for (const target of this.targets) {
      if (!taken && target.drop(track, x, y)) taken = true;
    }
    this.finish();
    return taken;
  }

  cancel(): void {
    if (this.active) this.finish();
  }

  private finish(): void {
    this.active = null;
    this.ghost?.remove();
    this.ghost = null;
    document.body.classList.remove('is-dragging-track');
    for (const target of this.targets) target.leave();
  }
}

const TrackDragContext = createContext<TrackDragController | null>(null);
export const TrackDragProvider = TrackDragContext.Provider;

export function useTrackDrag(): TrackDragController {
  const controller = useContext(TrackDragContext);
  if (!controller) throw new Error('useTrackDrag must be used inside <TrackDragProvider>');
  return controller;
}
