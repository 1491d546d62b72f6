import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../src/metrics/registry.js';
import { compact } from '../src/metrics/round.js';
import { lognormal } from '../src/random/continuous.js';
import { Simulation } from '../src/simulation.js';
import { LatencyHistogram } from '../src/stats/histogram.js';
import { LogBuckets } from '../src/stats/log-buckets.js';
import { thrown } from './support/thrown.js';

/** Exact nearest-rank percentile, the definition HdrHistogram approximates. */
function exactPercentile(sorted: readonly number[], p: number): number {
  // p·n/100 first: (99.9 / 100) · 20000 is 19980.000000000004 in floating point, one rank too far.
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9));
  return sorted[rank - 1]!;
}

/** Deterministic latency samples in ms (seeded stream, never Math.random). */
function samples(seed: string, n: number): number[] {
  const sim = new Simulation({ seed });
  const dist = lognormal({ mu: 3, sigma: 1 });
  const rng = sim.rng('latency');
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round(dist.sample(rng) * 1000) / 1000); // whole µs
  return out;
}

describe('MetricsRegistry: gauges', () => {
  it('level 2 for 1.5 s then 4 for 0.5 s: mean 2.5, per-interval means [2, 3] and maxima [2, 4]', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim, { interval: '1s' });
    const queue = metrics.gauge('server', 'queue');
    sim.schedule(0, () => queue.set(2));
    sim.schedule(1500, () => queue.set(4));
    sim.run({ until: '2s' });
    expect(queue.mean()).toBe(2.5);
    expect(queue.level).toBe(4);
    expect(queue.max).toBe(4);
    const snap = metrics.snapshot();
    expect(snap.nodes.server!.gauges.queue).toEqual({ mean: 2.5, max: 4, last: 4 });
    expect(snap.series.points).toBe(2);
    expect(snap.series.nodes.server!.gauges.queue).toEqual({ mean: [2, 3], max: [2, 4] });
  });

  it('carries the level through intervals without updates, and add() moves it', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    const inFlight = metrics.gauge('db', 'in-flight');
    sim.schedule(500, () => inFlight.add(3));
    sim.schedule(3250, () => inFlight.add(-2));
    sim.run({ until: 4000 });
    const s = metrics.snapshot().series.nodes.db!.gauges['in-flight']!;
    expect(s.mean).toEqual([1.5, 3, 3, 1.5]); // [3000,4000): 3 for 250 ms, 1 for 750 ms
    expect(s.max).toEqual([3, 3, 3, 3]);
    expect(inFlight.mean(4000)).toBe((3 * 2750 + 1 * 750) / 4000);
  });

  it('integral() differences give the mean over any window', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    const busy = metrics.gauge('svc', 'busy');
    let at1200 = 0;
    sim.schedule(500, () => busy.set(4));
    sim.schedule(1200, () => (at1200 = busy.integral()));
    sim.schedule(2000, () => busy.set(1));
    sim.run({ until: 3000 });
    expect(at1200).toBe(4 * 700);
    // [1200, 3000): 4 for 800 ms, 1 for 1000 ms.
    expect((busy.integral() - at1200) / 1800).toBe((4 * 800 + 1 * 1000) / 1800);
    expect(() => busy.integral(1000)).toThrow(/upTo/);
  });

  it('the last, partial interval averages over [its start, now)', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    const g = metrics.gauge('n', 'g');
    sim.schedule(1000, () => g.set(6));
    sim.schedule(1200, () => g.set(0));
    sim.run({ until: 1500 });
    const snap = metrics.snapshot();
    expect(snap.series.points).toBe(2);
    expect(snap.series.nodes.n!.gauges.g).toEqual({ mean: [0, 2.4], max: [0, 6] }); // 6·200 / 500
    expect(snap.nodes.n!.gauges.g!.mean).toBe(0.8); // 6·200 / 1500
  });
});

