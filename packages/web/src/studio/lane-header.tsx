/**
 * A lane's strip at the left of the timeline: name, mute and solo, gain and pan faders, its level meter and removal.
 * Faders act on the sound while they move (through `onDraft`) and are saved once when released (`onCommit`), so a
 * fader move is one undo step, not fifty.
 */
import { useEffect, useId, useRef, useState, type CSSProperties, type RefObject } from 'react';
import { LIMITS } from '@dawg/shared';
import type { Lane } from './types';

export interface LanePatch {
  name?: string;
  gainDb?: number;
  pan?: number;
  mute?: boolean;
  solo?: boolean;
}

export interface LaneHeaderProps {
  lane: Lane;
  selected: boolean;
  readOnly: boolean;
  onSelect(): void;
  onCommit(patch: LanePatch): void;
  onDraft(patch: { gainDb?: number; pan?: number } | null): void;
  onRemove(): void;
}

export function formatGain(db: number): string {
  if (db <= LIMITS.GAIN_DB_MIN) return '−∞ dB';
  const text = `${Math.abs(db).toFixed(1)} dB`;
  return db < 0 ? `−${text}` : db > 0 ? `+${text}` : text;
}

export function formatPan(pan: number): string {
  const percent = Math.round(Math.abs(pan) * 100);
  if (percent === 0) return 'centre';
  return `${percent}% ${pan < 0 ? 'left' : 'right'}`;
}

/** Calls `handler` on the native `change` event (slider released, or one keyboard step), which React does not expose. */
function useNativeChange(ref: RefObject<HTMLInputElement | null>, handler: (value: number) => void): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const input = ref.current;
    if (!input) return;
    const onChange = () => latest.current(Number(input.value));
    input.addEventListener('change', onChange);
    return () => input.removeEventListener('change', onChange);
  }, [ref]);
}

export function LaneHeader({ lane, selected, readOnly, onSelect, onCommit, onDraft, onRemove }: LaneHeaderProps) {
  const id = useId();
  const [name, setName] = useState(lane.name);
  const [gainDraft, setGainDraft] = useState<number | null>(null);
  const [panDraft, setPanDraft] = useState<number | null>(null);
  const gainRef = useRef<HTMLInputElement>(null);
  const panRef = useRef<HTMLInputElement>(null);

  useEffect(() => setName(lane.name), [lane.name]);

  useNativeChange(gainRef, (gainDb) => {
    setGainDraft(null);
    onDraft(null);
    if (gainDb !== lane.gainDb) onCommit({ gainDb });
  });
  useNativeChange(panRef, (pan) => {
    setPanDraft(null);
    onDraft(null);
    if (pan !== lane.pan) onCommit({ pan });
  });

  const gain = gainDraft ?? lane.gainDb;
  const pan = panDraft ?? lane.pan;

  function commitName() {
    const trimmed = name.trim().slice(0, LIMITS.LANE_NAME_MAX_CHARS);
    if (!trimmed) setName(lane.name);
    else if (trimmed !== lane.name) onCommit({ name: trimmed });
  }

  return (
    <div
      className={`lane-header${selected ? ' lane-header-selected' : ''}`}
      style={{ '--lane-color': lane.color } as CSSProperties}
      onFocus={onSelect}
      onPointerDown={onSelect}
      data-testid="lane-header"
    >
      <div className="lane-header-top">
        <span className="lane-swatch" aria-hidden="true" />
        <input
          className="lane-name"
          aria-label="Lane name"
          value={name}
          maxLength={LIMITS.LANE_NAME_MAX_CHARS}
          readOnly={readOnly}
          onChange={(e) => setName(e.target.value)}
          onBlur={commitName}
          onKeyDown={(e) => {
            if (e.key === 'Enter') e.currentTarget.blur();
            if (e.key === 'Escape') {
              setName(lane.name);
              e.currentTarget.blur();
            }
          }}
        />
        <button
          type="button"
          className="lane-toggle lane-toggle-mute"
          aria-pressed={lane.mute}
          aria-label={`Mute ${lane.name}`}
          title="Mute (M)"
          aria-disabled={readOnly || undefined}
          onClick={() => !readOnly && onCommit({ mute: !lane.mute })}
        >
          M
        </button>
        <button
          type="button"
          className="lane-toggle lane-toggle-solo"
          aria-pressed={lane.solo}
          aria-label={`Solo ${lane.name}`}
          title="Solo (S)"
          aria-disabled={readOnly || undefined}
          onClick={() => !readOnly && onCommit({ solo: !lane.solo })}
        >
          S
        </button>
        <button
          type="button"
          className="lane-remove"
          aria-label={`Remove lane ${lane.name}`}
          title="Remove lane"
          aria-disabled={readOnly || undefined}
          onClick={() => !readOnly && onRemove()}
        >
          ×
        </button>
      </div>
      <div className="lane-fader">
        <label htmlFor={`${id}-gain`}>Gain</label>
        <input
          ref={gainRef}
          id={`${id}-gain`}
          type="range"
          min={LIMITS.GAIN_DB_MIN}
          max={LIMITS.GAIN_DB_MAX}
          step={0.5}
          value={gain}
          disabled={readOnly}
          aria-valuetext={formatGain(gain)}
          onChange={(e) => {
            const value = Number(e.target.value);
            setGainDraft(value);
            onDraft({ gainDb: value, pan });
          }}
        />
        <output htmlFor={`${id}-gain`}>{formatGain(gain)}</output>
      </div>
      <div className="lane-fader">
        <label htmlFor={`${id}-pan`}>Pan</label>
        <input
          ref={panRef}
          id={`${id}-pan`}
          type="range"
          min={LIMITS.PAN_MIN}
          max={LIMITS.PAN_MAX}
          step={0.05}
          value={pan}
          disabled={readOnly}
          aria-valuetext={formatPan(pan)}
          onChange={(e) => {
            const value = Number(e.target.value);
            setPanDraft(value);
            onDraft({ gainDb: gain, pan: value });
          }}
        />
        <output htmlFor={`${id}-pan`}>{formatPan(pan)}</output>
      </div>
      <div
        className="meter"
        role="meter"
        aria-label={`${lane.name} level`}
        aria-valuemin={-60}
        aria-valuemax={0}
        aria-valuenow={-60}
        aria-valuetext="silent"
        data-lane-meter={lane.id}
      >
        <div className="meter-fill" />
      </div>
    </div>
  );
}
