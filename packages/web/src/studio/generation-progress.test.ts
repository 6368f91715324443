import { describe, expect, it } from 'vitest';
import type { GenerationView } from '@dawg/shared';
import { applyProgressEvent, costLine, failureText, stageSteps } from './generation-progress';

const view: GenerationView = {
  id: '00000000-0000-4000-8000-000000000001',
  kind: 'song',
  status: 'running',
  stage: 'generating',
  progress: 20,
  prompt: 'lofi',
  params: {},
  provider: 'local',
  model: 'dawg-synth-1',
  projectId: null,
  error: null,
  errorCode: null,
  attempts: 1,
  estimatedCostMicro: 12_500,
  actualCostMicro: null,
  durationMs: null,
  createdAt: '',
  startedAt: null,
  completedAt: null,
  tracks: [],
};

const event = (stage: GenerationView['stage'], progress: number, status: GenerationView['status'] = 'running') => ({
  generationId: view.id,
  status,
  stage,
  progress,
  at: 0,
});

describe('generation progress', () => {
  it('moves forward only', () => {
    const later = applyProgressEvent(view, event('processing', 80));
    expect(later).toMatchObject({ stage: 'processing', progress: 80 });
    expect(applyProgressEvent(later, event('generating', 30))).toMatchObject({ stage: 'processing', progress: 80 });
    const done = applyProgressEvent(later, event('done', 100, 'succeeded'));
    expect(done.status).toBe('succeeded');
    expect(applyProgressEvent(done, event('processing', 80, 'running')).status).toBe('succeeded');
  });

  it('marks the stages done, current, failed', () => {
    const steps = stageSteps({ stage: 'generating', status: 'running' });
    expect(steps.map((s) => s.state)).toEqual(['done', 'done', 'current', 'todo', 'todo', 'todo', 'todo']);
    expect(stageSteps({ stage: 'generating', status: 'failed' })[2]?.state).toBe('failed');
    expect(stageSteps({ stage: 'done', status: 'succeeded' }).every((s) => s.state === 'done')).toBe(true);
  });

  it('says what is held, charged or released, and why it failed', () => {
    expect(costLine(view)).toBe('$0.0125 held from your AI budget until it finishes');
    expect(costLine({ ...view, status: 'succeeded', actualCostMicro: 10_000 })).toBe('Charged $0.01 ($0.0125 was held)');
    expect(costLine({ ...view, status: 'failed' })).toBe('Nothing charged; the $0.0125 hold was released');
    expect(failureText({ status: 'failed', error: 'Provider timed out' })).toBe('The generation failed: Provider timed out');
    expect(failureText({ status: 'failed', error: null })).toMatch(/try again/);
  });
});