describe('MetricsRegistry: counters', () => {
  it('counts per interval, with 0 for intervals without increments', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim, { interval: 1000 });
    const requests = metrics.counter('lb', 'requests');
    for (const t of [0, 100, 999, 1000, 3500]) sim.schedule(t, () => requests.inc());
    sim.schedule(3600, () => requests.inc(5));
    sim.run({ until: 4000 });
    expect(requests.value).toBe(10);
    const snap = metrics.snapshot();
    expect(snap.nodes.lb!.counters.requests).toBe(10);
    expect(snap.series.nodes.lb!.counters.requests).toEqual([3, 1, 0, 6]);
  });

  it('series add up to the total when the last update falls exactly on a boundary at `now`', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    const c = metrics.counter('n', 'c');
    sim.schedule(500, () => c.inc());
    sim.schedule(2000, () => c.inc());
    sim.run(); // stops at the last event, now = 2000
    const snap = metrics.snapshot();
    expect(snap.series.points).toBe(3);
    expect(snap.series.nodes.n!.counters.c).toEqual([1, 0, 1]);
  });

  it('a snapshot later than the clock extends the series; no points at the start', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim, { interval: '500ms' });
    const c = metrics.counter('n', 'c');
    expect(metrics.snapshot().series).toEqual({
      start: 0,
      intervalMs: 500,
      points: 0,
      nodes: { n: expect.anything() },
    });
    sim.schedule(100, () => c.inc(2));
    sim.run();
    expect(metrics.snapshot(1600).series.nodes.n!.counters.c).toEqual([2, 0, 0, 0]);
  });

  it('an instrument created late reads 0 before it existed', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    sim.schedule(2500, () => {
      metrics.counter('late', 'c').inc();
      metrics.gauge('late', 'g').set(2);
    });
    sim.run({ until: 3000 });
    const s = metrics.snapshot().series.nodes.late!;
    expect(s.counters.c).toEqual([0, 0, 1]);
    expect(s.gauges.g).toEqual({ mean: [0, 0, 1], max: [0, 0, 2] });
  });
});

describe('MetricsRegistry: histograms', () => {
  it('run-wide percentiles are within 0.1% of the exact percentiles of the same samples', () => {
    const values = samples('hist', 20_000);
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    const h = metrics.histogram('api', 'latency');
    values.forEach((v, i) => {
      sim.schedule(i, () => h.record(v));
    });
    sim.run();
    const sorted = [...values].sort((a, b) => a - b);
    const s = h.summary();
    expect(s.count).toBe(values.length);
    expect(s.max).toBe(sorted[sorted.length - 1]);
    expect(s.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
    for (const [p, got] of [
      [50, s.p50],
      [90, s.p90],
      [99, s.p99],
      [99.9, s.p999],
    ] as const) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(got - exact)).toBeLessThanOrEqual(exact * 0.001 + 0.001);
    }
  });

  it('per-interval count, p50 and p99 (within 0.78%), null for intervals without samples', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    const h = metrics.histogram('api', 'latency');
    sim.schedule(100, () => {
      for (let v = 1; v <= 100; v++) h.record(v);
    });
    sim.schedule(2100, () => {
      for (let i = 0; i < 10; i++) h.record(250);
    });
    sim.run({ until: 3000 });
    const s = metrics.snapshot().series.nodes.api!.histograms.latency!;
    expect(s.count).toEqual([100, 0, 10]);
    expect(s.p50[1]).toBeNull();
    expect(s.p99[1]).toBeNull();
    expect(Math.abs(s.p50[0]! - 50) / 50).toBeLessThanOrEqual(1 / 128);
    expect(Math.abs(s.p99[0]! - 99) / 99).toBeLessThanOrEqual(1 / 128);
    expect(s.p50[2]).toBe(250); // capped at the interval's exact max
    expect(s.p99[2]).toBe(250);
  });

  it('per-interval percentiles of many samples are within 1/128 of the exact ones', () => {
    const values = samples('interval', 5000);
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim, { interval: '1h' });
    const h = metrics.histogram('api', 'latency');
    for (const v of values) h.record(v);
    const s = metrics.snapshot().series.nodes.api!.histograms.latency!;
    const sorted = [...values].sort((a, b) => a - b);
    for (const [p, got] of [
      [50, s.p50[0]!],
      [99, s.p99[0]!],
    ] as const) {
      const exact = exactPercentile(sorted, p);
      expect(got).toBeGreaterThanOrEqual(exact - 1e-9);
      expect(got - exact).toBeLessThanOrEqual(exact / 128 + 1e-6); // +1e-6: 6-digit rounding
    }
  });

  it('LogBuckets: exact below 256, upper bucket edges above, huge values included', () => {
    const b = new LogBuckets();
    expect(b.percentile(50)).toBeNaN();
    for (const v of [0, 7, 255]) b.record(v);
    expect([b.percentile(1), b.percentile(50), b.percentile(100)]).toEqual([0, 7, 255]);
    b.reset();
    for (const v of [256, 1500, 2 ** 32 + 5, 2 ** 53 - 1]) b.record(v);
    expect(b.count).toBe(4);
    expect(b.percentile(25)).toBe(257);
    expect(b.percentile(50)).toBe(1503);
    const big = b.percentile(75);
    expect(big).toBeGreaterThanOrEqual(2 ** 32 + 5);
    expect(big - (2 ** 32 + 5)).toBeLessThanOrEqual((2 ** 32 + 5) / 128);
    expect(b.percentile(100)).toBe(2 ** 53 - 1);
  });

  it('merging two histograms equals recording every sample in one, in any order', () => {
    const a = samples('a', 5000);
    const b = samples('b', 3000);
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    for (const v of a) metrics.histogram('n1', 'latency').record(v);
    for (const v of b) metrics.histogram('n2', 'latency').record(v);

    const all = new LatencyHistogram();
    for (const v of [...b, ...a].reverse()) all.record(v);
    const ab = new LatencyHistogram();
    ab.merge(metrics.histogram('n1', 'latency').latency);
    ab.merge(metrics.histogram('n2', 'latency').latency);
    const ba = new LatencyHistogram();
    ba.merge(metrics.histogram('n2', 'latency').latency);
    ba.merge(metrics.histogram('n1', 'latency').latency);

    const pick = ({ count, min, p50, p90, p99, p999, max }: ReturnType<LatencyHistogram['summary']>) => ({
      count,
      min,
      p50,
      p90,
      p99,
      p999,
      max,
    });
    expect(pick(ab.summary())).toEqual(pick(all.summary()));
    expect(pick(ba.summary())).toEqual(pick(all.summary()));
    expect(pick(metrics.mergedHistogram('latency').summary())).toEqual(pick(all.summary()));
    expect(ab.summary().mean).toBeCloseTo(all.summary().mean, 9);
  });
});

