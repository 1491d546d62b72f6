import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { exponential, lognormal } from '../src/random/continuous.js';
import type { RandomStream } from '../src/random/stream.js';
import { Simulation } from '../src/simulation.js';
import { LatencyHistogram } from '../src/stats/histogram.js';
import { LogBuckets, subBucketBits } from '../src/stats/log-buckets.js';

type Digits = 1 | 2 | 3 | 4 | 5;
const DIGITS: readonly Digits[] = [1, 2, 3, 4, 5];
const PERCENTILES = [0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];
const SEEDS = ['1', '2', 'seven'];

/** hdr-histogram-js internals the layout is checked against (JsHistogram's, untyped in its d.ts). */
interface HdrInternals {
  subBucketHalfCountMagnitude: number;
  countsArrayIndex(value: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
  lowestEquivalentValue(value: number): number;
}

function hdrOf(digits: Digits): hdr.Histogram {
  return hdr.build({ numberOfSignificantValueDigits: digits, bitBucketSize: 64 });
}

/** The reference: what LatencyHistogram computed before, a direct hdr-histogram-js histogram. */
class Reference {
  readonly h: hdr.Histogram;
  private max = -Infinity;
  constructor(digits: Digits) {
    this.h = hdrOf(digits);
  }
  record(ms: number): void {
    this.h.recordValue(Math.round(ms * 1000));
    if (ms > this.max) this.max = ms;
  }
  percentile(p: number): number {
    return Math.min(this.h.getValueAtPercentile(p) / 1000, this.max);
  }
}

/** Whole-µs samples (ms), as latencies from the simulator usually are. */
function drawn(rng: RandomStream, n: number, sample: (rng: RandomStream) => number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round(sample(rng) * 1000) / 1000);
  return out;
}

/** Named sample sets for one seed, all from dsim's seeded streams. */
function distributions(seed: string, digits: Digits): [string, number[]][] {
  const sim = new Simulation({ seed });
  const exp = exponential({ mean: 20 });
  const heavy = lognormal({ mu: Math.log(5), sigma: 2.5 });
  return [
    ['exponential', drawn(sim.rng('exp'), 5000, (r) => exp.sample(r))],
    ['lognormal heavy tail', drawn(sim.rng('lognormal'), 5000, (r) => heavy.sample(r))],
    // Log-uniform from 1 µs to 10^7 µs (10 s): every octave of the layout.
    ['1 µs .. 10^7 µs', drawn(sim.rng('wide'), 5000, (r) => 10 ** (-3 + 7 * r.next()))],
    ['bucket edges', edges(digits).map((us) => us / 1000)],
    ['zeros', new Array<number>(100).fill(0)],
    ['zeros and others', [0, 0, 0, 0.001, 0.002, 5, 0, 12.5, 0, 1000]],
    ['one value', [42.123]],
  ];
}

/** Lower and upper edges (µs) of buckets across the layout of `digits`, and their neighbours. */
function edges(digits: Digits): number[] {
  const s = subBucketBits(digits);
  const half = 2 ** s;
  const out: number[] = [];
  for (let bucket = 0; bucket < 40 - s; bucket += 3) {
    for (const sub of [half, half + 1, half + (half >> 1), 2 * half - 1]) {
      const low = sub * 2 ** bucket;
      const high = low + 2 ** bucket - 1;
      for (const v of [low - 1, low, low + 1, high - 1, high, high + 1]) if (v >= 0) out.push(v);
    }
  }
  for (let e = 0; e <= 36; e++) out.push(2 ** e - 1, 2 ** e, 2 ** e + 1);
  return out;
}

function both(digits: Digits, values: readonly number[]): { mine: LatencyHistogram; ref: Reference } {
  const mine = new LatencyHistogram({ significantDigits: digits });
  const ref = new Reference(digits);
  for (const v of values) {
    mine.record(v);
    ref.record(v);
  }
  return { mine, ref };
}

function expectSamePercentiles(mine: LatencyHistogram, ref: Reference, label: string): void {
  for (const p of PERCENTILES) expect(mine.percentile(p), `${label}, p${p}`).toBe(ref.percentile(p));
}

/** Exact nearest-rank percentile of sorted samples. */
function nearestRank(sorted: readonly number[], p: number): number {
  // -1e-9: p·n/100 in floating point can land just above an integer rank.
  return sorted[Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9)) - 1]!;
}

