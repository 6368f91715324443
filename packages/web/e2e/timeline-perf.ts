/**
 * Timeline performance in Chromium: a project with 200 clips on 8 lanes (made through the api, on tracks the worker
 * renders with the zero-cost test provider) is opened at 1280×800, then scrolled sideways and down, zoomed with
 * Ctrl+wheel and the zoom buttons, and scrolled back, while a PerformanceObserver collects every long task (a main
 * thread task over 50 ms) and a requestAnimationFrame loop the gaps between frames. For `pnpm bench` (the goal: no
 * long task while scrolling and zooming); not asserted in CI. Runs standalone too:
 *
 *   pnpm exec tsx packages/web/e2e/timeline-perf.ts      (prints the result as JSON)
 *
 * Needs Postgres and Redis like the e2e tests; makes (and drops) its own database from the migrated template.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import type { Page } from 'playwright-core';
import type { AppRouter } from '@dawg/api';
import { createDb } from '@dawg/db';
import { SESSION_COOKIE_NAME, type ArrangementOp } from '@dawg/shared';
import {
  adminUrl,
  createUser,
  databaseUrl,
  dropDatabase,
  ensureTemplateDatabase,
  newRunId,
  quoteIdent,
  TEST_DB_PREFIX,
  waitFor,
  withAdminClient,
  type TestDatabase,
} from '@dawg/testing';
import { startStack } from './support/stack';

export interface TimelinePerfOptions {
  clips?: number;
  lanes?: number;
  /** Wheel steps each way (more = a longer measurement). */
  steps?: number;
  log?: (line: string) => void;
}

export interface TimelinePerfResult {
  clips: number;
  lanes: number;
  /** Durations (ms) of the long tasks seen while scrolling and zooming. */
  longTasksMs: number[];
  maxLongTaskMs: number;
  /** Sum of the parts of long tasks beyond 50 ms (Total Blocking Time over the interaction). */
  totalBlockingMs: number;
  /** Longest gap between two animation frames during the interaction. */
  maxFrameGapMs: number;
  frames: number;
  interactionMs: number;
}

/** A database cloned from the migrated template, without vitest's global setup (for scripts). */
async function standaloneDatabase(): Promise<TestDatabase> {
  const admin = adminUrl();
  const template = await ensureTemplateDatabase(admin);
  const name = `${TEST_DB_PREFIX}${newRunId()}_${randomBytes(4).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`), admin);
  const url = databaseUrl(admin, name);
  const db = createDb({ connectionString: url, max: 5 });
  let dropped = false;
  return {
    url,
    name,
    db,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.destroy();
      await withAdminClient((client) => dropDatabase(client, name), admin);
    },
  };
}

declare global {
  interface Window {
    __perf?: { longTasks: { start: number; duration: number }[]; frames: number[]; recording: boolean };
  }
}

/** Collects long tasks and frame times once `window.__perf.recording` is set. */
const OBSERVERS = `(() => {
  const perf = { longTasks: [], frames: [], recording: false };
  window.__perf = perf;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (perf.recording) perf.longTasks.push({ start: entry.startTime, duration: entry.duration });
    }
  }).observe({ type: 'longtask', buffered: false });
  const onFrame = (t) => {
    if (perf.recording) perf.frames.push(t);
    requestAnimationFrame(onFrame);
  };
  requestAnimationFrame(onFrame);
})();`;

async function wheel(page: Page, dx: number, dy: number, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await page.mouse.wheel(dx, dy);
    await page.waitForTimeout(16);
  }
}