describe('MetricsRegistry: identity, determinism and snapshot shape', () => {
  it('returns the same instrument for the same (node, name); nodes and metrics keep insertion order', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    expect(metrics.counter('b', 'x')).toBe(metrics.counter('b', 'x'));
    expect(metrics.gauge('a', 'q')).toBe(metrics.gauge('a', 'q'));
    expect(metrics.histogram('b', 'lat')).toBe(metrics.histogram('b', 'lat'));
    metrics.counter('a', 'z');
    metrics.counter('a', 'y');
    const snap = metrics.snapshot(1000);
    expect(Object.keys(snap.nodes)).toEqual(['b', 'a']);
    expect(Object.keys(snap.nodes.a!.counters)).toEqual(['z', 'y']);
    expect([...metrics.instruments()].map((m) => `${m.node}/${m.name}/${m.kind}`)).toEqual([
      'b/x/counter',
      'b/lat/histogram',
      'a/q/gauge',
      'a/z/counter',
      'a/y/counter',
    ]);
    metrics.counter('__proto__', 'constructor').inc(2); // plain keys, not prototype slots
    expect(JSON.parse(JSON.stringify(metrics.snapshot(1000).nodes)).__proto__).toEqual({
      counters: { constructor: 2 },
      gauges: {},
      histograms: {},
    });
  });

  it('snapshot: full JSON shape, rounded to 6 significant digits, NaN as null', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim, { interval: '1s' });
    const g = metrics.gauge('s', 'util');
    const c = metrics.counter('s', 'done');
    metrics.histogram('s', 'idle');
    sim.schedule(0, () => g.set(1 / 3));
    sim.schedule(1000, () => c.inc());
    sim.run({ until: 2000 });
    const snap = metrics.snapshot();
    expect(JSON.parse(JSON.stringify(snap))).toEqual({
      now: 2000,
      intervalMs: 1000,
      nodes: {
        s: {
          counters: { done: 1 },
          gauges: { util: { mean: 0.333333, max: 0.333333, last: 0.333333 } },
          histograms: {
            idle: { count: 0, mean: null, p50: null, p90: null, p99: null, p999: null, max: null },
          },
        },
      },
      series: {
        start: 0,
        intervalMs: 1000,
        points: 2,
        nodes: {
          s: {
            counters: { done: [0, 1] },
            gauges: { util: { mean: [0.333333, 0.333333], max: [0.333333, 0.333333] } },
            histograms: { idle: { count: [0, 0], p50: [null, null], p99: [null, null] } },
          },
        },
      },
    });
    expect(compact(-0)).toBe(0);
    expect(compact(123456789)).toBe(123456789);
    expect(compact(Infinity)).toBeNull();
  });

  it('snapshots read only: taking one mid-run changes no later figure', () => {
    function run(peek: boolean): string {
      const sim = new Simulation();
      const metrics = new MetricsRegistry(sim, { interval: 300 });
      const g = metrics.gauge('n', 'g');
      const c = metrics.counter('n', 'c');
      const h = metrics.histogram('n', 'h');
      for (let i = 1; i <= 20; i++) {
        sim.schedule(i * 70, () => {
          g.add(i % 3 === 0 ? -1 : 1);
          c.inc(i);
          h.record(i * 1.5);
          if (peek && i % 4 === 0) metrics.snapshot(sim.now + 50);
        });
      }
      sim.run({ until: 2000 });
      return JSON.stringify(metrics.snapshot());
    }
    expect(run(true)).toBe(run(false));
  });

  it('a run with and without a registry attached has the same digest', () => {
    function model(metrics: MetricsRegistry | null, sim: Simulation): void {
      const rng = sim.rng('arrivals');
      const busy = metrics?.gauge('server', 'busy');
      const served = metrics?.counter('server', 'served');
      const latency = metrics?.histogram('server', 'latency');
      sim.process(function* source() {
        for (let i = 0; i < 200; i++) {
          yield sim.timeout(rng.next() * 20);
          sim.process(function* job() {
            const start = sim.now;
            busy?.add(1);
            yield sim.timeout(5 + rng.next() * 30);
            busy?.add(-1);
            served?.inc();
            latency?.record(sim.now - start);
          });
        }
      });
    }
    const plain = new Simulation({ seed: 7 });
    model(null, plain);
    plain.run({ until: '10s' });
    const measured = new Simulation({ seed: 7 });
    const metrics = new MetricsRegistry(measured, { interval: '250ms' });
    model(metrics, measured);
    measured.run({ until: '10s' });
    metrics.snapshot();
    expect(measured.digest()).toBe(plain.digest());
    expect(measured.eventCount).toBe(plain.eventCount);
    expect(metrics.counter('server', 'served').value).toBe(200);
  });
});

