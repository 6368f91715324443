import { describe, expect, it } from 'vitest';
import { arrangeBar, chordAt, chordsPerBar, isDrum, STEPS_PER_BAR } from './arrangement';
import { layoutForm, layoutSections, sectionAt } from './form';
import { resolvePlan } from './params';
import { SCALES } from './theory';

const PROMPTS = [
  '90 bpm lofi hip hop with rhodes',
  'dark techno 128',
  'happy pop song',
  'jazz trio piano',
  'house',
  'rock',
  'cinematic',
  'reggae',
  'classical',
  'trap',
  'funk',
];

describe('arrangeBar', () => {
  it('is a pure function of (plan, bar): any order, any number of times, same notes', () => {
    const plan = resolvePlan({ prompt: 'happy pop song', durationSec: 60, seed: 9 });
    const forward = Array.from({ length: plan.form.totalBars }, (_, b) => arrangeBar(plan, b));
    const backward = Array.from({ length: plan.form.totalBars }, (_, i) =>
      arrangeBar(plan, plan.form.totalBars - 1 - i),
    ).reverse();
    expect(backward).toEqual(forward);
  });

  it.each(PROMPTS)('keeps "%s" in key: chords and pads play only tones of the bar’s chord', (prompt) => {
    const plan = resolvePlan({ prompt, durationSec: 60, seed: 4 });
    const scale = SCALES[plan.scale].map((s) => (s + plan.tonic) % 12);
    for (let bar = 0; bar < plan.form.totalBars; bar++) {
      const { chord, events } = arrangeBar(plan, bar);
      for (const root of [chord.root]) expect(scale).toContain(root);
      for (const e of events) {
        if (e.part === 'chords' || e.part === 'pad') expect(chord.tones).toContain(((e.midi % 12) + 12) % 12);
      }
    }
  });

  it.each(PROMPTS)('"%s": every note starts inside its bar, so harmony changes only on bar lines', (prompt) => {
    const plan = resolvePlan({ prompt, durationSec: 40, seed: 2 });
    for (let bar = 0; bar < plan.form.totalBars; bar++) {
      for (const e of arrangeBar(plan, bar).events) {
        expect(e.step).toBeGreaterThanOrEqual(0);
        expect(e.step).toBeLessThan(STEPS_PER_BAR);
        expect(e.nudgeMs).toBeGreaterThanOrEqual(0);
        expect(e.vel).toBeGreaterThan(0);
        expect(e.vel).toBeLessThanOrEqual(1.2);
      }
    }
  });

  it('changes chords only every chordBars bars, resolves the last bar to the tonic and names every bar', () => {
    const plan = resolvePlan({ prompt: 'deep house', durationSec: 90, seed: 1 });
    expect(plan.chordBars).toBe(2);
    const names = chordsPerBar(plan);
    expect(names).toHaveLength(plan.form.totalBars);
    for (let bar = 1; bar < plan.form.totalBars - 1; bar++) {
      const s = sectionAt(plan.form, bar);
      if (s.barInSection % 2 === 1) expect(chordAt(plan, bar)).toEqual(chordAt(plan, bar - 1));
    }
    expect(chordAt(plan, plan.form.totalBars - 1).degree).toBe(0);
  });

  it('plays a four-on-the-floor kick for house and techno verses, a backbeat for pop', () => {
    const kicks = (prompt: string): number[] => {
      const plan = resolvePlan({ prompt, durationSec: 60, seed: 1 });
      const bar = plan.sections.find((s) => s.kind === 'verse')?.startBar ?? 0;
      return arrangeBar(plan, bar)
        .events.filter((e) => e.part === 'kick')
        .map((e) => e.step);
    };
    expect(kicks('house')).toEqual([0, 4, 8, 12]);
    expect(kicks('dark techno')).toEqual([0, 4, 8, 12]);
    const plan = resolvePlan({ prompt: 'happy pop song', durationSec: 60, seed: 1 });
    const verse = plan.sections.find((s) => s.kind === 'verse')?.startBar ?? 0;
    const snares = arrangeBar(plan, verse)
      .events.filter((e) => e.part === 'snare')
      .map((e) => e.step);
    expect(snares).toEqual(expect.arrayContaining([4, 12]));
  });

  it('gives sections different textures: the chorus is fuller than the intro, the lead sings in the chorus', () => {
    const plan = resolvePlan({ prompt: 'happy pop song', durationSec: 60, seed: 3 });
    const barOf = (kind: string): number => plan.sections.find((s) => s.kind === kind)?.startBar ?? -1;
    const intro = arrangeBar(plan, barOf('intro')).events;
    const chorus = arrangeBar(plan, barOf('chorus')).events;
    expect(chorus.length).toBeGreaterThan(intro.length);
    expect(intro.some((e) => e.part === 'lead')).toBe(false);
    expect(chorus.some((e) => e.part === 'lead')).toBe(true);
    expect(chorus.some((e) => e.part === 'crash')).toBe(true);
    expect(intro.some((e) => e.part === 'bass')).toBe(false);
    expect(chorus.some((e) => e.part === 'bass')).toBe(true);
  });

  it('walks the jazz bass in quarter notes that start each bar on the root', () => {
    const plan = resolvePlan({ prompt: 'jazz trio piano', durationSec: 40, seed: 2 });
    for (let bar = plan.form.introBars; bar < plan.form.totalBars - plan.form.outroBars; bar++) {
      const { chord, events } = arrangeBar(plan, bar);
      const bass = events.filter((e) => e.part === 'bass');
      expect(bass.map((e) => e.step)).toEqual([0, 4, 8, 12]);
      expect((bass[0]?.midi ?? -1) % 12).toBe(chord.root);
    }
  });

  it('repeats the lead motif across a section with variation, and draws new motifs from new seeds', () => {
    const lead = (seed: number, bar: number): number[] => {
      const plan = resolvePlan({ prompt: 'happy pop song', bpm: 120, durationSec: 120, seed });
      return arrangeBar(plan, bar)
        .events.filter((e) => e.part === 'lead')
        .map((e) => e.midi * 100 + e.step);
    };
    const plan = resolvePlan({ prompt: 'happy pop song', bpm: 120, durationSec: 120, seed: 5 });
    const chorus = plan.sections.find((s) => s.kind === 'chorus' && s.bars >= 4);
    expect(chorus).toBeDefined();
    const start = chorus?.startBar ?? 0;
    const [b0, b2] = [lead(5, start), lead(5, start + 2)];
    expect(b0.length).toBeGreaterThan(0);
    // Same rhythm (the motif's first bar comes back), pitches adapted to the chord.
    expect(b2.map((x) => x % 100)).toEqual(b0.map((x) => x % 100));
    expect(lead(6, start)).not.toEqual(b0);
  });

  it('never puts drums where there are none', () => {
    const plan = resolvePlan({ prompt: 'classical piano sonata', durationSec: 30, seed: 1 });
    for (let bar = 0; bar < plan.form.totalBars; bar++)
      expect(arrangeBar(plan, bar).events.some((e) => isDrum(e.part))).toBe(false);
  });
});

