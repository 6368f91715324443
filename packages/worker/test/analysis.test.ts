/**
 * The upload analysis and the stems ZIP: a tempo estimate from a synthetic beat (and none for a held tone), and a ZIP
 * of stored files that `unzip` reads back byte for byte.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateBpm } from '../src/audio/analysis';
import { zipFiles } from '../src/jobs/zip-files';

const run = promisify(execFile);
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dawg-analysis-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function beat(bpm: number, seconds: number, rate = 44_100): Float32Array {
  const n = rate * seconds;
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const since = t % (60 / bpm);
    const v = since < 0.05 ? Math.sin(2 * Math.PI * 80 * t) * Math.exp(-since * 60) : 0;
    x[2 * i] = v;
    x[2 * i + 1] = v;
  }
  return x;
}

describe('estimateBpm', () => {
  it('finds the tempo of a beat within 2 %', () => {
    for (const bpm of [90, 124, 150]) {
      const found = estimateBpm(beat(bpm, 10), 44_100, 2);
      expect(found).not.toBeNull();
      expect(Math.abs(found! - bpm) / bpm).toBeLessThan(0.02);
    }
  });

  it('answers null for a held tone and for silence', () => {
    const rate = 44_100;
    const tone = new Float32Array(rate * 5 * 2);
    for (let i = 0; i < rate * 5; i++) tone[2 * i] = tone[2 * i + 1] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate);
    expect(estimateBpm(tone, rate, 2)).toBeNull();
    expect(estimateBpm(new Float32Array(rate * 10), rate, 2)).toBeNull();
  });
});

describe('zipFiles', () => {
  it('writes a ZIP that unzip extracts unchanged', async () => {
    const a = join(dir, 'a.bin');
    const b = join(dir, 'b.bin');
    const bodyA = Buffer.alloc(300_000, 7);
    const bodyB = Buffer.from('second file');
    await writeFile(a, bodyA);
    await writeFile(b, bodyB);
    const zip = join(dir, 'out.zip');
    await zipFiles(zip, [
      { name: '01 Drums.wav', path: a },
      { name: '02 Bass.wav', path: b },
    ]);
    const out = join(dir, 'x');
    await run('python3', ['-c', `import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])`, zip, out]);
    expect(await readFile(join(out, '01 Drums.wav'))).toEqual(bodyA);
    expect((await readFile(join(out, '02 Bass.wav'))).toString()).toBe('second file');
  });
});
