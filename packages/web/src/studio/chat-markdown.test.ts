import { describe, expect, it } from 'vitest';
import { parseInline, parseMarkdown } from './chat-markdown';

describe('chat markdown', () => {
  it('parses paragraphs, lists and inline marks', () => {
    expect(parseMarkdown('Done:\n- Tempo set to **90 BPM**.\n- Added *Lofi beat*\n\nNext `step`.')).toEqual([
      { kind: 'paragraph', children: [{ kind: 'text', text: 'Done:' }] },
      {
        kind: 'list',
        ordered: false,
        items: [
          [
            { kind: 'text', text: 'Tempo set to ' },
            { kind: 'strong', children: [{ kind: 'text', text: '90 BPM' }] },
            { kind: 'text', text: '.' },
          ],
          [
            { kind: 'text', text: 'Added ' },
            { kind: 'em', children: [{ kind: 'text', text: 'Lofi beat' }] },
          ],
        ],
      },
      {
        kind: 'paragraph',
        children: [
          { kind: 'text', text: 'Next ' },
          { kind: 'code', text: 'step' },
          { kind: 'text', text: '.' },
        ],
      },
    ]);
  });

  it('keeps html as text and only http(s) links', () => {
    expect(parseInline('<img src=x onerror=alert(1)>')).toEqual([
      { kind: 'text', text: '<img src=x onerror=alert(1)>' },
    ]);
    const script = parseInline('[click](javascript:alert(1))');
    expect(script.every((t) => t.kind === 'text')).toBe(true);
    expect(script[0]).toEqual({ kind: 'text', text: 'click' });
    expect(parseInline('[docs](https://example.com/a)')).toEqual([
      { kind: 'link', href: 'https://example.com/a', children: [{ kind: 'text', text: 'docs' }] },
    ]);
  });

  it('keeps fenced code as it is', () => {
    expect(parseMarkdown('```\n**not bold**\n```')).toEqual([{ kind: 'code', text: '**not bold**' }]);
  });
});
