/**
 * Generation II controls used by the generate panel and the library: the streamed preview that plays as soon as a
 * provider has first audio (`first_audio` with a stream URL), the cancel button of a queued or running generation,
 * the provider and model line of a track, and the form that extends a track from a bar line.
 */
import { useEffect, useId, useRef, useState } from 'react';
import { EXTEND_DEFAULT_DURATION_SEC, LIMITS, snapToBar } from '@dawg/shared';
import { useToast } from '../components/toasts';
import { errorsFromFailure } from '../lib/form-errors';
import { trpc } from '../lib/trpc';
import { formatDuration } from './time';

const PROVIDER_NAMES: Record<string, string> = {
  local: 'DAWG synth',
  suno: 'Suno',
  test: 'Test tone',
  openai: 'OpenAI',
};

/** "Suno · V4_5": who made a track, with which model. */
export function ProviderLine({ provider, model }: { provider: string | null; model: string | null }) {
  if (!provider) return null;
  return (
    <span className="small muted" data-testid="track-provider">
      {PROVIDER_NAMES[provider] ?? provider}
      {model ? ` · ${model}` : ''}
    </span>
  );
}

/** Plays the provider's stream as soon as it exists; the final, mastered tracks replace it when the job ends. */
export function StreamPreview({ url, title }: { url: string; title: string }) {
  const player = useRef<HTMLAudioElement>(null);
  const labelId = useId();
  useEffect(() => {
    // Browsers may refuse to start audio without a gesture: the controls stay for a click.
    void player.current?.play().catch(() => undefined);
  }, [url]);
  return (
    <div className="stream-preview" data-testid="stream-preview">
      <p id={labelId} className="small muted">
        First audio of “{title}” (streaming; the mastered track follows)
      </p>
      <audio ref={player} controls src={url} aria-labelledby={labelId} preload="auto" />
    </div>
  );
}

export function CancelGenerationButton({ id, onCanceled }: { id: string; onCanceled?(): void }) {
  const cancel = trpc.generation.cancel.useMutation();
  const { notify } = useToast();
  return (
    <button
      type="button"
      className="button button-secondary button-small"
      data-testid="generation-cancel"
      aria-disabled={cancel.isPending || undefined}
      onClick={async () => {
        if (cancel.isPending) return;
        try {
          const answer = await cancel.mutateAsync({ id });
          notify(answer.status === 'canceled' ? 'Generation canceled.' : 'Canceling…', { tone: 'info' });
          onCanceled?.();
        } catch (err) {
          notify(errorsFromFailure(err, []).form ?? 'The generation could not be canceled.', { tone: 'error' });
        }
      }}
    >
      {cancel.isPending ? 'Canceling…' : 'Cancel'}
    </button>
  );
}

export interface ExtendableTrack {
  id: string;
  title: string;
  durationSec: number | null;
  bpm: number | null;
}

/** Continue a track from a point snapped to its bars; the continuation is a new track in the library. */
export function ExtendTrackForm({ track, onClose }: { track: ExtendableTrack; onClose(): void }) {
  const utils = trpc.useUtils();
  const extend = trpc.generation.extend.useMutation();
  const { notify } = useToast();
  const formId = useId();
  const duration = track.durationSec ?? 0;
  const bpm = track.bpm ?? 120;
  const [at, setAt] = useState(String(Math.max(0, Math.floor(duration - 8))));
  const [length, setLength] = useState(String(EXTEND_DEFAULT_DURATION_SEC));
  const [error, setError] = useState<string | null>(null);
  const snapped = snapToBar(Number(at) || 0, bpm);

  return (
    <form
      className="form form-compact extend-form"
      aria-label={`Extend ${track.title}`}
      data-testid="extend-form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        setError(null);
        const seconds = Number(length);
        if (!Number.isFinite(seconds) || seconds < LIMITS.DURATION_MIN_SEC) {
          setError(`Extensions are at least ${LIMITS.DURATION_MIN_SEC} seconds.`);
          return;
        }
        try {
          const answer = await extend.mutateAsync({
            trackId: track.id,
            continueAt: Number(at) || 0,
            duration: seconds,
          });
          notify(`Extending “${track.title}”. Expected in about ${formatDuration(answer.estimatedTime)}.`, {
            tone: 'info',
          });
          void utils.generation.list.invalidate();
          onClose();
        } catch (err) {
          const found = errorsFromFailure(err, ['continueAt', 'duration', 'trackId']);
          setError(found.fields.continueAt ?? found.fields.duration ?? found.fields.trackId ?? found.form ?? 'Failed.');
        }
      }}
    >
      <div className="field-grid">
        <label className="field">
          <span className="field-label">Continue at (s)</span>
          <input
            className="input input-compact"
            type="number"
            min={0}
            max={Math.floor(duration)}
            value={at}
            onChange={(e) => setAt(e.target.value)}
            aria-describedby={`${formId}-snap`}
          />
        </label>
        <label className="field">
          <span className="field-label">New part (s)</span>
          <input
            className="input input-compact"
            type="number"
            min={LIMITS.DURATION_MIN_SEC}
            value={length}
            onChange={(e) => setLength(e.target.value)}
          />
        </label>
      </div>
      <p id={`${formId}-snap`} className="small muted">
        Starts at bar {snapped.bar + 1} ({snapped.seconds.toFixed(1)} s at {Math.round(bpm)} BPM).
      </p>
      {error && (
        <p className="field-error small" role="alert">
          {error}
        </p>
      )}
      <div className="track-actions">
        <button type="submit" className="button button-small" aria-disabled={extend.isPending || undefined}>
          {extend.isPending ? 'Starting…' : 'Extend'}
        </button>
        <button type="button" className="button button-secondary button-small" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}
