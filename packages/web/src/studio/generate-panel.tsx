/**
 * The generate panel docked in the studio: simple mode (describe the song) or custom mode (title, style, lyrics),
 * the plan's limits shown next to the fields they bound, and the generations of this project below with live stage
 * progress over `generation.onProgress`, the cost held and then settled, the finished tracks (which also land in the
 * library) and failures in plain words. Custom mode can have the lyrics and title written; a running generation
 * plays the provider's stream from `first_audio` and can be canceled.
 */
import { useEffect, useId, useRef, useState } from 'react';
import {
  createGenerationInputSchema,
  formatUsd,
  GENERATION_LIMITS,
  GENRES,
  getPlan,
  isTerminalStatus,
  LIMITS,
  PITCH_CLASSES,
  SCALE_NAMES,
  type CreateGenerationInput,
  type GenerationCacheOffer,
  type GenerationView,
  type Plan,
} from '@dawg/shared';
import { CheckboxField, SelectField, TextAreaField } from '../components/fields';
import { FormAlert, SubmitButton, TextField, useForm } from '../components/form';
import { useToast } from '../components/toasts';
import { collect, firstErrors, schemaErrors } from '../lib/auth-validation';
import { useSignedInUser } from '../lib/auth';
import { SESSION_ENDED } from '../lib/form-errors';
import { trpc } from '../lib/trpc';
import { applyProgressEvent, costLine, failureText, STAGE_LABELS, stageSteps } from './generation-progress';
import { CancelGenerationButton, ProviderLine, StreamPreview } from './generation-controls';
import { formatDuration } from './time';
import type { DraggedTrack } from './track-drag';
import { CostEstimateLine } from '../components/cost-estimate';

type Mode = 'simple' | 'custom';

const INITIAL = {
  prompt: '',
  title: '',
  style: '',
  lyrics: '',
  negativeTags: '',
  duration: '30',
  genre: '',
  bpm: '',
  key: '',
  scale: '',
  instrumental: 'true',
  writeLyrics: 'false',
  variants: '1',
};
type Values = typeof INITIAL;
type Field = keyof Values;
/** Fields under "More options". */
const MORE_FIELDS: readonly Field[] = ['bpm', 'key', 'scale', 'variants'];

const GENRE_OPTIONS = [
  { value: '', label: 'Any genre' },
  ...GENRES.map((g) => ({ value: g, label: g.replace(/-/g, ' ').replace(/\b(\w)/g, (c) => c.toUpperCase()) })),
];
const KEY_OPTIONS = [{ value: '', label: 'Any key' }, ...PITCH_CLASSES.map((k) => ({ value: k, label: k }))];
const SCALE_OPTIONS = [{ value: '', label: 'Any scale' }, ...SCALE_NAMES.map((s) => ({ value: s, label: s }))];
const VARIANT_OPTIONS = Array.from({ length: GENERATION_LIMITS.VARIANTS_MAX }, (_, i) => ({
  value: String(i + 1),
  label: i === 0 ? '1 take' : `${i + 1} takes`,
}));

export function generationInput(mode: Mode, v: Values, projectId: string | undefined): CreateGenerationInput {
  const common = {
    duration: Number(v.duration),
    instrumental: v.instrumental === 'true',
    variants: Number(v.variants),
    ...(v.genre ? { genre: v.genre as (typeof GENRES)[number] } : {}),
    ...(v.bpm.trim() ? { bpm: Number(v.bpm) } : {}),
    ...(v.key ? { key: v.key as (typeof PITCH_CLASSES)[number] } : {}),
    ...(v.key && v.scale ? { scale: v.scale as (typeof SCALE_NAMES)[number] } : {}),
    ...(projectId ? { projectId } : {}),
  };
  if (mode === 'simple') return { mode: 'simple', prompt: v.prompt.trim(), ...common };
  const writeLyrics = v.writeLyrics === 'true' && v.instrumental !== 'true';
  return {
    mode: 'custom',
    ...(v.title.trim() ? { title: v.title.trim() } : {}),
    style: v.style.trim(),
    ...(writeLyrics ? { writeLyrics: true } : v.lyrics.trim() ? { lyrics: v.lyrics.trim() } : {}),
    ...(v.negativeTags.trim() ? { negativeTags: v.negativeTags.trim() } : {}),
    ...common,
  };
}

