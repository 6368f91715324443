/**
 * The signed-in home: the user's projects (newest edit first), "New project" (name, tempo) which opens the studio,
 * and deleting a project after a confirmation.
 */
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { createProjectInputSchema, LIMITS, type CreateProjectInput } from '@dawg/shared';
import { ConfirmDialog } from '../components/confirm-dialog';
import { FormAlert, SubmitButton, TextField, useForm } from '../components/form';
import { useToast } from '../components/toasts';
import { collect, firstErrors, schemaErrors } from '../lib/auth-validation';
import { useSignedInUser } from '../lib/auth';
import { formatDateTime, isoString } from '../lib/format';
import { errorsFromFailure, SESSION_ENDED } from '../lib/form-errors';
import { trpc } from '../lib/trpc';
import { usePageTitle } from '../lib/use-page-title';
import type { ProjectSummary } from '../studio/types';

function projectInput(v: { name: string; bpm: string }): CreateProjectInput {
  return { name: v.name.trim(), ...(v.bpm.trim() ? { bpm: Number(v.bpm) } : {}) };
}

export function HomePage() {
  usePageTitle(null);
  const user = useSignedInUser();
  const name = user.name?.trim() || user.email;
  const projects = trpc.project.list.useQuery();
  const create = trpc.project.create.useMutation();
  const utils = trpc.useUtils();
  const navigate = useNavigate();
  const form = useForm(
    { name: '', bpm: '120' },
    {
      validate: (v, fields) =>
        firstErrors(
          () =>
            collect({
              name: v.name.trim() ? null : 'Give the project a name.',
              bpm:
                v.bpm.trim() && !(Number(v.bpm) >= LIMITS.BPM_MIN && Number(v.bpm) <= LIMITS.BPM_MAX)
                  ? `Use a tempo from ${LIMITS.BPM_MIN} to ${LIMITS.BPM_MAX} BPM.`
                  : null,
            }),
          () => schemaErrors(createProjectInputSchema, projectInput(v), fields),
        ),
      mapping: SESSION_ENDED,
    },
  );

  return (
    <section className="page home-page" aria-labelledby="home-title">
      <h1 id="home-title">Your projects</h1>
      <p className="lede">
        Signed in as <strong data-testid="current-user">{name}</strong>
        {name !== user.email && <span className="muted"> ({user.email})</span>}. Prompt songs and loops, then arrange
        and mix them in the studio.
      </p>

      <form
        ref={form.formRef}
        className="card form new-project"
        noValidate
        aria-labelledby="new-project-title"
        onSubmit={form.submit(async (values) => {
          const state = await create.mutateAsync(projectInput(values));
          void utils.project.list.invalidate();
          utils.project.get.setData({ id: state.project.id }, state);
          await navigate(`/projects/${state.project.id}`);
        })}
      >
        <h2 id="new-project-title">New project</h2>
        <FormAlert message={form.errors.form} alertRef={form.alertRef} />
        <div className="field-grid">
          <TextField label="Project name" maxLength={LIMITS.PROJECT_NAME_MAX_CHARS} {...form.bind('name')} />
          <TextField
            label="Tempo (BPM)"
            type="number"
            inputMode="numeric"
            min={LIMITS.BPM_MIN}
            max={LIMITS.BPM_MAX}
            {...form.bind('bpm')}
          />
        </div>
        <SubmitButton pending={form.pending} pendingLabel="Creating…">
          New project
        </SubmitButton>
      </form>

      <h2 id="projects-title">Projects</h2>
      {projects.isPending && (
        <p className="muted" aria-busy="true">
          Loading projects…
        </p>
      )}
      {projects.error && (
        <div className="notice notice-error" role="alert">
          <p>Your projects could not be loaded. {errorsFromFailure(projects.error, []).form}</p>
          <button type="button" className="button" onClick={() => void projects.refetch()}>
            Try again
          </button>
        </div>
      )}
      {projects.data && projects.data.length === 0 && (
        <p className="muted" data-testid="no-projects">
          No projects yet. Name one above to open the studio.
        </p>
      )}
      {projects.data && projects.data.length > 0 && (
        <ul className="project-list" aria-labelledby="projects-title">
          {projects.data.map((p) => (
            <ProjectRow key={p.id} project={p} />
          ))}
        </ul>
      )}
      <p className="muted small">
        Manage your password, devices and API keys in your <Link to="/account">account</Link>. Is everything up? See
        the <Link to="/status">system status</Link>.
      </p>
    </section>
  );
}

function ProjectRow({ project }: { project: ProjectSummary }) {
  const [confirming, setConfirming] = useState(false);
  const remove = trpc.project.delete.useMutation();
  const utils = trpc.useUtils();
  const { notify } = useToast();
  const owner = project.role === 'owner';

  async function confirmDelete() {
    try {
      await remove.mutateAsync({ id: project.id });
      setConfirming(false);
      notify(`“${project.name}” was deleted.`, { tone: 'success' });
      await utils.project.list.invalidate();
    } catch (err) {
      setConfirming(false);
      notify(`Could not delete the project. ${errorsFromFailure(err, [], SESSION_ENDED).form ?? ''}`, { tone: 'error' });
    }
  }

  return (
    <li className="project-row" data-testid="project-row">
      <div>
        <Link to={`/projects/${project.id}`} className="project-link">
          {project.name}
        </Link>
        <p className="muted small">
          {project.bpm} BPM · {project.timeSignature}
          {project.key ? ` · ${project.key}` : ''} · edited{' '}
          <time dateTime={isoString(project.updatedAt)}>{formatDateTime(project.updatedAt)}</time>
          {!owner && <span className="badge badge-inline capitalize">{project.role}</span>}
        </p>
      </div>
      {owner && (
        <button
          type="button"
          className="button button-danger button-small"
          onClick={() => setConfirming(true)}
          aria-label={`Delete ${project.name}`}
        >
          Delete
        </button>
      )}
      <ConfirmDialog
        open={confirming}
        title="Delete this project?"
        confirmLabel="Delete project"
        pending={remove.isPending}
        onConfirm={() => void confirmDelete()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          “{project.name}” and its arrangement will be deleted. The tracks stay in your library.
        </p>
      </ConfirmDialog>
    </li>
  );
}
