/**
 * API keys for scripts and integrations (sent as `x-api-key`). A new key is shown exactly once, in a copy box: the
 * api keeps only its hash, so nothing can show it again. The list identifies keys by name and clear-text prefix.
 */
import { useEffect, useRef, useState } from 'react';
import type { RouterOutputs } from '@dawg/api';
import { apiKeyCreateInputSchema, LIMITS } from '@dawg/shared';
import { ConfirmDialog } from '../../components/confirm-dialog';
import { ErrorPanel } from '../../components/error-boundary';
import { FormAlert, SubmitButton, TextField, useForm } from '../../components/form';
import { useToast } from '../../components/toasts';
import { collect, firstErrors, schemaErrors } from '../../lib/auth-validation';
import { errorsFromFailure } from '../../lib/form-errors';
import { formatDateTime, isoString } from '../../lib/format';
import { trpc } from '../../lib/trpc';

type ApiKeyRow = RouterOutputs['apiKeys']['list'][number];

interface NewKey {
  name: string;
  key: string;
}

function nameProblem(value: string): string | null {
  const name = value.trim();
  if (name === '') return 'Name the key after where it will be used, e.g. "Render server".';
  if (name.length > LIMITS.API_KEY_NAME_MAX_CHARS) return `Use at most ${LIMITS.API_KEY_NAME_MAX_CHARS} characters.`;
  return null;
}

