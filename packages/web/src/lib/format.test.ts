import { describe, expect, it } from 'vitest';
import { describeUserAgent, formatDateTime, isoString, toDate } from './format';

describe('timestamps', () => {
  it('accepts ISO strings and Dates, and shows a dash for none', () => {
    expect(toDate('2026-03-01T10:00:00.000Z')?.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(isoString(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime('not a date', 'never')).toBe('never');
    expect(formatDateTime('2026-03-01T10:00:00.000Z')).toMatch(/2026/);
  });
});

describe('describeUserAgent', () => {
  it('names the browser and the system', () => {
    expect(
      describeUserAgent(
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
      ),
    ).toBe('Chrome on Linux');
    expect(
      describeUserAgent(
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36 Edg/140.0',
      ),
    ).toBe('Edge on Windows');
    expect(
      describeUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1',
      ),
    ).toBe('Safari on iOS');
    expect(describeUserAgent('Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:130.0) Gecko/20100101 Firefox/130.0')).toBe(
      'Firefox on macOS',
    );
  });

  it('falls back to what it can tell', () => {
    expect(describeUserAgent('curl/8.5.0')).toBe('curl');
    expect(describeUserAgent(null)).toBe('Unknown device');
    expect(describeUserAgent('x'.repeat(60))).toBe(`${'x'.repeat(40)}…`);
  });
});
