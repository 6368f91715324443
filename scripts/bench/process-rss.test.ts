import { describe, expect, it } from 'vitest';
import { parseStartScript } from './process-rss';

describe('parseStartScript', () => {
  it('reads the node flags and the built entry of a start script', () => {
    expect(parseStartScript('node --max-semi-space-size=2 dist/main.mjs', '/repo/packages/api')).toEqual({
      nodeArgs: ['--max-semi-space-size=2'],
      entry: '/repo/packages/api/dist/main.mjs',
    });
    expect(parseStartScript('node dist/main.mjs', '/p')).toEqual({ nodeArgs: [], entry: '/p/dist/main.mjs' });
  });

  it('refuses what it could not launch as production does', () => {
    for (const script of ['tsx src/main.ts', 'node src/main.ts', 'node --import tsx dist/main.mjs', '']) {
      expect(() => parseStartScript(script, '/p'), script).toThrow(/start script/);
    }
  });
});
