/**
 * Audio in and out of the studio, and sharing: upload files (presigned POST straight to the bucket with a progress bar
 * per file, then completion and analysis; ready uploads appear in the library, from where they drag onto a lane),
 * the automatic mix (before → after of every fader, undoable like any edit), mixdown with progress and downloads
 * (WAV, MP3, stems), and the share dialog (invite by email as editor or viewer, remove members). Folded by default,
 * so the library keeps the side column's height.
 */
import { useCallback, useEffect, useRef, useState, type ChangeEvent, type DragEvent } from 'react';
import {
  UPLOAD_CONTENT_TYPES,
  UPLOAD_LIMITS,
  type MixdownView,
  type ProjectMember,
  type ProjectState,
  type UploadContentType,
} from '@dawg/shared';
import { useToast } from '../components/toasts';
import { errorsFromFailure } from '../lib/form-errors';
import { trpc } from '../lib/trpc';

// ---- Uploads ------------------------------------------------------------------------------------------------------

const EXTENSION_TYPES: Record<string, UploadContentType> = {
  mp3: 'audio/mpeg',
  wav: 'audio/wav',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  aac: 'audio/aac',
  m4a: 'audio/mp4',
  aif: 'audio/aiff',
  aiff: 'audio/aiff',
};

/** The type to declare for a file: the browser's, when it is one we take, else by extension. */
export function uploadTypeOf(file: { name: string; type: string }): UploadContentType | null {
  if (file.type in UPLOAD_CONTENT_TYPES) return file.type as UploadContentType;
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
  return ext ? (EXTENSION_TYPES[ext] ?? null) : null;
}

type UploadState = 'uploading' | 'analysing' | 'ready' | 'failed';

interface UploadItem {
  key: string;
  name: string;
  progress: number;
  state: UploadState;
  error?: string;
}