describe('LogBuckets: the layout is hdr-histogram-js’s', () => {
  it('sub-bucket bits for 1..5 digits are 4, 7, 10, 14, 17, as hdr-histogram-js computes them', () => {
    expect(DIGITS.map(subBucketBits)).toEqual([4, 7, 10, 14, 17]);
    for (const d of DIGITS) {
      expect(subBucketBits(d)).toBe((hdrOf(d) as unknown as HdrInternals).subBucketHalfCountMagnitude);
    }
    expect(subBucketBits(0)).toBe(0);
    expect(() => subBucketBits(6)).toThrow(/significantDigits must be an integer from 0 to 5/);
    expect(() => new LogBuckets(18)).toThrow(/subBits must be an integer from 0 to 17/);
    expect(() => new LogBuckets(1.5)).toThrow(/subBits/);
  });

  it('bucket index, lower and upper edge of every value match countsArrayIndex, valueFromIndex and highestEquivalentValue', () => {
    const rng = new Simulation({ seed: 'layout' }).rng('values');
    for (const d of DIGITS) {
      const ref = hdrOf(d) as unknown as HdrInternals;
      const b = new LogBuckets(subBucketBits(d));
      const values = edges(d);
      for (let e = 0; e < 53; e++) values.push(2 ** e - 1, 2 ** e, 2 ** e + 1, 3 * 2 ** (e - 1));
      values.push(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1);
      for (let i = 0; i < 20_000; i++) values.push(Math.floor(2 ** (53 * rng.next())));
      for (const v of values) {
        const i = b.indexOf(v);
        expect(i, `index of ${v} at ${d} digits`).toBe(ref.countsArrayIndex(v));
        expect(b.lowestValue(i)).toBe(ref.valueFromIndex(i));
        // hdr-histogram-js's lowestEquivalentValue(v) recomputes floor(log2 v), which rounds up just
        // below 2^49 and above; its index (and so every count and percentile) is right there anyway.
        if (v < 2 ** 48) expect(b.lowestValue(i)).toBe(ref.lowestEquivalentValue(v));
        expect(b.highestValue(i)).toBe(ref.highestEquivalentValue(ref.valueFromIndex(i)));
      }
    }
  });

  it('percentiles of integer values equal getValueAtPercentile, at every precision', () => {
    const rng = new Simulation({ seed: 'ints' }).rng('values');
    for (const d of DIGITS) {
      const b = new LogBuckets(subBucketBits(d));
      const ref = hdrOf(d);
      for (let i = 0; i < 3000; i++) {
        const v = Math.floor(2 ** (36 * rng.next()));
        b.record(v);
        ref.recordValue(v);
      }
      for (const p of [...PERCENTILES, 33.3, 66.6, 99.999]) {
        expect(b.percentile(p), `p${p} at ${d} digits`).toBe(ref.getValueAtPercentile(p));
      }
    }
  });

  it('counts values above 2^53 - 1 in the top bucket; reset forgets; merge adds across precisions', () => {
    const b = new LogBuckets(10);
    b.record(1e20);
    b.record(Number.POSITIVE_INFINITY);
    expect(b.count).toBe(2);
    expect(b.percentile(100)).toBe(2 ** 53 - 1);
    b.reset();
    expect(b.count).toBe(0);
    expect(b.percentile(50)).toBeNaN();
    expect(b.lastIndex).toBe(-1);

    const fine = new LogBuckets(17);
    const coarse = new LogBuckets(4);
    for (const v of [3, 1000, 123_456, 9_999_999]) {
      fine.record(v);
      coarse.record(v);
    }
    b.merge(fine); // nests: exact
    for (const v of [3, 1000, 123_456, 9_999_999]) expect(b.countAt(b.indexOf(v))).toBe(1);
    const c = new LogBuckets(10);
    c.merge(coarse); // at the coarse buckets' upper edges
    expect(c.count).toBe(4);
    expect(c.percentile(100)).toBe(coarse.percentile(100));
  });
});