export async function measureTimelineLongTasks(options: TimelinePerfOptions = {}): Promise<TimelinePerfResult> {
  const clipCount = options.clips ?? 200;
  const laneCount = options.lanes ?? 8;
  const steps = options.steps ?? 30;
  const log = options.log ?? (() => undefined);
  const stack = await startStack({
    label: 'timeline-perf',
    worker: true,
    env: { MUSIC_PROVIDER: 'test', RATE_LIMIT_MAX: '100000' },
    createDatabase: standaloneDatabase,
  });
  try {
    const { token } = await createUser(stack.db.db, { plan: 'pro' });
    const api = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `${stack.apiUrl}/trpc`, headers: { authorization: `Bearer ${token}` } })],
    });

    // Tracks: two generations of two takes each with the test tone.
    log('rendering tracks');
    const jobs = await Promise.all(
      ['first perf tone', 'second perf tone'].map((prompt) =>
        api.generation.create.mutate({ mode: 'simple', prompt, duration: 6, variants: 2, provider: 'test' }),
      ),
    );
    const trackIds: string[] = [];
    for (const { jobId } of jobs) {
      await waitFor(
        async () => {
          const g = await api.generation.get.query({ id: jobId });
          if (g.status === 'failed') throw new Error(`generation failed: ${g.error}`);
          if (g.status !== 'succeeded') return false;
          trackIds.push(...g.tracks.map((t) => t.id));
          return true;
        },
        { timeoutMs: 60_000, intervalMs: 250, description: `generation ${jobId}` },
      );
    }
    const tracks = (await api.track.list.query({ limit: 100 })).items.filter((t) => trackIds.includes(t.id));
    if (tracks.length === 0) throw new Error('no tracks were rendered');

    // The project: lanes first, then the clips in batches (an edit holds at most 200 operations).
    log(`arranging ${clipCount} clips on ${laneCount} lanes`);
    let state = await api.project.create.mutate({ name: 'Timeline performance', bpm: 120 });
    const laneIds = Array.from({ length: laneCount }, () => crypto.randomUUID());
    state = await api.arrangement.applyOps.mutate({
      projectId: state.project.id,
      expectedVersion: state.project.version,
      ops: laneIds.map((id, i) => ({ type: 'addLane', lane: { id, name: `Lane ${i + 1}` } })),
    });
    const clipOps: ArrangementOp[] = Array.from({ length: clipCount }, (_, i) => {
      const track = tracks[i % tracks.length];
      const lane = laneIds[i % laneCount];
      if (!track || !lane) throw new Error('unreachable');
      const length = Math.min(track.durationSec ?? 4, 6);
      return {
        type: 'addClip',
        clip: { laneId: lane, trackId: track.id, startSec: Math.floor(i / laneCount) * 8, lengthSec: length },
      };
    });
    for (let i = 0; i < clipOps.length; i += 100) {
      state = await api.arrangement.applyOps.mutate({
        projectId: state.project.id,
        expectedVersion: state.project.version,
        ops: clipOps.slice(i, i + 100),
      });
    }
    if (state.clips.length !== clipCount) throw new Error(`expected ${clipCount} clips, got ${state.clips.length}`);

    // The studio, with the observers installed before any script of the page runs.
    const context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      await context.addCookies([{ name: SESSION_COOKIE_NAME, value: token, url: stack.webUrl }]);
      // A string, not a function: a function would be serialised as tsx compiled it, with helpers the page lacks.
      await context.addInitScript(OBSERVERS);
      const page = await context.newPage();
      await page.goto(`${stack.webUrl}/projects/${state.project.id}`);
      await page.getByTestId('studio').waitFor({ timeout: 30_000 });
      await waitFor(async () => (await page.getByTestId('lane-canvas').count()) === laneCount, {
        description: 'the lanes drawn',
      });
      await waitFor(
        async () =>
          (await page.locator('[data-testid="track-waveform"][data-peaks="loaded"]').count()) >= tracks.length,
        { timeoutMs: 30_000, description: 'the waveform peaks loaded' },
      );
      await page.waitForTimeout(500);

      log('scrolling and zooming');
      const box = await page.getByTestId('timeline-scroll').boundingBox();
      if (!box) throw new Error('no timeline');
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const started = await page.evaluate(() => {
        if (window.__perf) window.__perf.recording = true;
        return performance.now();
      });
      await wheel(page, 300, 0, steps);
      await wheel(page, 0, 120, 4);
      await page.keyboard.down('Control');
      await wheel(page, 0, -150, Math.ceil(steps / 3));
      await wheel(page, 0, 200, Math.ceil(steps / 2));
      await page.keyboard.up('Control');
      await wheel(page, -300, 0, steps);
      for (let i = 0; i < 6; i++) await page.getByRole('button', { name: 'Zoom in' }).click();
      await wheel(page, 400, 0, Math.ceil(steps / 2));
      for (let i = 0; i < 6; i++) await page.getByRole('button', { name: 'Zoom out' }).click();
      await wheel(page, 0, -120, 4);
      await page.waitForTimeout(300);
      // The studio must still be there: a sideways overscroll must not have navigated away.
      if (!page.url().includes(state.project.id)) throw new Error(`the page left the studio for ${page.url()}`);
      // Calibration: a deliberate 80 ms task must be seen, or the numbers above mean nothing.
      // It runs as a timer task of the page: work done inside a DevTools evaluation is not a task the page observes.
      const ended = await page.evaluate(() => {
        const mark = performance.now();
        setTimeout(() => {
          const until = performance.now() + 80;
          while (performance.now() < until) {
            // busy on purpose
          }
        }, 0);
        return mark;
      });
      await page.waitForTimeout(300);
      const perf = await page.evaluate(() => {
        const p = window.__perf;
        if (!p) throw new Error('observers missing');
        p.recording = false;
        return { longTasks: p.longTasks, frames: p.frames.filter((t) => t < performance.now()) };
      });
      if (!perf.longTasks.some((t) => t.start >= ended - 1 && t.duration >= 75)) {
        throw new Error('the long-task observer did not see the calibration task: measurement invalid');
      }
      const longTasksMs = perf.longTasks
        .filter((t) => t.start >= started && t.start < ended - 1)
        .map((t) => Math.round(t.duration));
      const frames = perf.frames.filter((t) => t < ended);
      let maxFrameGapMs = 0;
      for (let i = 1; i < frames.length; i++) {
        maxFrameGapMs = Math.max(maxFrameGapMs, (frames[i] ?? 0) - (frames[i - 1] ?? 0));
      }
      return {
        clips: clipCount,
        lanes: laneCount,
        longTasksMs,
        maxLongTaskMs: Math.max(0, ...longTasksMs),
        totalBlockingMs: longTasksMs.reduce((sum, d) => sum + Math.max(0, d - 50), 0),
        maxFrameGapMs: Math.round(maxFrameGapMs),
        frames: frames.length,
        interactionMs: Math.round(ended - started),
      };
    } finally {
      await context.close();
    }
  } finally {
    await stack.stop();
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  measureTimelineLongTasks({ log: (line) => process.stderr.write(`timeline-perf: ${line}\n`) }).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`timeline-perf failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
