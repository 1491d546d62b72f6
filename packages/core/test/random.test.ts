import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { DsimError } from '../src/errors.js';
import { deriveStream, RandomStream } from '../src/random/stream.js';

const TWO_POW_53 = 2 ** 53;

function draws(stream: RandomStream, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(stream.next());
  return out;
}

/** Expects `fn` to throw a DsimError INVALID_ARGUMENT whose message starts with `field`. */
function expectInvalid(fn: () => unknown, field: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DsimError);
  const err = caught as DsimError;
  expect(err.code).toBe('INVALID_ARGUMENT');
  expect(err.message.startsWith(`${field} must be`)).toBe(true);
  expect(err.details.field).toBe(field);
}

/** Asserts each observed count is within 5 binomial standard errors of n * p. */
function expectFrequencies(counts: readonly number[], probs: readonly number[], n: number): void {
  expect(counts.length).toBe(probs.length);
  probs.forEach((p, i) => {
    const se = Math.sqrt(n * p * (1 - p));
    expect(Math.abs((counts[i] ?? 0) - n * p)).toBeLessThanOrEqual(5 * se);
  });
}

describe('RandomStream: reproducibility', () => {
  it('gives the same sequence for the same seed and name', () => {
    const a = new RandomStream('42', 'arrivals');
    const b = deriveStream('42', 'arrivals');
    expect(draws(a, 1000)).toEqual(draws(b, 1000));
    expect(a.int(0, 1_000_000)).toBe(b.int(0, 1_000_000));
    expect(a.bool(0.5)).toBe(b.bool(0.5));
    expect(a.shuffle([1, 2, 3, 4, 5, 6, 7, 8])).toEqual(b.shuffle([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it('pins the generator: these exact numbers for seed "1", stream "golden"', () => {
    // If this fails, every recorded run digest changes: do it on purpose or not at all.
    const s = new RandomStream('1', 'golden');
    expect([s.next(), s.next(), s.next()]).toEqual([
      0.10077067495354086, 0.6465546581949916, 0.3501398577669703,
    ]);
    expect(s.int(0, 1000)).toBe(746);
    expect(s.int(-5, 5)).toBe(4);
  });

  it('steps xor4096 exactly as seedrandom does: next() and int() over 50 000 outputs, several seeds', () => {
    for (const [seed, name] of [
      ['1', 'golden'],
      ['42', 'client/arrivals'],
      ['seed with spaces and ünïcode', 'a'],
      ['7', 'x'.repeat(300)],
    ] as const) {
      const reference = seedrandom.xor4096(`${seed}\u0000${name}`).int32;
      const ours = new RandomStream(seed, name);
      for (let i = 0; i < 20_000; i++) {
        const expected = ((reference() >>> 11) * 2 ** 32 + (reference() >>> 0)) / TWO_POW_53;
        expect(ours.next()).toBe(expected);
      }
      // int() over a range of 2^32 takes one raw output each, unmodified.
      for (let i = 0; i < 10_000; i++) expect(ours.int(0, 2 ** 32)).toBe(reference() >>> 0);
    }
  });

  it('gives different sequences for different names and different seeds', () => {
    const base = draws(new RandomStream('42', 'arrivals'), 100);
    expect(draws(new RandomStream('42', 'arrival'), 100)).not.toEqual(base);
    expect(draws(new RandomStream('42', 'arrivals2'), 100)).not.toEqual(base);
    expect(draws(new RandomStream('43', 'arrivals'), 100)).not.toEqual(base);
    // The separator keeps ("a", "bc") and ("ab", "c") apart.
    expect(draws(new RandomStream('a', 'bc'), 100)).not.toEqual(draws(new RandomStream('ab', 'c'), 100));
  });

  it('does not change a stream when other streams are created and drawn in between', () => {
    const alone = draws(new RandomStream('7', 'service'), 500);
    const s = new RandomStream('7', 'service');
    const mixed: number[] = [];
    for (let i = 0; i < 500; i++) {
      const other = new RandomStream('7', `other-${i}`);
      other.next();
      other.int(0, 10);
      mixed.push(s.next());
      if (i % 50 === 0) new RandomStream('7', 'service').next(); // even a twin stream has its own state
    }
    expect(mixed).toEqual(alone);
  });

  it('keeps the seed and the name', () => {
    const s = deriveStream('seed-1', 'db/reads');
    expect(s.seed).toBe('seed-1');
    expect(s.name).toBe('db/reads');
  });

  it('never calls Math.random or Date.now (the determinism guard would throw)', () => {
    const s = new RandomStream('1', 'guarded');
    expect(() => {
      s.next();
      s.int(0, 3);
      s.bool();
      s.pick([1, 2]);
      s.shuffle([1, 2, 3]);
    }).not.toThrow();
  });
});

describe('RandomStream: uniform draws', () => {
  it('next() is uniform on [0, 1) with 53-bit resolution', () => {
    const s = new RandomStream('1', 'uniform');
    const n = 200_000;
    let sum = 0;
    let oddNumerators = 0;
    const bins = new Array<number>(10).fill(0);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const u = s.next();
      const m = u * TWO_POW_53;
      // In range and a multiple of 2^-53.
      if (!(u >= 0 && u < 1 && Number.isInteger(m))) bad++;
      if (m % 2 === 1) oddNumerators++;
      sum += u;
      bins[Math.floor(u * 10)]!++;
    }
    expect(bad).toBe(0);
    expect(Math.abs(sum / n - 0.5)).toBeLessThanOrEqual(5 * Math.sqrt(1 / 12 / n));
    expectFrequencies(bins, new Array<number>(10).fill(0.1), n);
    // The lowest bit is used: about half the numerators are odd (32-bit generators would give none).
    expectFrequencies([oddNumerators], [0.5], n);
  });

  it('streams with neighbouring names are uncorrelated', () => {
    const a = new RandomStream('1', 'server-1');
    const b = new RandomStream('1', 'server-2');
    const n = 100_000;
    let sab = 0;
    for (let i = 0; i < n; i++) sab += (a.next() - 0.5) * (b.next() - 0.5);
    // Correlation estimate; its standard error is 1 / sqrt(n) under independence.
    const corr = sab / n / (1 / 12);
    expect(Math.abs(corr)).toBeLessThanOrEqual(5 / Math.sqrt(n));
  });

  it('int() is uniform over [min, max) including negative bounds and the widest range', () => {
    const s = new RandomStream('1', 'int');
    const n = 120_000;
    const counts = new Array<number>(6).fill(0);
    let bad = 0;
    for (let i = 0; i < n; i++) {
      const k = s.int(-3, 3);
      if (!(Number.isInteger(k) && k >= -3 && k < 3)) bad++;
      else counts[k + 3]!++;
    }
    expectFrequencies(counts, new Array<number>(6).fill(1 / 6), n);
    for (let i = 0; i < 1000; i++) if (s.int(5, 6) !== 5) bad++;
    for (let i = 0; i < 1000; i++) {
      const k = s.int(0, 2 ** 32);
      if (!(Number.isInteger(k) && k >= 0 && k < 2 ** 32)) bad++;
    }
    expect(bad).toBe(0);
    const big = 2 ** 52;
    const k = s.int(big, big + 2 ** 32);
    expect(k >= big && k < big + 2 ** 32).toBe(true);
  });

  it('int() is unbiased when the range does not divide 2^32', () => {
    // 3 * 2^30: a modulo without rejection would give the first 2^30 values probability 2/4 instead of 1/3.
    const s = new RandomStream('1', 'int-bias');
    const n = 60_000;
    let low = 0;
    for (let i = 0; i < n; i++) if (s.int(0, 3 * 2 ** 30) < 2 ** 30) low++;
    expectFrequencies([low], [1 / 3], n);
  });

  it('bool() respects p, including the edges 0 and 1', () => {
    const s = new RandomStream('1', 'bool');
    const n = 100_000;
    let t = 0;
    let half = 0;
    let wrongEdge = 0;
    for (let i = 0; i < n; i++) {
      if (s.bool(0.3)) t++;
      if (s.bool()) half++;
      if (s.bool(0) || !s.bool(1)) wrongEdge++;
    }
    expect(wrongEdge).toBe(0);
    expectFrequencies([t], [0.3], n);
    expectFrequencies([half], [0.5], n);
  });

  it('pick() chooses every element uniformly', () => {
    const s = new RandomStream('1', 'pick');
    const items = ['a', 'b', 'c', 'd', 'e'] as const;
    const n = 100_000;
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < n; i++) counts[items.indexOf(s.pick(items))]!++;
    expectFrequencies(counts, [0.2, 0.2, 0.2, 0.2, 0.2], n);
    expect(s.pick([42])).toBe(42);
  });

  it('shuffle() permutes in place with all permutations equally likely', () => {
    const s = new RandomStream('1', 'shuffle');
    const arr = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(s.shuffle(arr)).toBe(arr);
    expect([...arr].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s.shuffle([])).toEqual([]);
    expect(s.shuffle([1])).toEqual([1]);

    const perms = ['abc', 'acb', 'bac', 'bca', 'cab', 'cba'];
    const n = 60_000;
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < n; i++) counts[perms.indexOf(s.shuffle(['a', 'b', 'c']).join(''))]!++;
    expectFrequencies(counts, new Array<number>(6).fill(1 / 6), n);
  });
});

describe('RandomStream: validation', () => {
  const s = new RandomStream('1', 'validation');
  it.each([
    ['empty seed', () => new RandomStream('', 'x'), 'RandomStream.seed'],
    ['numeric seed', () => new RandomStream(1 as unknown as string, 'x'), 'RandomStream.seed'],
    ['empty name', () => deriveStream('1', ''), 'RandomStream.name'],
    ['missing name', () => deriveStream('1', undefined as unknown as string), 'RandomStream.name'],
    ['fractional min', () => s.int(0.5, 3), 'RandomStream.int.minInclusive'],
    ['NaN min', () => s.int(Number.NaN, 3), 'RandomStream.int.minInclusive'],
    ['empty range', () => s.int(3, 3), 'RandomStream.int.maxExclusive'],
    ['reversed range', () => s.int(3, 1), 'RandomStream.int.maxExclusive'],
    ['fractional max', () => s.int(0, 2.5), 'RandomStream.int.maxExclusive'],
    ['range over 2^32', () => s.int(0, 2 ** 32 + 1), 'RandomStream.int.maxExclusive'],
    ['p above 1', () => s.bool(1.5), 'RandomStream.bool.p'],
    ['p NaN', () => s.bool(Number.NaN), 'RandomStream.bool.p'],
    ['pick from empty', () => s.pick([]), 'RandomStream.pick.array'],
    ['pick from non-array', () => s.pick('abc' as unknown as string[]), 'RandomStream.pick.array'],
    ['shuffle non-array', () => s.shuffle(null as unknown as number[]), 'RandomStream.shuffle.array'],
  ])('rejects %s', (_label, fn, field) => {
    expectInvalid(fn, field);
  });

  it('shows the value and what is allowed', () => {
    expect(() => s.int(0, 2.5)).toThrow(
      /RandomStream\.int\.maxExclusive must be a safe integer in \[1, .*got 2\.5/,
    );
    expect(() => s.bool(2)).toThrow('RandomStream.bool.p must be a probability in [0, 1], got 2');
  });
});
