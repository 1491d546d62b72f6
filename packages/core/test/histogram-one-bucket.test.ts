import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { lognormal } from '../src/random/continuous.js';
import { Simulation } from '../src/simulation.js';
import { LatencyHistogram } from '../src/stats/histogram.js';
import { LogBuckets } from '../src/stats/log-buckets.js';

/** Seeded latencies in ms, whole µs, over four decades (0.01 ms to beyond 1 s). */
function latencies(seed: string, n: number): number[] {
  const sim = new Simulation({ seed });
  const dist = lognormal({ mu: 1, sigma: 2 });
  const rng = sim.rng('latency');
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round(dist.sample(rng) * 1000) / 1000);
  return out;
}

const PERCENTILES = [0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

describe('LogBuckets.percentileAs', () => {
  it('equals the percentiles of a coarser LogBuckets holding the same values, bit for bit', () => {
    for (const seed of ['a', 'b', 'c']) {
      const values = latencies(seed, 20_000).map((ms) => Math.round(ms * 1000));
      const fine = new LogBuckets(10);
      const coarse = [new LogBuckets(0), new LogBuckets(4), new LogBuckets(7), new LogBuckets(10)];
      for (const v of values) {
        fine.record(v);
        for (const c of coarse) c.record(v);
      }
      for (const c of coarse) {
        for (const p of PERCENTILES) {
          expect(fine.percentileAs(p, c.subBits), `seed ${seed}, ${c.subBits} bits, p${p}`).toBe(
            c.percentile(p),
          );
        }
      }
    }
  });

  it('would be caught reading the fine bucket instead of the coarse one', () => {
    const fine = new LogBuckets(10);
    const coarse = new LogBuckets(7);
    for (const v of [150_001, 150_300, 151_999]) {
      fine.record(v);
      coarse.record(v);
    }
    expect(fine.percentileAs(50, 7)).toBe(coarse.percentile(50));
    expect(fine.percentile(50)).not.toBe(coarse.percentile(50));
  });

  it('rejects more bits than it has, naming the field', () => {
    expect(() => new LogBuckets(7).percentileAs(50, 10)).toThrow(/subBits.*an integer from 0 to 7/);
  });
});

describe('LogBuckets.drainInto', () => {
  it('equals merge, percentileAs per percentile and reset, in one pass', () => {
    for (const seed of ['a', 'b']) {
      const values = latencies(seed, 5000).map((ms) => Math.round(ms * 1000));
      const drained = new LogBuckets(10);
      const copy = new LogBuckets(10);
      for (const v of values) {
        drained.record(v);
        copy.record(v);
      }
      const target = new LogBuckets(10);
      target.record(123);
      const expected = new LogBuckets(10);
      expected.record(123);
      expected.merge(copy);
      const ps = [0.1, 50, 50, 90, 99, 99.99, 100];
      const out = new Float64Array(ps.length);
      drained.drainInto(target, ps, 7, out);
      expect([...out]).toEqual(ps.map((p) => copy.percentileAs(p, 7)));
      expect(target.count).toBe(expected.count);
      for (const p of PERCENTILES) expect(target.percentile(p)).toBe(expected.percentile(p));
      expect(drained.count).toBe(0);
      expect(drained.lastIndex).toBe(-1);
      drained.record(5);
      expect(drained.percentile(50)).toBe(5);
    }
  });

  it('a drain visits the buckets in use through their bitmap and gives what a full scan gives', () => {
    // Windows of 1 to 40 values over four decades, some with a recordCount: every window must match a
    // plain LogBuckets, and the run-wide buckets the sum of every value.
    const values = latencies('sparse', 4000).map((ms) => Math.round(ms * 1000));
    const tracked = new LogBuckets(10);
    const runWide = new LogBuckets(10);
    const reference = new LogBuckets(10);
    const out = new Float64Array(3);
    let at = 0;
    for (let w = 1; at < values.length; w = (w % 40) + 1) {
      const window = values.slice(at, at + w);
      at += w;
      const plain = new LogBuckets(10);
      for (const v of window) {
        tracked.record(v);
        plain.record(v);
        reference.record(v);
      }
      if (w === 7) {
        tracked.recordCount(window[0]!, 2);
        plain.recordCount(window[0]!, 2);
        reference.recordCount(window[0]!, 2);
      }
      tracked.drainInto(runWide, [1, 50, 99], 7, out);
      expect([...out], `window of ${w}`).toEqual([1, 50, 99].map((p) => plain.percentileAs(p, 7)));
      expect(tracked.count).toBe(0);
    }
    expect(runWide.count).toBe(reference.count);
    for (let i = reference.firstIndex; i <= reference.lastIndex; i++)
      expect(runWide.countAt(i)).toBe(reference.countAt(i));
  });

  it('with no target only reads and clears; an empty window gives NaN', () => {
    const b = new LogBuckets(10);
    b.record(2000);
    const out = new Float64Array(2);
    b.drainInto(null, [50, 99], 7, out);
    // 2000 lies in [2000, 2007] at 7 bits (width 8 in [1024, 2048)): the upper edge, as LogBuckets(7) says.
    expect([...out]).toEqual([2007, 2007]);
    b.drainInto(null, [50, 99], 7, out);
    expect([...out]).toEqual([Number.NaN, Number.NaN]);
  });

  it('rejects a target of another layout and percentiles out of order, naming the field', () => {
    const out = new Float64Array(2);
    expect(() => new LogBuckets(10).drainInto(new LogBuckets(7), [50], 7, out)).toThrow(/target.subBits/);
    expect(() => new LogBuckets(10).drainInto(null, [99, 50], 7, out)).toThrow(/ps\[1\].*ascending/);
    expect(() => new LogBuckets(10).drainInto(null, [0], 7, out)).toThrow(/ps\[0\]/);
  });
});

describe('LogBuckets: 32-bit counts widen instead of wrapping', () => {
  it('a bucket reaching 2^32 by record() keeps its exact count and percentiles', () => {
    const b = new LogBuckets(7);
    b.recordCount(1000, 2 ** 32 - 1);
    b.record(5);
    b.record(1000); // the 2^32nd value in 1000's bucket
    expect(b.countAt(b.indexOf(1000))).toBe(2 ** 32);
    expect(b.count).toBe(2 ** 32 + 1);
    expect(b.percentile(0)).toBe(5);
    expect(b.percentile(50)).toBe(b.highestValue(b.indexOf(1000)));
    b.record(1000);
    expect(b.countAt(b.indexOf(1000))).toBe(2 ** 32 + 1);
  });

  it('recordCount and merge past 2^32 are exact too', () => {
    const a = new LogBuckets(7);
    a.recordCount(7, 3 * 2 ** 31);
    const b = new LogBuckets(7);
    b.recordCount(7, 2 ** 31);
    b.recordCount(9, 2);
    a.merge(b);
    expect(a.countAt(a.indexOf(7))).toBe(2 ** 33);
    expect(a.countAt(a.indexOf(9))).toBe(2);
    expect(a.count).toBe(2 ** 33 + 2);
    a.reset();
    expect(a.count).toBe(0);
    a.record(7);
    expect(a.countAt(a.indexOf(7))).toBe(1);
  });

  it('drainInto a target past 2^32 widens it and adds the buckets after it exactly', () => {
    const target = new LogBuckets(7);
    target.recordCount(7, 2 ** 32 - 1);
    target.recordCount(3000, 2 ** 32 - 2);
    const window = new LogBuckets(7);
    window.recordCount(5, 4); // before the widening bucket, in 32 bits
    window.recordCount(7, 3); // carries bucket 7 past 2^32
    window.recordCount(3000, 5); // after it, into the widened counts
    window.recordCount(90_000, 1); // a bucket the target never had
    const out = new Float64Array(2);
    window.drainInto(target, [50, 99], 7, out);
    expect(target.countAt(target.indexOf(5))).toBe(4);
    expect(target.countAt(target.indexOf(7))).toBe(2 ** 32 + 2);
    expect(target.countAt(target.indexOf(3000))).toBe(2 ** 32 + 3);
    expect(target.countAt(target.indexOf(90_000))).toBe(1);
    expect(target.count).toBe(2 ** 33 - 3 + 13);
    expect(window.count).toBe(0);
    expect(Array.from(out)).toEqual([window.highestValue(window.indexOf(7)), 90_111]);
  });
});

/** What the metric histogram reported before it deferred its run-wide buckets: two histograms per record. */
class Reference {
  readonly all = new LatencyHistogram();
  private interval = new LogBuckets(7);
  private intervalMax = 0;
  readonly p50s: number[] = [];
  readonly p99s: number[] = [];
  readonly counts: number[] = [];
  record(ms: number): void {
    this.all.record(ms);
    this.interval.record(Math.round(ms * 1000));
    if (ms > this.intervalMax) this.intervalMax = ms;
  }
  close(): void {
    const n = this.interval.count;
    this.counts.push(n);
    this.p50s.push(n === 0 ? Number.NaN : Math.min(this.interval.percentile(50) / 1000, this.intervalMax));
    this.p99s.push(n === 0 ? Number.NaN : Math.min(this.interval.percentile(99) / 1000, this.intervalMax));
    this.interval.reset();
    this.intervalMax = 0;
  }
}

describe('Histogram: one bucket per record, run-wide buckets added per interval', () => {
  it('reports what recording into both histograms did, with reads in the middle of intervals', () => {
    for (const seed of ['1', '2', '3']) {
      const sim = new Simulation({ seed });
      const metrics = new MetricsRegistry(sim, { interval: '1s' });
      const h = metrics.histogram('server', 'latency');
      const ref = new Reference();
      const values = latencies(seed, 6000);
      const reads = sim.rng('reads');
      // 6000 values over 10 s, unevenly (none in [4 s, 6 s)), with reads at random moments.
      values.forEach((ms, i) => {
        let at = (i / values.length) * 10_000;
        if (at >= 4000 && at < 6000) at = 6000 + (at - 4000) / 10;
        sim.scheduleAt(at, () => {
          h.record(ms);
          if (reads.next() < 0.01) {
            // Reading mid-interval adds the interval's buckets early; records then go to both.
            expect(h.percentile(99)).toBe(h.latency.percentile(99));
          }
        });
      });
      sim.run({ until: '10s' });
      let second = 0;
      for (let i = 0; i < values.length; i++) {
        let at = (i / values.length) * 10_000;
        if (at >= 4000 && at < 6000) at = 6000 + (at - 4000) / 10;
        while (at >= (second + 1) * 1000) {
          ref.close();
          second++;
        }
        ref.record(values[i]!);
      }
      while (second < 10) {
        ref.close();
        second++;
      }
      expect(h.count).toBe(values.length);
      expect(h.summary()).toEqual(ref.all.summary());
      const snap = metrics.snapshot();
      const series = snap.series.nodes.server!.histograms.latency!;
      expect(series.count).toEqual(ref.counts);
      // Snapshots write an empty interval's NaN as null.
      const round = (xs: Array<number | null>) =>
        xs.map((x) => (x === null || Number.isNaN(x) ? null : Number(x.toFixed(6))));
      expect(round(series.p50)).toEqual(round(ref.p50s));
      expect(round(series.p99)).toEqual(round(ref.p99s));
      expect(series.count[4]).toBe(0);
      expect(series.count[5]).toBe(0);
    }
  });

  it('counts a value once when the run-wide histogram is read between records of one interval', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim, { interval: '1s' });
    const h = metrics.histogram('server', 'latency');
    h.record(1);
    expect(h.latency.count).toBe(1);
    h.record(2);
    expect(h.count).toBe(2);
    expect(h.latency.count).toBe(2);
    sim.schedule(1500, () => h.record(3));
    sim.run();
    expect(h.count).toBe(3);
    expect(h.summary()).toMatchObject({ count: 3, min: 1, max: 3, mean: 2 });
    expect(metrics.snapshot().series.nodes.server!.histograms.latency!.count).toEqual([2, 1]);
  });

  it('a run-wide histogram held across intervals is consistent: count, mean, min and max move together', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim, { interval: '1s' });
    const h = metrics.histogram('server', 'latency');
    const held = h.latency;
    const seen: Array<[number, number, number, number]> = [];
    const look = () => seen.push([held.count, held.mean, held.min, held.max]);
    sim.schedule(500, () => {
      h.record(1);
      h.record(2);
    });
    // The first record after 1 s closes [0 s, 1 s): the held histogram then holds that interval, whole.
    sim.schedule(1500, () => {
      h.record(10);
      look();
    });
    sim.schedule(2500, () => {
      h.record(0.5);
      look();
    });
    sim.run();
    expect(seen).toEqual([
      [2, 1.5, 1, 2],
      [3, 13 / 3, 1, 10],
    ]);
    // Read again, it is complete.
    expect(h.latency).toBe(held);
    expect(held.summary()).toMatchObject({ count: 4, min: 0.5, max: 10, mean: 13.5 / 4 });
  });
});
