/**
 * The studio's keyboard shortcuts: which key does what, and the rule that typing into a field never triggers one
 * (Space in a text box is a space, Ctrl+Z in a text box undoes typing). The list doubles as the help shown on screen.
 */

export type ShortcutAction =
  | 'playPause'
  | 'stop'
  | 'toStart'
  | 'toggleLoop'
  | 'undo'
  | 'redo'
  | 'zoomIn'
  | 'zoomOut'
  | 'deleteClip'
  | 'muteLane'
  | 'soloLane'
  | 'addLane';

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
}

export interface TargetLike {
  tagName: string;
  type?: string;
  isContentEditable?: boolean;
}

export const SHORTCUTS: readonly { keys: string; action: ShortcutAction; label: string }[] = [
  { keys: 'Space', action: 'playPause', label: 'Play or pause' },
  { keys: 'Enter', action: 'stop', label: 'Stop and return to the start' },
  { keys: 'Home', action: 'toStart', label: 'Move the playhead to the start' },
  { keys: 'L', action: 'toggleLoop', label: 'Loop on or off' },
  { keys: 'Ctrl/⌘ Z', action: 'undo', label: 'Undo' },
  { keys: 'Ctrl/⌘ Shift Z, Ctrl Y', action: 'redo', label: 'Redo' },
  { keys: '+ / −', action: 'zoomIn', label: 'Zoom in or out' },
  { keys: 'Delete', action: 'deleteClip', label: 'Remove the selected clip' },
  { keys: 'M / S', action: 'muteLane', label: 'Mute or solo the selected lane' },
  { keys: 'N', action: 'addLane', label: 'Add a lane' },
];

const TEXT_INPUT_TYPES = new Set([
  'text',
  'search',
  'email',
  'password',
  'number',
  'url',
  'tel',
  'date',
  'time',
  'datetime-local',
  'month',
  'week',
]);

/** A field where keys mean text: shortcuts stay out of its way. */
export function isTextEntry(target: TargetLike | null): boolean {
  if (!target) return false;
  const tag = target.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select' || target.isContentEditable) return true;
  return tag === 'input' && TEXT_INPUT_TYPES.has((target.type ?? 'text').toLowerCase());
}

/** Controls that Space and Enter already activate. */
function isActivatable(target: TargetLike | null): boolean {
  if (!target) return false;
  const tag = target.tagName.toLowerCase();
  return tag === 'button' || tag === 'a' || tag === 'summary' || (tag === 'input' && !isTextEntry(target));
}

export function shortcutFor(event: KeyLike, target: TargetLike | null): ShortcutAction | null {
  if (isTextEntry(target)) return null;
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (mod && !event.altKey) {
    if (key === 'z') return event.shiftKey ? 'redo' : 'undo';
    if (key === 'y' && event.ctrlKey) return 'redo';
    return null;
  }
  if (mod || event.altKey) return null;
  switch (key) {
    case ' ':
      return isActivatable(target) ? null : 'playPause';
    case 'Enter':
      return isActivatable(target) ? null : 'stop';
    case 'Home':
      // On a slider Home means its minimum.
      return target?.tagName.toLowerCase() === 'input' && target.type === 'range' ? null : 'toStart';
    case 'l':
      return 'toggleLoop';
    case '+':
    case '=':
      return 'zoomIn';
    case '-':
    case '_':
      return 'zoomOut';
    case 'Delete':
    case 'Backspace':
      return 'deleteClip';
    case 'm':
      return 'muteLane';
    case 's':
      return 'soloLane';
    case 'n':
      return 'addLane';
    default:
      return null;
  }
}