describe('LatencyHistogram: percentiles bit-identical to hdr-histogram-js', () => {
  for (const d of DIGITS) {
    it(`${d} significant digits: every distribution, seed and percentile`, () => {
      for (const seed of SEEDS) {
        for (const [name, values] of distributions(seed, d)) {
          const { mine, ref } = both(d, values);
          expect(mine.count).toBe(ref.h.totalCount);
          expectSamePercentiles(mine, ref, `${name}, seed ${seed}, ${d} digits`);
        }
      }
    });
  }

  it('10^5 values at every precision', () => {
    const sim = new Simulation({ seed: 'big' });
    const dist = lognormal({ mu: Math.log(20), sigma: 1.5 });
    const values = drawn(sim.rng('latency'), 100_000, (r) => dist.sample(r));
    for (const d of DIGITS) {
      const { mine, ref } = both(d, values);
      expectSamePercentiles(mine, ref, `1e5 values, ${d} digits`);
      // Not only the listed percentiles: every 0.01% step.
      for (let k = 0; k <= 10_000; k += 7) expect(mine.percentile(k / 100)).toBe(ref.percentile(k / 100));
    }
  });

  it('values that are not whole µs round as before', () => {
    const rng = new Simulation({ seed: 'fractional' }).rng('latency');
    const values = Array.from({ length: 3000 }, () => 100 * rng.next());
    for (const d of DIGITS) {
      const { mine, ref } = both(d, values);
      expectSamePercentiles(mine, ref, `fractional µs, ${d} digits`);
    }
  });

  it('is within 0.1% above the exact nearest-rank percentile at 3 digits (1/1024 of the value)', () => {
    for (const seed of SEEDS) {
      for (const [name, values] of distributions(seed, 3)) {
        const { mine } = both(3, values);
        const sorted = [...values].sort((a, b) => a - b);
        for (const p of PERCENTILES) {
          const exact = nearestRank(sorted, p);
          const got = mine.percentile(p);
          const label = `${name}, seed ${seed}, p${p}: ${got} vs ${exact}`;
          // Each bucket spans at most 2^-10 of its values, plus the last µs of the bucket.
          if (p === 0) {
            expect(got, label).toBeLessThanOrEqual(exact);
            expect(exact - got, label).toBeLessThanOrEqual(exact / 1024);
          } else {
            expect(got, label).toBeGreaterThanOrEqual(exact);
            expect(got - exact, label).toBeLessThanOrEqual(exact / 1024 + 1e-12);
            expect(got - exact, label).toBeLessThanOrEqual(exact * 0.001);
          }
        }
      }
    }
  });

  it('mean, min and max stay exact; empty gives NaN; a 300-year latency lands in the top bucket', () => {
    const h = new LatencyHistogram();
    expect(h.percentile(50)).toBeNaN();
    expect([h.count, h.mean, h.min, h.max]).toEqual([0, Number.NaN, Number.NaN, Number.NaN]);
    for (const v of [0.0004, 3, 7.5]) h.record(v);
    expect([h.count, h.min, h.max, h.mean]).toEqual([3, 0.0004, 7.5, (0.0004 + 3 + 7.5) / 3]);
    expect(h.percentile(0)).toBe(0); // 0.4 µs is 0 µs; the lowest bucket's lower edge
    const huge = new LatencyHistogram();
    huge.record(1e13); // 10^16 µs: hdr-histogram-js drops it, percentile 0
    expect(huge.count).toBe(1);
    expect(huge.percentile(50)).toBe((2 ** 53 - 1) / 1000);
  });

  it('keeps the validation errors', () => {
    const h = new LatencyHistogram();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => h.record(bad)).toThrow(/latency must be a finite number of ms >= 0/);
    }
    for (const bad of [-0.1, 100.5, Number.NaN]) {
      expect(() => h.percentile(bad)).toThrow(/percentile must be a number in \[0, 100\]/);
    }
    for (const bad of [0, 6, 2.5]) {
      expect(() => new LatencyHistogram({ significantDigits: bad as Digits })).toThrow(
        /LatencyHistogram: significantDigits must be an integer from 1 to 5/,
      );
    }
    expect(() => new LatencyHistogram({ digits: 3 } as never)).toThrow(/unknown option "digits"/);
  });
});