describe('form', () => {
  it('lays out intro, verses, choruses, a bridge and an outro that cover the song exactly', () => {
    const form = layoutForm(64, 1);
    const spans = layoutSections(form);
    expect(spans.reduce((n, s) => n + s.bars, 0)).toBe(64);
    expect(spans.map((s) => s.kind)).toEqual(expect.arrayContaining(['intro', 'verse', 'chorus', 'bridge', 'outro']));
    spans.forEach(
      (s, i) => i > 0 && expect(s.startBar).toBe((spans[i - 1]?.startBar ?? 0) + (spans[i - 1]?.bars ?? 0)),
    );
  });

  it('keeps the bars before the outro independent of the song length for a fixed form size', () => {
    const short = layoutForm(30, 2);
    const long = layoutForm(80, 2, 30);
    for (let bar = 0; bar < 30 - short.outroBars; bar++)
      expect(sectionAt(long, bar)).toMatchObject({
        kind: sectionAt(short, bar).kind,
        barInSection: sectionAt(short, bar).barInSection,
      });
  });

  it('handles tiny songs', () => {
    expect(layoutSections(layoutForm(1, 1))).toEqual([{ kind: 'verse', startBar: 0, bars: 1, occurrence: 0 }]);
    expect(layoutSections(layoutForm(5, 2)).reduce((n, s) => n + s.bars, 0)).toBe(5);
  });
});