function friendlyProblems(mode: Mode, v: Values, plan: Plan) {
  const duration = Number(v.duration);
  const bpm = Number(v.bpm);
  return collect<Field>({
    prompt: mode === 'simple' && !v.prompt.trim() ? 'Describe the song you want.' : null,
    title:
      mode === 'custom' && !v.title.trim() && !(v.writeLyrics === 'true' && v.instrumental !== 'true')
        ? 'Give the song a title.'
        : null,
    style: mode === 'custom' && !v.style.trim() ? 'Describe the style (genre, instruments, mood).' : null,
    lyrics:
      mode === 'custom' && v.instrumental !== 'true' && v.writeLyrics !== 'true' && !v.lyrics.trim()
        ? 'Write the lyrics, have them written, or make the song instrumental.'
        : null,
    duration:
      !v.duration.trim() || !Number.isFinite(duration)
        ? 'Enter a length in seconds.'
        : duration < LIMITS.DURATION_MIN_SEC
          ? `Songs are at least ${LIMITS.DURATION_MIN_SEC} seconds.`
          : duration > plan.maxSongSeconds
            ? `Your ${plan.name} plan makes songs up to ${plan.maxSongSeconds} seconds.`
            : null,
    bpm:
      v.bpm.trim() && (!Number.isInteger(bpm) || bpm < LIMITS.BPM_MIN || bpm > LIMITS.BPM_MAX)
        ? `Use a whole number from ${LIMITS.BPM_MIN} to ${LIMITS.BPM_MAX}, or leave it empty.`
        : null,
  });
}

export interface GeneratePanelProps {
  projectId: string | undefined;
  onAdd(track: DraggedTrack): void;
}