describe('LatencyHistogram: toHdr()', () => {
  const fine = Array.from({ length: 201 }, (_, k) => k / 2);
  const many = [...PERCENTILES, ...fine, 99.95, 99.999];

  it('has the same counts per bucket as a direct hdr-histogram-js histogram', () => {
    for (const d of DIGITS) {
      for (const [name, values] of distributions('to-hdr', d)) {
        const { mine, ref } = both(d, values);
        const view = mine.toHdr();
        const label = `${name}, ${d} digits`;
        expect(view.totalCount, label).toBe(ref.h.totalCount);
        expect(view.numberOfSignificantValueDigits).toBe(d);
        for (const p of many) {
          expect(view.getValueAtPercentile(p), `${label}, p${p}`).toBe(ref.h.getValueAtPercentile(p));
        }
        // Exact minimum and maximum recorded where they fall, so these match too.
        expect(view.maxValue, label).toBe(ref.h.maxValue);
        expect(view.minNonZeroValue, label).toBe(ref.h.minNonZeroValue);
        expect(hdr.encodeIntoCompressedBase64(view), label).toBe(hdr.encodeIntoCompressedBase64(ref.h));
      }
    }
  });

  it('is built once and rebuilt only after new values arrive', () => {
    const h = new LatencyHistogram();
    const empty = h.toHdr();
    expect(empty.totalCount).toBe(0);
    expect(h.toHdr()).toBe(empty);
    h.record(5);
    const one = h.toHdr();
    expect(one).not.toBe(empty);
    expect(one.totalCount).toBe(1);
    expect(h.toHdr()).toBe(one);
    h.merge(new LatencyHistogram()); // nothing new
    expect(h.toHdr()).toBe(one);
    const other = new LatencyHistogram();
    other.record(7);
    h.merge(other);
    expect(h.toHdr()).not.toBe(one);
    expect(h.toHdr().totalCount).toBe(2);
  });
});

describe('LatencyHistogram: merge', () => {
  it('merging two equals recording all into one, at every precision and in either order', () => {
    for (const d of DIGITS) {
      const sets = distributions('merge', d);
      const a = sets[0]![1];
      const b = sets[1]![1];
      const all = new LatencyHistogram({ significantDigits: d });
      for (const v of [...b, ...a]) all.record(v);
      const ha = new LatencyHistogram({ significantDigits: d });
      for (const v of a) ha.record(v);
      const hb = new LatencyHistogram({ significantDigits: d });
      for (const v of b) hb.record(v);
      const ab = new LatencyHistogram({ significantDigits: d });
      ab.merge(ha);
      ab.merge(hb);
      const ba = new LatencyHistogram({ significantDigits: d });
      ba.merge(hb);
      ba.merge(ha);
      for (const m of [ab, ba]) {
        expect([m.count, m.min, m.max]).toEqual([all.count, all.min, all.max]);
        expect(m.mean).toBeCloseTo(all.mean, 9);
        for (const p of PERCENTILES) expect(m.percentile(p)).toBe(all.percentile(p));
        expect(hdr.encodeIntoCompressedBase64(m.toHdr())).toBe(hdr.encodeIntoCompressedBase64(all.toHdr()));
      }
      const twice = new LatencyHistogram({ significantDigits: d });
      for (const v of [...a, ...a]) twice.record(v);
      ha.merge(ha); // itself: every count doubled
      expect([ha.count, ha.min, ha.max]).toEqual([twice.count, twice.min, twice.max]);
      for (const p of PERCENTILES) expect(ha.percentile(p)).toBe(twice.percentile(p));
    }
  });

  it('merging more digits loses nothing; merging fewer keeps the coarser precision, as upper bounds', () => {
    const values = distributions('digits', 3)[2]![1]; // 1 µs .. 10^7 µs
    const three = new LatencyHistogram({ significantDigits: 3 });
    for (const v of values) three.record(v);
    const five = new LatencyHistogram({ significantDigits: 5 });
    const one = new LatencyHistogram({ significantDigits: 1 });
    for (const v of values) {
      five.record(v);
      one.record(v);
    }
    const fromFive = new LatencyHistogram({ significantDigits: 3 });
    fromFive.merge(five);
    for (const p of PERCENTILES) expect(fromFive.percentile(p)).toBe(three.percentile(p));

    const fromOne = new LatencyHistogram({ significantDigits: 3 });
    fromOne.merge(one);
    expect([fromOne.count, fromOne.min, fromOne.max]).toEqual([three.count, three.min, three.max]);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of PERCENTILES.filter((q) => q > 0)) {
      const exact = nearestRank(sorted, p);
      const got = fromOne.percentile(p);
      expect(got).toBeGreaterThanOrEqual(exact);
      expect(got - exact).toBeLessThanOrEqual(exact / 16 + 1e-12); // 1 digit: 16 buckets per octave
    }
  });
});
