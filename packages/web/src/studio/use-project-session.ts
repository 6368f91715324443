/**
 * Editing one project: the state from `project.get`, edits sent one at a time (`arrangement.apply`, undo, redo,
 * `project.update`) each with the `expectedVersion` of the newest state the client has, and the edits still on their
 * way shown on top of it at once (optimistic), so a dropped clip stays where it was dropped. When the api answers
 * CONFLICT (another tab or a collaborator changed the project first) nothing was written: the queued edits are
 * dropped, the project is fetched again and the user is told.
 */
import { useCallback, useMemo, useRef, useState } from 'react';
import type { UpdateProjectInput } from '@dawg/shared';
import { useToast } from '../components/toasts';
import { errorCode, errorsFromFailure } from '../lib/form-errors';
import { trpc } from '../lib/trpc';
import { applyOps } from './arrangement';
import type { ArrangementOp, ProjectState } from './types';

export type ProjectChanges = Omit<UpdateProjectInput, 'id' | 'expectedVersion'>;

interface PendingEdit {
  key: number;
  epoch: number;
  show(state: ProjectState): ProjectState;
}

export interface ProjectSession {
  /** What the screen shows: the api's state with the edits still on their way applied. */
  state: ProjectState | undefined;
  loading: boolean;
  error: unknown;
  refetch(): void;
  readOnly: boolean;
  /** Edits are on their way to the api. */
  saving: boolean;
  apply(ops: ArrangementOp[]): void;
  undo(): void;
  redo(): void;
  updateProject(changes: ProjectChanges): void;
}

export const CONFLICT_MESSAGE =
  'This project was changed somewhere else (another tab or a collaborator), so your last edit was not saved. ' +
  'The studio now shows the latest version.';

export function useProjectSession(projectId: string): ProjectSession {
  const utils = trpc.useUtils();
  const { notify } = useToast();
  const query = trpc.project.get.useQuery({ id: projectId }, { staleTime: 30_000 });
  const applyMutation = trpc.arrangement.applyOps.useMutation();
  const undoMutation = trpc.arrangement.undo.useMutation();
  const redoMutation = trpc.arrangement.redo.useMutation();
  const updateMutation = trpc.project.update.useMutation();

  const [pending, setPending] = useState<PendingEdit[]>([]);
  const chain = useRef<Promise<void>>(Promise.resolve());
  const epoch = useRef(0);
  const nextKey = useRef(1);
  const latest = useRef<ProjectState | undefined>(undefined);
  // The cache can be older than what an edit's answer already told us (a refetch started before it landed).
  if (query.data && (!latest.current || query.data.project.version >= latest.current.project.version)) {
    latest.current = query.data;
  }

  const enqueue = useCallback(
    (send: (expectedVersion: number) => Promise<ProjectState>, show?: (state: ProjectState) => ProjectState) => {
      const myEpoch = epoch.current;
      const key = nextKey.current++;
      if (show) setPending((list) => [...list, { key, epoch: myEpoch, show }]);
      chain.current = chain.current.then(async () => {
        try {
          const base = latest.current;
          // An earlier edit conflicted: this one was made on a state that no longer exists.
          if (myEpoch !== epoch.current || !base) return;
          const next = await send(base.project.version);
          latest.current = next;
          utils.project.get.setData({ id: projectId }, next);
        } catch (err) {
          if (errorCode(err) === 'CONFLICT') {
            epoch.current++;
            setPending([]);
            notify(CONFLICT_MESSAGE, { tone: 'error', timeoutMs: 10_000 });
            latest.current = undefined;
            await utils.project.get.invalidate({ id: projectId });
          } else {
            const message = errorsFromFailure(err, []).form ?? 'Unknown error.';
            notify(`Could not save the change. ${message}`, { tone: 'error' });
          }
        } finally {
          setPending((list) => list.filter((edit) => edit.key !== key));
        }
      });
    },
    [notify, projectId, utils],
  );

  const apply = useCallback(
    (ops: ArrangementOp[]) => {
      if (ops.length === 0) return;
      enqueue(
        (expectedVersion) => applyMutation.mutateAsync({ projectId, expectedVersion, ops }),
        (state) => applyOps(state, ops),
      );
    },
    [enqueue, applyMutation, projectId],
  );

  const undo = useCallback(() => {
    enqueue((expectedVersion) => undoMutation.mutateAsync({ projectId, expectedVersion }));
  }, [enqueue, undoMutation, projectId]);

  const redo = useCallback(() => {
    enqueue((expectedVersion) => redoMutation.mutateAsync({ projectId, expectedVersion }));
  }, [enqueue, redoMutation, projectId]);

  const updateProject = useCallback(
    (changes: ProjectChanges) => {
      enqueue(
        (expectedVersion) =>
          updateMutation.mutateAsync({ id: projectId, expectedVersion, ...changes }),
        (state) => ({ ...state, project: { ...state.project, ...changes } }),
      );
    },
    [enqueue, updateMutation, projectId],
  );

  const state = useMemo(() => {
    if (!query.data) return undefined;
    return pending.filter((edit) => edit.epoch === epoch.current).reduce((s, edit) => edit.show(s), query.data);
  }, [query.data, pending]);

  const { refetch: refetchQuery } = query;
  const refetch = useCallback(() => void refetchQuery(), [refetchQuery]);

  return {
    state,
    loading: query.isPending,
    error: query.error,
    refetch,
    readOnly: state?.role === 'viewer',
    saving: pending.length > 0,
    apply,
    undo,
    redo,
    updateProject,
  };
}