export function ApiKeysSection() {
  const keys = trpc.apiKeys.list.useQuery();
  const create = trpc.apiKeys.create.useMutation();
  const revoke = trpc.apiKeys.revoke.useMutation();
  const utils = trpc.useUtils();
  const { notify } = useToast();
  const [created, setCreated] = useState<NewKey | null>(null);
  const [target, setTarget] = useState<ApiKeyRow | null>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const form = useForm(
    { name: '' },
    {
      validate: (v, fields) =>
        firstErrors(
          () => collect({ name: nameProblem(v.name) }),
          () => schemaErrors(apiKeyCreateInputSchema, { name: v.name.trim() }, fields),
        ),
    },
  );

  const active = keys.data?.filter((k) => !k.revokedAt) ?? [];
  const atLimit = active.length >= LIMITS.API_KEYS_PER_USER;

  async function confirmRevoke() {
    if (!target) return;
    try {
      await revoke.mutateAsync({ id: target.id });
      notify(`Key “${target.name}” revoked.`, { tone: 'success' });
      await utils.apiKeys.list.invalidate();
    } catch (err) {
      notify(`Could not revoke “${target.name}”. ${errorsFromFailure(err, []).form ?? ''}`, { tone: 'error' });
    } finally {
      setTarget(null);
      headingRef.current?.focus();
    }
  }

  return (
    <section id="api-keys" className="card" aria-labelledby="api-keys-title">
      <h2 id="api-keys-title" ref={headingRef} tabIndex={-1}>
        API keys
      </h2>
      <p className="muted">
        Keys let scripts use DAWG AI as you: send one in the <code>x-api-key</code> header. Up to{' '}
        {LIMITS.API_KEYS_PER_USER} keys; revoke any you no longer use.
      </p>

      {created && (
        <NewKeyReveal
          created={created}
          onDone={() => {
            setCreated(null);
            headingRef.current?.focus();
          }}
        />
      )}

      <form
        ref={form.formRef}
        className="form form-inline"
        noValidate
        aria-label="Create an API key"
        onSubmit={form.submit(async ({ name }) => {
          const result = await create.mutateAsync({ name: name.trim() });
          setCreated({ name: result.name, key: result.key });
          form.reset();
          await utils.apiKeys.list.invalidate();
        })}
      >
        <FormAlert message={form.errors.form} alertRef={form.alertRef} />
        <TextField
          label="Key name"
          autoComplete="off"
          maxLength={LIMITS.API_KEY_NAME_MAX_CHARS}
          hint="Shown in the list below so you can tell keys apart."
          {...form.bind('name')}
        />
        <SubmitButton pending={form.pending} pendingLabel="Creating…">
          Create key
        </SubmitButton>
        {atLimit && <p className="field-hint">You have {active.length} keys, the most allowed. Revoke one first.</p>}
      </form>

      {keys.error ? (
        <ErrorPanel message={keys.error.message} onRetry={() => void keys.refetch()} />
      ) : !keys.data ? (
        <p className="muted" aria-busy="true">
          Loading keys…
        </p>
      ) : keys.data.length === 0 ? (
        <p className="muted" data-testid="api-keys-empty">
          No API keys yet.
        </p>
      ) : (
        <div className="table-wrap">
          <table className="data-table" data-testid="api-keys">
            <caption className="visually-hidden">Your API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Key</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((k) => (
                <tr key={k.id} data-testid="api-key-row" data-revoked={k.revokedAt ? 'true' : 'false'}>
                  <th scope="row">{k.name}</th>
                  <td>
                    <code data-testid="api-key-prefix">{k.prefix}…</code>
                  </td>
                  <td>
                    <time dateTime={isoString(k.createdAt)}>{formatDateTime(k.createdAt)}</time>
                  </td>
                  <td>
                    {k.lastUsedAt ? (
                      <time dateTime={isoString(k.lastUsedAt)}>{formatDateTime(k.lastUsedAt)}</time>
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                  <td className="actions">
                    {k.revokedAt ? (
                      <span className="badge badge-down badge-inline" title={`Revoked ${formatDateTime(k.revokedAt)}`}>
                        revoked
                      </span>
                    ) : (
                      <button type="button" className="button button-secondary button-small" onClick={() => setTarget(k)}>
                        Revoke<span className="visually-hidden"> key {k.name}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <ConfirmDialog
        open={target !== null}
        title="Revoke this API key?"
        confirmLabel="Revoke key"
        pending={revoke.isPending}
        onConfirm={() => void confirmRevoke()}
        onCancel={() => setTarget(null)}
      >
        {target && (
          <p>
            Anything using “{target.name}” (<code>{target.prefix}…</code>) stops working immediately. This cannot be
            undone.
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}

type CopyState = 'idle' | 'copied' | 'failed';

/** Clipboard API first; the selection fallback covers browsers that refuse it (permissions, insecure origins). */
async function copyToClipboard(text: string, input: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!input) return false;
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

function NewKeyReveal({ created, onDone }: { created: NewKey; onDone: () => void }) {
  const inputRef = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<CopyState>('idle');

  // The key is what the user came for: put focus (and the screen reader) on it.
  useEffect(() => {
    inputRef.current?.focus();
    inputRef.current?.select();
  }, [created.key]);

  return (
    <div className="key-reveal" role="region" aria-labelledby="new-key-title" data-testid="new-key">
      <h3 id="new-key-title">Your new key “{created.name}”</h3>
      <p className="key-warning" id="new-key-warning">
        <strong>Copy it now: it won’t be shown again.</strong> We keep only a fingerprint of it. If you lose it, revoke
        it and create a new one.
      </p>
      <div className="input-row">
        <input
          ref={inputRef}
          className="input input-mono"
          readOnly
          value={created.key}
          aria-label={`API key ${created.name}`}
          aria-describedby="new-key-warning"
          spellCheck={false}
          autoComplete="off"
          onFocus={(e) => e.currentTarget.select()}
          data-testid="new-api-key"
        />
        <button
          type="button"
          className="button"
          onClick={() => void copyToClipboard(created.key, inputRef.current).then((ok) => setCopy(ok ? 'copied' : 'failed'))}
        >
          Copy
        </button>
      </div>
      <p role="status" className={copy === 'failed' ? 'field-error' : 'muted'} data-testid="copy-status">
        {copy === 'copied'
          ? 'Copied to the clipboard.'
          : copy === 'failed'
            ? 'Could not copy. The key is selected: press Ctrl+C (⌘C on a Mac).'
            : ''}
      </p>
      <button type="button" className="button button-secondary" onClick={onDone}>
        Done, I have saved it
      </button>
    </div>
  );
}