function postWithProgress(
  url: string,
  fields: Record<string, string>,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () =>
      xhr.status < 300 ? resolve() : reject(new Error(`The storage refused the file (HTTP ${xhr.status})`));
    xhr.onerror = () => reject(new Error('The upload was interrupted'));
    xhr.send(form);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function Uploads({ projectId, readOnly }: { projectId: string; readOnly: boolean }) {
  const utils = trpc.useUtils();
  const [items, setItems] = useState<UploadItem[]>([]);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const update = (key: string, patch: Partial<UploadItem>) =>
    setItems((all) => all.map((i) => (i.key === key ? { ...i, ...patch } : i)));

  const uploadOne = useCallback(
    async (file: File) => {
      const key = crypto.randomUUID();
      setItems((all) => [{ key, name: file.name, progress: 0, state: 'uploading' as const }, ...all].slice(0, 8));
      try {
        const contentType = uploadTypeOf(file);
        if (!contentType) throw new Error('Not an audio file we take (MP3, WAV, FLAC, Ogg, AAC/M4A, AIFF)');
        if (file.size > UPLOAD_LIMITS.MAX_BYTES) throw new Error('A file is at most 50 MB');
        const post = await utils.client.track.createUpload.mutate({
          fileName: file.name,
          contentType,
          sizeBytes: file.size,
          projectId,
        });
        await postWithProgress(post.url, post.fields, file, (f) => update(key, { progress: Math.round(f * 100) }));
        update(key, { progress: 100, state: 'analysing' });
        await utils.client.track.completeUpload.mutate({ trackId: post.trackId });
        for (let i = 0; i < 600; i++) {
          const track = await utils.client.track.get.query({ id: post.trackId });
          if (track.status === 'ready') break;
          if (track.status === 'failed') throw new Error('This file could not be read as audio');
          await sleep(500);
        }
        update(key, { state: 'ready' });
        await utils.track.list.invalidate();
      } catch (err) {
        const message = err instanceof Error && !('data' in err) ? err.message : errorsFromFailure(err, []).form;
        update(key, { state: 'failed', error: message ?? 'The upload failed' });
      }
    },
    [projectId, utils],
  );

  const take = (files: FileList | null) => {
    for (const file of [...(files ?? [])].slice(0, UPLOAD_LIMITS.MAX_FILES)) void uploadOne(file);
  };

  if (readOnly) return null;
  return (
    <div
      className={`io-drop${over ? ' is-over' : ''}`}
      data-testid="upload-zone"
      onDragOver={(e: DragEvent) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e: DragEvent) => {
        e.preventDefault();
        setOver(false);
        take(e.dataTransfer.files);
      }}
    >
      <div className="panel-heading">
        <h2 className="small">Upload audio</h2>
        <button type="button" className="button button-small" onClick={() => input.current?.click()}>
          Choose files
        </button>
      </div>
      <p className="small muted">
        Drop up to 5 files here (MP3, WAV, FLAC…, 50 MB each). Drag them from the library onto a lane.
      </p>
      <input
        ref={input}
        type="file"
        accept="audio/*,.mp3,.wav,.flac,.ogg,.m4a,.aac,.aif,.aiff"
        multiple
        hidden
        data-testid="upload-input"
        onChange={(e: ChangeEvent<HTMLInputElement>) => {
          take(e.target.files);
          e.target.value = '';
        }}
      />
      {items.length > 0 && (
        <ul className="io-list" aria-label="Uploads">
          {items.map((item) => (
            <li key={item.key} data-testid="upload" data-state={item.state}>
              <span className="io-name">{item.name}</span>
              <div
                className={`progress${item.state === 'failed' ? ' progress-failed' : ''}`}
                role="progressbar"
                aria-label={`Upload of ${item.name}`}
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={item.progress}
                data-testid="upload-progress"
              >
                <div className="progress-fill" style={{ width: `${item.progress}%` }} />
              </div>
              <span className="small muted">
                {item.state === 'uploading'
                  ? `${item.progress}%`
                  : item.state === 'analysing'
                    ? 'Analysing…'
                    : item.state === 'ready'
                      ? 'Ready in your library'
                      : item.error}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

// ---- Mixing -------------------------------------------------------------------------------------------------------

const db = (x: number) => `${x > 0 ? '+' : ''}${x.toFixed(1)} dB`;

function AutoMix({ state, readOnly, onChanged }: { state: ProjectState; readOnly: boolean; onChanged(): void }) {
  const { notify } = useToast();
  const [result, setResult] = useState<{ name: string; before: number; after: number }[] | null>(null);
  const mutation = trpc.project.autoMix.useMutation({
    onSuccess: (data) => {
      const names = new Map(data.state.lanes.map((l) => [l.id, l.name]));
      setResult(
        data.lanes
          .filter((l) => l.measuredLufs !== null)
          .map((l) => ({ name: names.get(l.laneId) ?? 'Lane', before: l.gainDbBefore, after: l.gainDbAfter })),
      );
      onChanged();
      notify(data.changed ? 'Lanes balanced to −14 LUFS. Undo puts them back.' : 'The lanes were already balanced.', {
        tone: 'success',
      });
    },
    onError: (err) => notify(errorsFromFailure(err, []).form ?? 'Auto-mix failed', { tone: 'error' }),
  });
  if (readOnly) return null;
  return (
    <div className="io-block">
      <button
        type="button"
        className="button button-small button-secondary"
        data-testid="auto-mix"
        disabled={mutation.isPending || state.lanes.length === 0}
        onClick={() => mutation.mutate({ projectId: state.project.id, expectedVersion: state.project.version })}
      >
        {mutation.isPending ? 'Balancing…' : 'Auto-mix'}
      </button>
      {result && result.length > 0 && (
        <ul className="io-list small" aria-label="Auto-mix changes" data-testid="auto-mix-result">
          {result.map((r, i) => (
            <li key={i}>
              {r.name}: {db(r.before)} → {db(r.after)}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Mixdown({ projectId, readOnly }: { projectId: string; readOnly: boolean }) {
  const { notify } = useToast();
  const [stems, setStems] = useState(false);
  const [current, setCurrent] = useState<MixdownView | null>(null);
  const utils = trpc.useUtils();
  const request = trpc.project.mixdown.useMutation({
    onSuccess: (view) => setCurrent(view),
    onError: (err) => notify(errorsFromFailure(err, []).form ?? 'The mixdown could not start', { tone: 'error' }),
  });
  const running = current !== null && (current.status === 'queued' || current.status === 'running');

  // Progress comes live on the project channel; a poll covers a missed event and fetches the download links.
  trpc.project.live.useSubscription(
    { projectId },
    {
      enabled: running,
      onData: (event) => {
        if (event.type !== 'mixdown' || event.mixdownId !== current?.id) return;
        if (event.status === 'succeeded' || event.status === 'failed') {
          // The final view carries the download links (or the reason).
          void utils.client.project.getMixdown.query({ id: event.mixdownId }).then(finish);
          return;
        }
        setCurrent((c) => (c ? { ...c, status: event.status, progress: Math.max(c.progress, event.progress) } : c));
      },
    },
  );
  const id = current?.id;
  const announced = useRef<string | null>(null);
  const finish = useCallback(
    (view: MixdownView) => {
      setCurrent((c) => (c?.id !== view.id ? c : c.progress > view.progress && view.status === 'running' ? c : view));
      if ((view.status === 'succeeded' || view.status === 'failed') && announced.current !== view.id) {
        announced.current = view.id;
        if (view.status === 'succeeded') notify('Your mixdown is ready to download.', { tone: 'success' });
        else notify(view.error ?? 'The mixdown failed', { tone: 'error' });
      }
    },
    [notify],
  );
  useEffect(() => {
    if (!id || !running) return;
    let stopped = false;
    const timer = setInterval(() => {
      void utils.client.project.getMixdown.query({ id }).then((view) => {
        if (!stopped) finish(view);
      });
    }, 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [id, running, utils, finish]);

  return (
    <div className="io-block">
      {!readOnly && (
        <div className="io-row">
          <button
            type="button"
            className="button button-small"
            data-testid="mixdown"
            disabled={running || request.isPending}
            onClick={() => request.mutate({ projectId, stems })}
          >
            Mix down
          </button>
          <label className="small">
            <input type="checkbox" checked={stems} onChange={(e) => setStems(e.target.checked)} /> with stems
          </label>
        </div>
      )}
      {current && (
        <div data-testid="mixdown-status" data-status={current.status}>
          <div
            className={`progress${current.status === 'failed' ? ' progress-failed' : ''}`}
            role="progressbar"
            aria-label="Mixdown"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={current.status === 'succeeded' ? 100 : current.progress}
            data-testid="mixdown-progress"
          >
            <div
              className="progress-fill"
              style={{ width: `${current.status === 'succeeded' ? 100 : current.progress}%` }}
            />
          </div>
          {current.status === 'failed' && <p className="small field-error">{current.error}</p>}
          {current.status === 'succeeded' && (
            <p className="io-row small">
              {current.wavUrl && (
                <a href={current.wavUrl} download data-testid="download-wav">
                  Download WAV
                </a>
              )}
              {current.mp3Url && (
                <a href={current.mp3Url} download data-testid="download-mp3">
                  MP3
                </a>
              )}
              {current.stemsUrl && (
                <a href={current.stemsUrl} download data-testid="download-stems">
                  Stems (zip)
                </a>
              )}
            </p>
          )}
        </div>
      )}
    </div>
  );
}

// ---- Sharing ------------------------------------------------------------------------------------------------------

function ShareDialog({ projectId, isOwner }: { projectId: string; isOwner: boolean }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<'editor' | 'viewer'>('editor');
  const [error, setError] = useState<string | null>(null);
  const members = trpc.project.members.useQuery({ projectId }, { enabled: open });
  const utils = trpc.useUtils();
  const done = (list: ProjectMember[]) => {
    utils.project.members.setData({ projectId }, list);
    setError(null);
  };
  const invite = trpc.project.invite.useMutation({
    onSuccess: (list) => {
      done(list);
      setEmail('');
    },
    onError: (err) =>
      setError(errorsFromFailure(err, ['email']).fields.email ?? errorsFromFailure(err, []).form ?? null),
  });
  const remove = trpc.project.removeMember.useMutation({ onSuccess: done });
  useEffect(() => {
    if (open) dialog.current?.showModal();
    else dialog.current?.close();
  }, [open]);

  return (
    <>
      <button
        type="button"
        className="button button-small button-secondary"
        data-testid="share"
        onClick={() => setOpen(true)}
      >
        Share
      </button>
      <dialog ref={dialog} className="dialog" aria-labelledby="share-title" onClose={() => setOpen(false)}>
        <h2 id="share-title">Share this project</h2>
        {isOwner ? (
          <form
            className="form form-compact"
            onSubmit={(e) => {
              e.preventDefault();
              invite.mutate({ projectId, email, role });
            }}
          >
            <label>
              Email of a DAWG AI account
              <input
                type="email"
                required
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                data-testid="share-email"
              />
            </label>
            <label>
              Role
              <select
                value={role}
                onChange={(e) => setRole(e.target.value as 'editor' | 'viewer')}
                data-testid="share-role"
              >
                <option value="editor">Editor (can change it)</option>
                <option value="viewer">Viewer (can listen)</option>
              </select>
            </label>
            {error && (
              <p className="field-error small" role="alert">
                {error}
              </p>
            )}
            <button type="submit" className="button button-small" disabled={invite.isPending}>
              Invite
            </button>
          </form>
        ) : (
          <p className="small muted">Only the owner invites people.</p>
        )}
        <ul className="io-list" aria-label="Members" data-testid="members">
          {(members.data ?? []).map((m) => (
            <li key={m.userId} className="io-row">
              <span>
                {m.name} <span className="muted small">({m.role})</span>
              </span>
              {isOwner && m.role !== 'owner' && (
                <button
                  type="button"
                  className="link-button small"
                  onClick={() => remove.mutate({ projectId, userId: m.userId })}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
        <button type="button" className="button button-small button-secondary" onClick={() => setOpen(false)}>
          Close
        </button>
      </dialog>
    </>
  );
}

export function StudioIoPanel({
  state,
  readOnly,
  onProjectChanged,
}: {
  state: ProjectState;
  readOnly: boolean;
  onProjectChanged(): void;
}) {
  return (
    <details className="io-panel" data-testid="io-panel">
      <summary className="io-summary">
        <span className="small">Upload · Mix · Share</span>
      </summary>
      <div className="panel-heading">
        <h2 className="small">Audio in and out</h2>
        <ShareDialog projectId={state.project.id} isOwner={state.role === 'owner'} />
      </div>
      <Uploads projectId={state.project.id} readOnly={readOnly} />
      <AutoMix state={state} readOnly={readOnly} onChanged={onProjectChanged} />
      <Mixdown projectId={state.project.id} readOnly={readOnly} />
    </details>
  );
}
