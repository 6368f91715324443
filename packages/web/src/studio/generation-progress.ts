/**
 * What the generate panel shows of a generation: the row folded with its live progress events (stages only move
 * forward, a late or repeated event cannot move it back), the stage names people read, and the money line: the
 * estimate held while it runs, the actual cost once it succeeded, the hold released when it did not.
 */
import {
  formatUsd,
  GENERATION_STAGES,
  isTerminalStatus,
  stageIndex,
  type GenerationProgressEvent,
  type GenerationStage,
  type GenerationView,
} from '@dawg/shared';

export const STAGE_LABELS: Record<GenerationStage, string> = {
  queued: 'Queued',
  writing_lyrics: 'Writing lyrics',
  generating: 'Generating',
  first_audio: 'First audio',
  processing: 'Processing',
  uploading: 'Uploading',
  done: 'Done',
};

export function applyProgressEvent(view: GenerationView, event: GenerationProgressEvent): GenerationView {
  // A finished row never moves again; anything after it is an echo.
  if (isTerminalStatus(view.status)) return view;
  const forward = stageIndex(event.stage) >= stageIndex(view.stage);
  return {
    ...view,
    status: event.status,
    stage: forward ? event.stage : view.stage,
    progress: Math.round(Math.max(view.progress, forward ? event.progress : view.progress)),
    error: event.error ?? view.error,
  };
}

export type StepState = 'done' | 'current' | 'todo' | 'failed';

/** Each stage's state for the step list; a failure marks the stage it happened in. */
export function stageSteps(view: Pick<GenerationView, 'stage' | 'status'>): { stage: GenerationStage; state: StepState }[] {
  const current = stageIndex(view.stage);
  return GENERATION_STAGES.map((stage, i) => {
    if (view.status === 'succeeded') return { stage, state: 'done' };
    if (i < current) return { stage, state: 'done' };
    if (i === current) return { stage, state: view.status === 'failed' || view.status === 'canceled' ? 'failed' : 'current' };
    return { stage, state: 'todo' };
  });
}

export function costLine(view: Pick<GenerationView, 'status' | 'estimatedCostMicro' | 'actualCostMicro'>): string {
  const held = formatUsd(view.estimatedCostMicro);
  switch (view.status) {
    case 'queued':
    case 'running':
      return `${held} held from your AI budget until it finishes`;
    case 'succeeded':
      return `Charged ${formatUsd(view.actualCostMicro ?? 0)} (${held} was held)`;
    case 'failed':
    case 'canceled':
      return `Nothing charged; the ${held} hold was released`;
  }
}

/** The failure as a sentence a person can act on. */
export function failureText(view: Pick<GenerationView, 'error' | 'status'>): string {
  if (view.status === 'canceled') return 'The generation was canceled.';
  const reason = view.error?.trim();
  return reason ? `The generation failed: ${reason}` : 'The generation failed. Please try again.';
}