export function GeneratePanel({ projectId, onAdd }: GeneratePanelProps) {
  const user = useSignedInUser();
  const plan = getPlan(user.plan);
  const utils = trpc.useUtils();
  const { notify } = useToast();
  const bodyId = useId();
  const [open, setOpen] = useState(true);
  const [mode, setMode] = useState<Mode>('simple');
  const [moreOpen, setMoreOpen] = useState(false);
  const [created, setCreated] = useState<string[]>([]);
  const create = trpc.generation.create.useMutation();
  const reuse = trpc.generation.reuse.useMutation();
  /** A cache offer for the request just submitted: reuse the finished song, or generate anyway. */
  const [offer, setOffer] = useState<{ input: CreateGenerationInput; offer: GenerationCacheOffer } | null>(null);
  const recent = trpc.generation.list.useQuery({ limit: 5, ...(projectId ? { projectId } : {}) });

  const form = useForm(INITIAL, {
    validate: (v, fields) =>
      firstErrors(
        () => friendlyProblems(mode, v, plan),
        () => schemaErrors(createGenerationInputSchema, generationInput(mode, v, projectId), fields),
      ),
    mapping: SESSION_ENDED,
  });

  function show(jobId: string) {
    setCreated((list) => [jobId, ...list.filter((id) => id !== jobId)]);
    void utils.generation.list.invalidate();
  }

  async function start(input: CreateGenerationInput) {
    const answer = await create.mutateAsync(input);
    show(answer.jobId);
    notify(`Generation started. Expected in about ${formatDuration(answer.estimatedTime)}.`, { tone: 'info' });
  }

  async function decide(accept: boolean) {
    if (!offer) return;
    const pending = offer;
    setOffer(null);
    try {
      if (accept) {
        const answer = await reuse.mutateAsync({ generationId: pending.offer.generationId });
        show(answer.jobId);
        notify(`Reused your earlier song: ${pending.offer.saving} saved.`, { tone: 'success' });
      } else {
        await start(pending.input);
      }
    } catch (err) {
      notify(err instanceof Error ? err.message : 'Something went wrong', { tone: 'error' });
    }
  }

  const recentViews = recent.data?.items ?? [];
  const ids = [...new Set([...created, ...recentViews.map((g) => g.id)])];
  const known = new Map(recentViews.map((g) => [g.id, g]));
  const promptLength = form.values.prompt.length;

  return (
    <section className="generate-panel" aria-labelledby={`${bodyId}-title`}>
      <div className="panel-heading">
        <h2 id={`${bodyId}-title`}>Generate</h2>
        <button
          type="button"
          className="link-button"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setOpen((o) => !o)}
        >
          {open ? 'Hide form' : 'Show form'}
        </button>
      </div>
      <div id={bodyId} hidden={!open}>
        <p className="plan-limits small muted" data-testid="plan-limits">
          {plan.name} plan: songs up to {plan.maxSongSeconds} s, {plan.generationsPerMonth} generations a month, AI
          budget {formatUsd(plan.aiBudgetMicroUsd, { maxDecimals: 2 })} a month.
        </p>
        <form
          ref={form.formRef}
          className="form form-compact"
          noValidate
          aria-label="Generate music"
          onSubmit={form.submit(async (values) => {
            const input = generationInput(mode, values, projectId);
            // An identical finished song is offered first; a failed lookup never stands in the way of generating.
            const cached = await utils.generation.cacheLookup.fetch(input).catch(() => ({ offer: null }));
            if (cached.offer) {
              setOffer({ input, offer: cached.offer });
              return;
            }
            await start(input);
          })}
        >
          <FormAlert message={form.errors.form} alertRef={form.alertRef} />
          <fieldset className="mode-switch">
            <legend className="visually-hidden">Mode</legend>
            {(['simple', 'custom'] as const).map((m) => (
              <label key={m} className={`mode-option${mode === m ? ' is-active' : ''}`}>
                <input type="radio" name="mode" value={m} checked={mode === m} onChange={() => setMode(m)} />
                {m === 'simple' ? 'Simple' : 'Custom'}
              </label>
            ))}
          </fieldset>
          {mode === 'simple' ? (
            <TextAreaField
              label="Describe the song"
              rows={3}
              maxChars={LIMITS.PROMPT_MAX_CHARS}
              placeholder="Warm lofi beat with soft piano and vinyl crackle"
              {...form.bind('prompt')}
            />
          ) : (
            <>
              <TextField label="Title" maxLength={GENERATION_LIMITS.TITLE_MAX_CHARS} {...form.bind('title')} />
              <TextAreaField
                label="Style"
                rows={2}
                maxChars={GENERATION_LIMITS.STYLE_MAX_CHARS}
                placeholder="Synthwave, driving bass, female vocals"
                {...form.bind('style')}
              />
              {form.values.instrumental !== 'true' && (
                <CheckboxField label="Write the lyrics and title for me" {...form.bind('writeLyrics')} />
              )}
              {(form.values.writeLyrics !== 'true' || form.values.instrumental === 'true') && (
                <TextAreaField
                  label="Lyrics"
                  rows={4}
                  optional={form.values.instrumental === 'true'}
                  maxChars={LIMITS.LYRICS_MAX_CHARS}
                  {...form.bind('lyrics')}
                />
              )}
              <TextField
                label="Leave out"
                optional
                hint="Styles or instruments to avoid."
                maxLength={GENERATION_LIMITS.NEGATIVE_TAGS_MAX_CHARS}
                {...form.bind('negativeTags')}
              />
            </>
          )}
          <div className="field-grid">
            <TextField
              label="Length (s)"
              type="number"
              inputMode="numeric"
              min={LIMITS.DURATION_MIN_SEC}
              max={plan.maxSongSeconds}
              hint={`${LIMITS.DURATION_MIN_SEC}–${plan.maxSongSeconds} s`}
              {...form.bind('duration')}
            />
            <SelectField label="Genre" options={GENRE_OPTIONS} {...form.bind('genre')} />
          </div>
          <CheckboxField label="Instrumental (no vocals)" {...form.bind('instrumental')} />
          <details
            className="more-options"
            // A problem in a field inside must be seen (and focused): the section opens by itself.
            open={moreOpen || MORE_FIELDS.some((f) => form.errors.fields[f] !== undefined)}
            onToggle={(e) => setMoreOpen(e.currentTarget.open)}
          >
            <summary>More options (tempo, key, takes)</summary>
            <div className="field-grid">
              <TextField
                label="Tempo (BPM)"
                type="number"
                inputMode="numeric"
                optional
                min={LIMITS.BPM_MIN}
                max={LIMITS.BPM_MAX}
                {...form.bind('bpm')}
              />
              <SelectField label="Key" options={KEY_OPTIONS} {...form.bind('key')} />
              {form.values.key && <SelectField label="Scale" options={SCALE_OPTIONS} {...form.bind('scale')} />}
              <SelectField label="Takes" options={VARIANT_OPTIONS} {...form.bind('variants')} />
            </div>
          </details>
          <CostEstimateLine duration={form.values.duration} variants={form.values.variants} />
          <SubmitButton pending={form.pending} pendingLabel="Starting…">
            Generate
          </SubmitButton>
          {offer && (
            <div className="cache-offer" role="status" data-testid="cache-offer">
              <p className="small">
                You made this exact song on {new Date(offer.offer.createdAt).toLocaleString()}. Reuse it and save{' '}
                {offer.offer.saving}?
              </p>
              <div className="button-row">
                <button type="button" className="button" onClick={() => void decide(true)}>
                  Reuse it
                </button>
                <button type="button" className="button button-secondary" onClick={() => void decide(false)}>
                  Generate anyway
                </button>
              </div>
            </div>
          )}
          {mode === 'simple' && promptLength > LIMITS.PROMPT_MAX_CHARS && (
            <p className="field-error small">
              The description is {promptLength - LIMITS.PROMPT_MAX_CHARS} characters too long.
            </p>
          )}
        </form>
      </div>
      {ids.length > 0 && (
        <ul className="generation-list" aria-label="Generations">
          {ids.map((id) => (
            <GenerationJob key={id} id={id} initial={known.get(id)} fresh={created.includes(id)} onAdd={onAdd} />
          ))}
        </ul>
      )}
    </section>
  );
}

