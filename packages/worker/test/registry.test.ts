import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JOBS } from '@dawg/shared';
import { DEFERRED_JOBS, jobs, registryOptions } from '../src/jobs';
import { createJobRegistry, defineJob, JobRegistryError } from '../src/registry';

const render = defineJob({
  name: 'render.mix',
  queue: 'render',
  schema: z.object({ projectId: z.string().uuid(), gainDb: z.number().max(12) }),
  handler: (payload) => ({ rendered: payload.projectId }),
});

const ping = defineJob({
  name: 'maintenance.ping',
  queue: 'maintenance',
  schema: z.object({}).strict(),
  handler: () => ({ pong: true }),
});

describe('createJobRegistry', () => {
  it('indexes jobs by name and queue', () => {
    const registry = createJobRegistry([render, ping]);
    expect(registry.queues).toEqual(['maintenance', 'render']);
    expect(registry.get('render.mix')).toBe(render);
    expect(registry.forQueue('render')).toEqual([render]);
    expect(registry.get('nope')).toBeUndefined();
  });

  it('refuses two definitions with the same name', () => {
    const again = defineJob({ ...render, queue: 'other', handler: () => 'second' });
    expect(() => createJobRegistry([render, ping, again])).toThrow(JobRegistryError);
    expect(() => createJobRegistry([render, ping, again])).toThrow(/defined more than once: render\.mix/);
  });

  it('refuses to start when an expected job has no handler', () => {
    expect(() => createJobRegistry([ping], { expected: ['maintenance.ping', 'generate', 'mixdown'] })).toThrow(
      /jobs without a handler: generate, mixdown/,
    );
    expect(() => createJobRegistry([ping], { expected: ['maintenance.ping'] })).not.toThrow();
  });

  it('refuses a queue name BullMQ key layout cannot hold', () => {
    expect(() => createJobRegistry([{ ...ping, queue: 'a:b' }])).toThrow(/queue name "a:b"/);
  });

  it('returns the parsed payload of a valid job', () => {
    const registry = createJobRegistry([render]);
    const id = '4f0c2f7e-8a39-4d3f-9d61-2f4b3c1a2b3c';
    const { def, payload } = registry.parse('render.mix', { projectId: id, gainDb: 3 });
    expect(def).toBe(render);
    expect(payload).toEqual({ projectId: id, gainDb: 3 });
  });

  it('makes a bad payload unrecoverable, with the field-level reasons', () => {
    const registry = createJobRegistry([render]);
    let error: unknown;
    try {
      registry.parse('render.mix', { projectId: 'not-a-uuid', gainDb: 99 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/invalid payload for job "render\.mix"/);
    expect((error as Error).message).toMatch(/projectId:/);
    expect((error as Error).message).toMatch(/gainDb:/);
  });

  it('makes an unknown job name unrecoverable', () => {
    const registry = createJobRegistry([render]);
    expect(() => registry.parse('render.unknown', {})).toThrow(UnrecoverableError);
  });

  it('checks the job catalog: every entry served on its queue, unless deferred', () => {
    const catalog = { 'render.mix': { queue: 'render' }, 'render.stems': { queue: 'render' } };
    expect(() => createJobRegistry([render], { catalog })).toThrow(/jobs without a handler: render\.stems/);
    expect(() => createJobRegistry([render], { catalog, deferred: ['render.stems'] })).not.toThrow();
    expect(() => createJobRegistry([render], { catalog, deferred: ['render.stems', 'render.mix'] })).toThrow(
      /deferred but having a handler: render\.mix/,
    );
    expect(() => createJobRegistry([render], { catalog: { 'render.mix': { queue: 'mixdown' } } })).toThrow(
      /runs on queue "render" but producers send it to "mixdown"/,
    );
  });

  it("the worker's own registry covers the shared catalog (served or explicitly deferred)", () => {
    const registry = createJobRegistry(jobs, registryOptions);
    for (const name of Object.keys(JOBS)) {
      expect(registry.get(name) !== undefined || DEFERRED_JOBS.includes(name as never)).toBe(true);
    }
    expect(registry.parse('maintenance.ping', {}).payload).toEqual({});
    expect(() => registry.parse('maintenance.ping', { secret: 'x' })).toThrow(UnrecoverableError);
  });
});
