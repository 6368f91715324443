/**
 * Song form: which section a bar belongs to. A pure function of the bar index and the song's bar count, so a bar's
 * section (and everything built on it) can be computed without rendering the bars before it. Bars before the outro
 * do not depend on the song's length once it is long enough (≥ 24 bars), which is what lets a continuation keep the
 * original's form.
 */

export const SECTION_KINDS = ['intro', 'verse', 'chorus', 'bridge', 'outro'] as const;
export type SectionKind = (typeof SECTION_KINDS)[number];

export interface FormLayout {
  totalBars: number;
  introBars: number;
  outroBars: number;
  /** Bars in a verse or chorus; the bridge is half of it. */
  phraseBars: number;
}

export interface SectionSpan {
  kind: SectionKind;
  startBar: number;
  bars: number;
  /** 0-based count of earlier sections of the same kind. */
  occurrence: number;
}

export interface BarSection {
  kind: SectionKind;
  barInSection: number;
  /** The section's full length in bars (it may be cut short by the outro; see isLastBar). */
  sectionBars: number;
  occurrence: number;
  /** The next bar starts another section (fills and builds go here). */
  isLastBar: boolean;
  /** The last bar of the song. */
  isFinalBar: boolean;
}

const CYCLE: readonly (readonly [SectionKind, number])[] = [
  ['verse', 1],
  ['chorus', 1],
  ['verse', 1],
  ['chorus', 1],
  ['bridge', 0.5],
  ['chorus', 1],
];

/**
 * Section sizes: short songs get short intros and four-bar phrases, longer ones (≥ 24 bars) room to breathe.
 * `formBars` sizes the intro and phrases (default `totalBars`); the outro always fits the real length.
 */
export function layoutForm(totalBars: number, chordBars: 1 | 2, formBars = totalBars): FormLayout {
  const long = formBars >= 24;
  const introBars = Math.min(
    long ? 2 * chordBars : formBars >= 8 ? 2 : formBars >= 4 ? 1 : 0,
    Math.floor(totalBars / 3),
  );
  const outroBars = totalBars >= 24 ? 4 : totalBars >= 8 ? 2 : totalBars >= 3 ? 1 : 0;
  return { totalBars, introBars, outroBars, phraseBars: long ? 4 * chordBars : 4 };
}

function cycleLengths(phraseBars: number): number[] {
  return CYCLE.map(([, m]) => Math.max(2, Math.round(phraseBars * m)));
}

/** The section of the body (between intro and outro) at body bar `p`, ignoring the outro. */
function bodySection(form: FormLayout, p: number): Omit<BarSection, 'isLastBar' | 'isFinalBar'> & { start: number } {
  const lens = cycleLengths(form.phraseBars);
  const cycleLen = lens.reduce((a, b) => a + b, 0);
  const cycle = Math.floor(p / cycleLen);
  let q = p - cycle * cycleLen;
  let start = cycle * cycleLen;
  for (let i = 0; i < CYCLE.length; i++) {
    const len = lens[i] as number;
    const kind = (CYCLE[i] as readonly [SectionKind, number])[0];
    if (q < len) {
      const perCycle = CYCLE.filter(([k]) => k === kind).length;
      const before = CYCLE.slice(0, i).filter(([k]) => k === kind).length;
      return { kind, barInSection: q, sectionBars: len, occurrence: cycle * perCycle + before, start };
    }
    q -= len;
    start += len;
  }
  throw new Error('unreachable: bar outside the form cycle');
}

export function sectionAt(form: FormLayout, bar: number): BarSection {
  const { totalBars, introBars, outroBars } = form;
  const isFinalBar = bar === totalBars - 1;
  const outroStart = totalBars - outroBars;
  if (bar >= outroStart && outroBars > 0) {
    return {
      kind: 'outro',
      barInSection: bar - outroStart,
      sectionBars: outroBars,
      occurrence: 0,
      isLastBar: isFinalBar,
      isFinalBar,
    };
  }
  if (bar < introBars) {
    return {
      kind: 'intro',
      barInSection: bar,
      sectionBars: introBars,
      occurrence: 0,
      isLastBar: bar === introBars - 1,
      isFinalBar,
    };
  }
  const s = bodySection(form, bar - introBars);
  const isLastBar = s.barInSection === s.sectionBars - 1 || bar === outroStart - 1 || isFinalBar;
  return {
    kind: s.kind,
    barInSection: s.barInSection,
    sectionBars: s.sectionBars,
    occurrence: s.occurrence,
    isLastBar,
    isFinalBar,
  };
}

/** The sections of the whole song, in order, with their real (possibly truncated) lengths. */
export function layoutSections(form: FormLayout): SectionSpan[] {
  const spans: SectionSpan[] = [];
  for (let bar = 0; bar < form.totalBars; bar++) {
    const s = sectionAt(form, bar);
    const last = spans[spans.length - 1];
    if (last && last.kind === s.kind && s.barInSection !== 0) last.bars++;
    else spans.push({ kind: s.kind, startBar: bar, bars: 1, occurrence: s.occurrence });
  }
  return spans;
}