interface GenerationJobProps {
  id: string;
  initial: GenerationView | undefined;
  /** Just started here: brought into view, since the form may fill the panel. */
  fresh: boolean;
  onAdd(t: DraggedTrack): void;
}

function GenerationJob({ id, initial, fresh, onAdd }: GenerationJobProps) {
  const utils = trpc.useUtils();
  const itemRef = useRef<HTMLLIElement>(null);
  useEffect(() => {
    if (fresh) itemRef.current?.scrollIntoView({ block: 'nearest' });
  }, [fresh]);
  const { notify } = useToast();
  const titleId = useId();
  const [view, setView] = useState<GenerationView | null>(initial ?? null);
  const [streamError, setStreamError] = useState<string | null>(null);
  /** The provider's stream (first_audio), played until the mastered tracks exist. */
  const [streamUrl, setStreamUrl] = useState<string | null>(null);
  // Finished before this screen opened: the row says everything, there is nothing to listen to.
  const [live] = useState(() => !initial || !isTerminalStatus(initial.status));

  const finish = async (status: GenerationView['status']) => {
    try {
      // The final answer carries the tracks (with their URLs) and the settled cost.
      const full = await utils.generation.get.fetch({ id });
      setView(full);
      if (status === 'succeeded') {
        void utils.track.list.invalidate();
        const names = full.tracks.map((t) => `“${t.title}”`).join(' and ');
        notify(`${names || 'Your track'} ${full.tracks.length > 1 ? 'are' : 'is'} ready in your library.`, {
          tone: 'success',
        });
      } else {
        notify(failureText(full), { tone: 'error' });
      }
    } catch {
      // The event already said how it ended; the row will show on the next visit.
    }
  };

  trpc.generation.onProgress.useSubscription(
    { id },
    {
      enabled: live,
      onData: ({ data }) => {
        setStreamError(null);
        if (data.type === 'snapshot') {
          setView(data.generation);
          return;
        }
        const event = data.event;
        if (event.streamUrl) setStreamUrl(event.streamUrl);
        setView((current) => (current ? applyProgressEvent(current, event) : current));
        if (isTerminalStatus(event.status)) void finish(event.status);
      },
      onError: (err) => setStreamError(err.message),
    },
  );

  if (!view) {
    return (
      <li ref={itemRef} className="generation-item" aria-busy="true" data-testid="generation">
        <p className="muted small">Starting…</p>
      </li>
    );
  }
  const progress = Math.round(view.status === 'succeeded' ? 100 : view.progress);
  const stageLabel = view.status === 'succeeded' ? 'Done' : STAGE_LABELS[view.stage];
  const failed = view.status === 'failed' || view.status === 'canceled';

  return (
    <li
      ref={itemRef}
      className="generation-item"
      data-testid="generation"
      data-status={view.status}
      data-stage={view.stage}
    >
      <p id={titleId} className="generation-title">
        {view.prompt}
      </p>
      <div
        className={`progress${failed ? ' progress-failed' : ''}`}
        role="progressbar"
        aria-labelledby={titleId}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={progress}
        aria-valuetext={failed ? `Failed during ${stageLabel.toLowerCase()}` : `${stageLabel}, ${progress}%`}
        data-testid="generation-progress"
      >
        <div className="progress-fill" style={{ width: `${progress}%` }} />
      </div>
      <ol className="stage-steps" aria-label="Stages">
        {stageSteps(view).map(({ stage, state }) => (
          <li key={stage} data-state={state} aria-current={state === 'current' ? 'step' : undefined}>
            <span className="visually-hidden">
              {state === 'done'
                ? 'done: '
                : state === 'current'
                  ? 'in progress: '
                  : state === 'failed'
                    ? 'failed: '
                    : ''}
            </span>
            {STAGE_LABELS[stage]}
          </li>
        ))}
      </ol>
      <p className="small muted" data-testid="generation-cost">
        {costLine(view)}
      </p>
      {failed && (
        <p className="generation-error" role="alert" data-testid="generation-error">
          {failureText(view)}
        </p>
      )}
      {!isTerminalStatus(view.status) && (
        <div className="track-actions">
          {streamUrl && <StreamPreview url={streamUrl} title={view.prompt} />}
          <CancelGenerationButton id={id} />
        </div>
      )}
      {streamError && !isTerminalStatus(view.status) && (
        <p className="small field-error">Live progress was interrupted ({streamError}); reconnecting…</p>
      )}
      {view.status === 'succeeded' && view.tracks.length > 0 && (
        <ul className="generation-tracks">
          {view.tracks.map((t) => (
            <li key={t.id}>
              <span>{t.title}</span> <span className="muted small">{formatDuration(t.durationSec)}</span>{' '}
              <ProviderLine provider={t.provider} model={t.model} />{' '}
              <button
                type="button"
                className="link-button"
                onClick={() => onAdd({ trackId: t.id, title: t.title, durationSec: t.durationSec ?? 0 })}
                aria-disabled={!t.durationSec || undefined}
              >
                Add to timeline<span className="visually-hidden">: {t.title}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
