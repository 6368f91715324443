/**
 * Seeded randomness for the synth. Every random choice in a song comes from a stream keyed by (seed, purpose, index)
 * so any bar can be recomputed on its own: that is what makes partial renders and continuations match a full render.
 * Math.random is never used.
 */

/** 32-bit integer hash (lowbias32 by Chris Wellons): a cheap, well-mixed key derivation. */
export function hash32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines a seed with any number of integer or string keys into one 32-bit stream key. */
export function mixSeed(seed: number, ...keys: (number | string)[]): number {
  let h = hash32(seed ^ 0x9e3779b9);
  for (const key of keys) {
    const k = typeof key === 'number' ? key >>> 0 : stringHash(key);
    h = hash32(h ^ hash32(k + 0x632be5ab));
  }
  return h;
}

/** FNV-1a over UTF-16 code units. */
export function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for musical choices. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  range(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

export const rngFor = (seed: number, ...keys: (number | string)[]): Rng => new Rng(mixSeed(seed, ...keys));

/**
 * Audio-rate noise: xorshift32 mapped to [-1, 1). Kept separate from Rng because it runs per sample.
 */
export class Noise {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 || 0x2545f491;
  }

  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 2147483648 - 1;
  }
}
