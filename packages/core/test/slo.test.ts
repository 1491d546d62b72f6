import { describe, expect, it } from 'vitest';
import { SloTracker } from '../src/metrics/slo.js';
import { Simulation } from '../src/simulation.js';
import { thrown } from './support/thrown.js';

describe('SloTracker: figures computed by hand', () => {
  // Target: 90% of requests succeed within 100 ms, so the error budget is 10% of requests.
  // Window 0 [0,1s):  10 requests, 1 too slow (150 ms)          -> bad share 0.1, burn rate 1
  // Window 1 [1s,2s):  4 requests, 2 failed, 100 ms is on target -> bad share 0.5, burn rate 5
  // Window 2 [2s,3s):  none
  // Window 3 [3s,4s):  6 good requests, report at 3.5 s          -> partial window
  // Run: 20 requests, 3 bad: compliance 0.85, budget burned (3/20)/0.1 = 1.5, not met.
  function tracker(): SloTracker {
    const slo = new SloTracker({ latencyTargetMs: 100, availabilityTarget: 0.9, window: '1s' });
    for (let i = 0; i < 10; i++) slo.record(i * 100, true, i === 4 ? 150 : 50);
    expect(slo.record(1100, false)).toBe(false);
    expect(slo.record(1200, false, 30)).toBe(false);
    expect(slo.record(1300, true, 100)).toBe(true);
    slo.record(1999, true, 20);
    for (let i = 0; i < 6; i++) slo.record(3000 + i * 50, true, 99.5);
    return slo;
  }

  it('over the run: total, good, compliance, error budget, budget burned, met', () => {
    const r = tracker().report(3500);
    expect(r).toMatchObject({
      now: 3500,
      latencyTargetMs: 100,
      target: 0.9,
      errorBudget: 0.1,
      windowMs: 1000,
      total: 20,
      good: 17,
      bad: 3,
      compliance: 0.85,
      budgetBurned: 1.5,
      met: false,
    });
  });

  it('per window: the same figures plus the burn rate; a window burning 5x the budget is not met', () => {
    const r = tracker().report(3500);
    expect(r.windows).toEqual([
      {
        start: 0,
        end: 1000,
        total: 10,
        good: 9,
        bad: 1,
        compliance: 0.9,
        budgetBurned: 0.5,
        burnRate: 1,
        met: true,
      },
      {
        start: 1000,
        end: 2000,
        total: 4,
        good: 2,
        bad: 2,
        compliance: 0.5,
        budgetBurned: 1,
        burnRate: 5,
        met: false,
      },
      {
        start: 2000,
        end: 3000,
        total: 0,
        good: 0,
        bad: 0,
        compliance: 1,
        budgetBurned: 0,
        burnRate: 0,
        met: true,
      },
      {
        start: 3000,
        end: 3500,
        total: 6,
        good: 6,
        bad: 0,
        compliance: 1,
        budgetBurned: 0,
        burnRate: 0,
        met: true,
      },
    ]);
    const sum = r.windows.reduce((acc, w) => acc + w.budgetBurned, 0);
    expect(sum).toBeCloseTo(r.budgetBurned, 12);
  });

  it('a budget used up exactly (1 bad in 1000 at 99.9%) burns 1.0 and is met', () => {
    const slo = new SloTracker({ latencyTargetMs: 200, availabilityTarget: 0.999, window: '1m' });
    for (let i = 0; i < 1000; i++) slo.record(i, i !== 500, 10);
    const r = slo.report(60_000);
    expect(r.errorBudget).toBe(0.001);
    expect(r.compliance).toBe(0.999);
    expect(r.budgetBurned).toBe(1);
    expect(r.met).toBe(true);
    expect(r.windows).toHaveLength(1);
    expect(r.windows[0]!.burnRate).toBe(1);
    slo.record(60_000, true, 201); // one more bad, too slow, in a new window
    const after = slo.report(60_000);
    expect(after.met).toBe(false);
    expect(after.windows).toHaveLength(2);
    expect(after.windows[1]).toMatchObject({ start: 60_000, end: 60_000, total: 1, bad: 1, burnRate: 1000 });
  });

  it('with no requests everything is compliant and nothing is burned', () => {
    const r = new SloTracker({ latencyTargetMs: 5, availabilityTarget: 0.99, window: 100 }).report(250);
    expect(r).toMatchObject({ total: 0, good: 0, compliance: 1, budgetBurned: 0, met: true });
    expect(r.windows.map((w) => [w.start, w.end, w.total])).toEqual([
      [0, 100, 0],
      [100, 200, 0],
      [200, 250, 0],
    ]);
  });

  it('records driven by a simulation clock, independent of recording order', () => {
    const sim = new Simulation();
    const a = new SloTracker({ latencyTargetMs: 50, availabilityTarget: 0.95, window: '500ms' });
    const b = new SloTracker({ latencyTargetMs: 50, availabilityTarget: 0.95, window: '500ms' });
    const requests: [number, boolean, number][] = [];
    for (let i = 0; i < 40; i++) requests.push([i * 37, i % 9 !== 0, (i * 13) % 70]);
    for (const [t, ok, lat] of requests) sim.schedule(t, () => a.record(sim.now, ok, lat));
    sim.run();
    for (const [t, ok, lat] of [...requests].reverse()) b.record(t, ok, lat);
    expect(b.report(sim.now)).toEqual(a.report(sim.now));
    expect(a.total).toBe(40);
    expect(a.good).toBe(requests.filter(([, ok, lat]) => ok && lat <= 50).length);
  });
});

describe('SloTracker: bad input', () => {
  const base = { latencyTargetMs: 100, availabilityTarget: 0.99, window: '1m' };

  it('rejects a latency target that is negative, zero or not a number', () => {
    for (const latencyTargetMs of [-1, 0, Number.NaN, Infinity]) {
      const err = thrown(() => new SloTracker({ ...base, latencyTargetMs }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toMatch(/^SloTracker: latencyTargetMs must be/);
    }
  });

  it('rejects an availability target outside (0, 1)', () => {
    for (const availabilityTarget of [0, 1, 1.5, -0.1, Number.NaN]) {
      const err = thrown(() => new SloTracker({ ...base, availabilityTarget }));
      expect(err.details.field).toBe('availabilityTarget');
      expect(err.message).toContain('(0, 1)');
    }
  });

  it('rejects a window of 0 or one that does not parse', () => {
    expect(thrown(() => new SloTracker({ ...base, window: 0 })).message).toMatch(
      /^SloTracker: window must be/,
    );
    const abc = thrown(() => new SloTracker({ ...base, window: 'abc' }));
    expect(abc.code).toBe('INVALID_DURATION');
    expect(abc.message).toMatch(/^SloTracker: window must be/);
  });

  it('rejects bad records and a report before the latest record', () => {
    const slo = new SloTracker(base);
    expect(thrown(() => slo.record(-1, true, 5)).details.field).toBe('t');
    expect(thrown(() => slo.record(1, true)).details.field).toBe('latencyMs');
    expect(thrown(() => slo.record(1, false, -3)).details.field).toBe('latencyMs');
    expect(thrown(() => slo.record(1, 'yes' as unknown as boolean, 5)).details.field).toBe('ok');
    slo.record(500, true, 5);
    expect(thrown(() => slo.report(499)).details.field).toBe('now');
    expect(slo.total).toBe(1);
  });
});
