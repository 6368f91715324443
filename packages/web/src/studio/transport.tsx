/**
 * The transport bar: play/pause, stop, loop, the position (bars.beats.sixteenths and clock time, repainted from the
 * audio clock every frame while playing, without re-rendering React), tempo and time signature, undo/redo and the
 * master level meter.
 */
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { LIMITS, TIME_SIGNATURES } from '@dawg/shared';
import type { AudioEngine } from '../audio/engine';
import { formatBarsBeats, formatClock, type Tempo } from './time';

export interface TransportProps {
  engine: AudioEngine;
  tempo: Tempo;
  loopEnabled: boolean;
  onToggleLoop(): void;
  readOnly: boolean;
  onTempo(bpm: number): void;
  onTimeSignature(value: string): void;
  canUndo: boolean;
  canRedo: boolean;
  onUndo(): void;
  onRedo(): void;
  saving: boolean;
}

export function Transport(props: TransportProps) {
  const { engine, tempo } = props;
  const snapshot = useSyncExternalStore(engine.subscribe, engine.getSnapshot);
  const barsRef = useRef<HTMLSpanElement>(null);
  const clockRef = useRef<HTMLSpanElement>(null);
  const tempoRef = useRef(tempo);
  tempoRef.current = tempo;
  const playing = snapshot.state === 'playing';

  useEffect(() => {
    let raf = 0;
    const paint = () => {
      const position = engine.position();
      if (barsRef.current) barsRef.current.textContent = formatBarsBeats(position, tempoRef.current);
      if (clockRef.current) clockRef.current.textContent = formatClock(position);
    };
    const loop = () => {
      paint();
      raf = requestAnimationFrame(loop);
    };
    const onChange = () => {
      cancelAnimationFrame(raf);
      paint();
      if (engine.getSnapshot().state === 'playing') raf = requestAnimationFrame(loop);
    };
    const unsubscribe = engine.subscribe(onChange);
    onChange();
    return () => {
      unsubscribe();
      cancelAnimationFrame(raf);
    };
  }, [engine]);

  return (
    <div className="transport" role="group" aria-label="Transport">
      <div className="transport-buttons">
        <button
          type="button"
          className={`transport-button${playing ? ' is-active' : ''}`}
          onClick={() => (playing ? engine.pause() : void engine.play())}
          aria-keyshortcuts="Space"
          aria-busy={snapshot.loading || undefined}
          data-testid="play"
        >
          <span aria-hidden="true">{playing ? '❚❚' : '▶'}</span>
          <span className="transport-label">{snapshot.loading ? 'Loading…' : playing ? 'Pause' : 'Play'}</span>
        </button>
        <button
          type="button"
          className="transport-button"
          onClick={() => engine.stop()}
          aria-keyshortcuts="Enter"
          data-testid="stop"
        >
          <span aria-hidden="true">■</span>
          <span className="transport-label">Stop</span>
        </button>
        <button
          type="button"
          className={`transport-button${props.loopEnabled ? ' is-active' : ''}`}
          aria-pressed={props.loopEnabled}
          onClick={props.onToggleLoop}
          aria-keyshortcuts="L"
          data-testid="loop"
        >
          <span aria-hidden="true">⟳</span>
          <span className="transport-label">Loop</span>
        </button>
      </div>
      <output className="transport-position" aria-label="Position" data-state={snapshot.state} data-testid="position">
        <span ref={barsRef} className="position-bars" data-testid="position-bars">
          1.1.1
        </span>
        <span ref={clockRef} className="position-clock muted" data-testid="position-clock">
          0:00.0
        </span>
      </output>
      <TempoField bpm={tempo.bpm} readOnly={props.readOnly} onCommit={props.onTempo} />
      <label className="toolbar-field">
        <span>Meter</span>
        <select
          className="input input-compact"
          value={tempo.timeSignature}
          disabled={props.readOnly}
          onChange={(e) => props.onTimeSignature(e.target.value)}
        >
          {TIME_SIGNATURES.map((ts) => (
            <option key={ts} value={ts}>
              {ts}
            </option>
          ))}
        </select>
      </label>
      <div className="transport-edit" role="group" aria-label="History">
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={props.onUndo}
          aria-disabled={!props.canUndo || props.readOnly || undefined}
          aria-keyshortcuts="Control+Z Meta+Z"
          data-testid="undo"
        >
          Undo
        </button>
        <button
          type="button"
          className="button button-secondary button-small"
          onClick={props.onRedo}
          aria-disabled={!props.canRedo || props.readOnly || undefined}
          aria-keyshortcuts="Control+Shift+Z Meta+Shift+Z Control+Y"
          data-testid="redo"
        >
          Redo
        </button>
        <span className="save-state muted" role="status" data-testid="save-state">
          {props.saving ? 'Saving…' : 'Saved'}
        </span>
      </div>
      <div
        className="meter meter-master"
        role="meter"
        aria-label="Master level"
        aria-valuemin={-60}
        aria-valuemax={0}
        aria-valuenow={-60}
        aria-valuetext="silent"
        data-master-meter="true"
      >
        <div className="meter-fill" />
      </div>
    </div>
  );
}

function TempoField({ bpm, readOnly, onCommit }: { bpm: number; readOnly: boolean; onCommit(bpm: number): void }) {
  const [draft, setDraft] = useState(String(bpm));
  const [invalid, setInvalid] = useState(false);
  useEffect(() => setDraft(String(bpm)), [bpm]);

  function commit() {
    const value = Number(draft);
    if (!Number.isFinite(value) || value < LIMITS.BPM_MIN || value > LIMITS.BPM_MAX) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    const rounded = Math.round(value * 100) / 100;
    if (rounded !== bpm) onCommit(rounded);
  }

  return (
    <div className="toolbar-field">
      <label htmlFor="tempo-input">Tempo</label>
      <input
        id="tempo-input"
        className="input input-compact input-tempo"
        type="number"
        inputMode="decimal"
        min={LIMITS.BPM_MIN}
        max={LIMITS.BPM_MAX}
        step={1}
        value={draft}
        readOnly={readOnly}
        aria-invalid={invalid || undefined}
        aria-describedby="tempo-unit"
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') {
            setDraft(String(bpm));
            setInvalid(false);
          }
        }}
      />
      <span id="tempo-unit" className="muted">
        {invalid ? `BPM (${LIMITS.BPM_MIN}–${LIMITS.BPM_MAX})` : 'BPM'}
      </span>
    </div>
  );
}
