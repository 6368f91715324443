import { describe, expect, it } from 'vitest';
import { JOBS, JOB_NAMES, QUEUE_NAMES, jobsOfQueue, parseJobPayload } from './queues';

describe('queues', () => {
  it('defines one job per name, each on a known queue', () => {
    expect(Object.keys(JOBS).sort()).toEqual(Object.values(JOB_NAMES).sort());
    for (const job of Object.values(JOBS)) expect(Object.values(QUEUE_NAMES)).toContain(job.queue);
    expect(jobsOfQueue('generate').map((j) => j.name)).toEqual(['generate']);
    expect(jobsOfQueue('maintenance').length).toBeGreaterThan(1);
  });

  it('validates payloads', () => {
    const id = '5a7f3c1e-8d2b-4f6a-9c0e-1b2d3e4f5a6b';
    expect(parseJobPayload('generate', { generationId: id })).toEqual({ generationId: id });
    expect(() => parseJobPayload('generate', { generationId: 'abc' })).toThrow();
    expect(() => parseJobPayload('mixdown', { projectId: id })).toThrow();
    expect(parseJobPayload('purge-expired-sessions', {})).toEqual({});
  });
});