describe('MetricsRegistry: bad input', () => {
  it('rejects an interval of 0 or one that does not parse, naming the field', () => {
    const sim = new Simulation();
    const zero = thrown(() => new MetricsRegistry(sim, { interval: 0 }));
    expect(zero.code).toBe('INVALID_ARGUMENT');
    expect(zero.message).toMatch(/^MetricsRegistry: interval must be/);
    const abc = thrown(() => new MetricsRegistry(sim, { interval: 'abc' }));
    expect(abc.code).toBe('INVALID_DURATION');
    expect(abc.message).toMatch(/^MetricsRegistry: interval must be .*got "abc"/);
    expect(thrown(() => new MetricsRegistry(sim, { interval: -5 })).message).toMatch(
      /^MetricsRegistry: interval /,
    );
    expect(thrown(() => new MetricsRegistry({} as Simulation)).message).toMatch(/^clock must be/);
  });

  it('rejects a name already used by another kind on that node', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    metrics.gauge('db', 'queue');
    const err = thrown(() => metrics.counter('db', 'queue'));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.details.field).toBe('name');
    expect(err.message).toContain('it is a gauge, asked for a counter');
    expect(thrown(() => metrics.histogram('db', 'queue')).details.field).toBe('name');
    expect(metrics.counter('other-node', 'queue').value).toBe(0); // names are per node
  });

  it('rejects bad values, names and snapshot times', () => {
    const sim = new Simulation();
    const metrics = new MetricsRegistry(sim);
    expect(thrown(() => metrics.counter('', 'x')).details.field).toBe('node');
    expect(thrown(() => metrics.gauge('n', '')).details.field).toBe('name');
    expect(thrown(() => metrics.counter('n', 'c').inc(-1)).details.field).toBe('by');
    expect(thrown(() => metrics.gauge('n', 'g').set(Number.NaN)).details.field).toBe('level');
    expect(thrown(() => metrics.histogram('n', 'h').record(-1)).details.field).toBe('latency');
    sim.schedule(100, () => {});
    sim.run();
    expect(thrown(() => metrics.snapshot(50)).details.field).toBe('now');
    expect(thrown(() => metrics.gauge('n', 'g').mean(Number.NaN)).details.field).toBe('upTo');
  });
});
