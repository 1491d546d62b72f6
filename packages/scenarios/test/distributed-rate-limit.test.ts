import { describe, expect, it } from 'vitest';
import '@dsim/scenarios/vitest';
import { distributedRateLimit } from '../src/catalogue/distributed-rate-limit.js';
import { runScenario } from '../src/scenario.js';

type Figures = Record<string, number | string | boolean | null>;

function byVariant(seed: number, params: Record<string, unknown> = {}, variants?: string[]) {
  const r = runScenario(distributedRateLimit, { seed, params, ...(variants ? { variants } : {}) });
  const by = Object.fromEntries(r.variants.map((v) => [v.name, v.outcome as Figures]));
  return { r, by };
}

const n = (v: Figures | undefined, key: string): number => v?.[key] as number;

describe('distributed-rate-limit scenario', () => {
  it('seed 1, defaults: accuracy and overhead of each design against theory', () => {
    const { r, by } = byVariant(1);
    expect(r).toPassChecks();
    // Defaults: 4 instances, 2000 per 10 s window, offered 2 × the limit (400/s), 2 windows per phase.
    const limitPerPhase = 2 * 2000;
    const offered = new Set(r.variants.map((v) => v.outcome.offered));
    expect(offered.size).toBe(1); // common random numbers: the same arrivals for every design

    // Local share (500 each): exact under even load, short under skew by about 2000 − 500 − 3 × 400.
    const local = by.local!;
    expect(n(local, 'evenAdmitted')).toBe(limitPerPhase);
    expect(n(local, 'evenOver') + n(local, 'skewedOver') + n(local, 'partitionOver')).toBe(0);
    expect(n(local, 'theoryLocalUnderPerWindow')).toBe(300);
    expect(Math.abs(n(local, 'skewedUnder') / 2 - 300)).toBeLessThan(100);
    expect(n(local, 'partitionAdmitted')).toBe(limitPerPhase); // no store, no failure mode
    // The whole limit on each instance: every request passes (each gets 1000 per window, under 2000).
    const unsplit = by['local-unsplit']!;
    expect(n(unsplit, 'evenAdmitted')).toBe(n(unsplit, 'evenOffered'));
    expect(n(unsplit, 'evenOver')).toBe(n(unsplit, 'evenOffered') - limitPerPhase);

    // Central: exact while the store answers, at the price of one round trip (1 ms + 0.05 ms service).
    for (const name of ['central-fail-open', 'central-fail-closed']) {
      const c = by[name]!;
      expect(
        n(c, 'evenOver') + n(c, 'evenUnder') + n(c, 'skewedOver') + n(c, 'skewedUnder'),
      ).toBeLessThanOrEqual(2);
      expect(n(c, 'meanAddedLatencyMs')).toBeGreaterThanOrEqual(1.05);
      expect(n(c, 'meanAddedLatencyMs')).toBeLessThan(1.06);
      expect(n(c, 'partitionMeanLatencyMs')).toBeCloseTo(20, 6);
      expect(Math.abs(n(c, 'storeLoadPerSecond') - 400)).toBeLessThan((4 * Math.sqrt(400 * 40)) / 40 + 1);
    }
    expect(n(by['central-fail-open'], 'partitionAdmitted')).toBe(
      n(by['central-fail-open'], 'partitionOffered'),
    );
    expect(n(by['central-fail-closed'], 'partitionAdmitted')).toBe(0);
    expect(n(by['central-fail-closed'], 'partitionUnder')).toBe(limitPerPhase);

    // Synced: no added latency, never under-admits, over-admits in proportion to the interval.
    const fast = by['synced-100ms']!;
    const slow = by['synced-1s']!;
    for (const v of [fast, slow]) {
      expect(n(v, 'meanAddedLatencyMs')).toBe(0);
      expect(n(v, 'evenUnder') + n(v, 'skewedUnder')).toBe(0);
      expect(n(v, 'maxOverPerWindow')).toBeLessThanOrEqual(n(v, 'overBoundPerWindow'));
      // The worst-case bound is the right order: the even-load figure is at least a quarter of it.
      expect(n(v, 'evenOver') / 2).toBeGreaterThan(n(v, 'overBoundPerWindow') / 4);
    }
    expect(n(fast, 'overBoundPerWindow')).toBeCloseTo(400 * (0.2 + 0.00105), 9);
    const ratio = n(slow, 'evenOver') / n(fast, 'evenOver');
    expect(ratio).toBeGreaterThan(5);
    expect(ratio).toBeLessThan(15);
    // The store: one sync per instance per interval.
    expect(n(fast, 'storeLoadPerSecond')).toBeCloseTo(40, 0);
    expect(n(slow, 'storeLoadPerSecond')).toBeCloseTo(4, 0);
  });

  it.each([2, 3, 4])('seed %i (one window per phase): every check holds', (seed) => {
    const { r, by } = byVariant(seed, { windowsPerPhase: 1 });
    expect(r).toPassChecks();
    for (const v of r.variants) expect(v.metrics.ok + v.metrics.failed).toBe(v.outcome.offered);
    expect(n(by['synced-1s'], 'evenOver')).toBeGreaterThan(n(by['synced-100ms'], 'evenOver'));
  });

  it('negative controls: the bound and the skew comparison discriminate', () => {
    // The 1 s interval's over-admission breaks the bound a 100 ms interval would claim: a model that
    // synced ten times less often than configured would fail the bound check.
    const { by } = byVariant(5, { windowsPerPhase: 1 }, ['synced-100ms', 'synced-1s']);
    expect(n(by['synced-1s'], 'maxOverPerWindow')).toBeGreaterThan(
      n(by['synced-100ms'], 'overBoundPerWindow'),
    );
    // With an even split in the "skewed" phase the local share is exact: theory predicts no
    // under-admission, local measures none, and the comparison is not claimed.
    const even = byVariant(5, { windowsPerPhase: 1, skew: 0.25 }, ['local', 'central-fail-open']);
    expect(even.r).toPassChecks();
    expect(n(even.by.local, 'theoryLocalUnderPerWindow')).toBe(0);
    expect(n(even.by.local, 'skewedUnder')).toBe(0);
    expect(even.r.checks.some((c) => c.name.includes('local share under-admits'))).toBe(false);
    // A single instance: synced counting is exact (bound 0) and nothing is over-admitted.
    const alone = byVariant(5, { windowsPerPhase: 1, instances: 1 }, ['synced-1s']);
    expect(alone.r).toPassChecks();
    expect(n(alone.by['synced-1s'], 'overBoundPerWindow')).toBe(0);
    expect(n(alone.by['synced-1s'], 'evenOver') + n(alone.by['synced-1s'], 'skewedOver')).toBe(0);
  });

  it('is deterministic: same seed, same digest and outcome', () => {
    const params = { windowsPerPhase: 1, limit: 500, windowSeconds: 2 };
    const a = runScenario(distributedRateLimit, { seed: 9, params });
    const b = runScenario(distributedRateLimit, { seed: 9, params });
    expect(b.digest).toBe(a.digest);
    expect(b.variants.map((v) => v.outcome)).toEqual(a.variants.map((v) => v.outcome));
  });

  it('rejects bad parameters with the field name', () => {
    expect(() => runScenario(distributedRateLimit, { seed: 1, params: { instances: 0 } })).toThrow(
      /instances/,
    );
    expect(() => runScenario(distributedRateLimit, { seed: 1, params: { skew: 1.5 } })).toThrow(/skew/);
    expect(() => runScenario(distributedRateLimit, { seed: 1, params: { load: 0 } })).toThrow(/load/);
    expect(() =>
      runScenario(distributedRateLimit, {
        seed: 1,
        params: { limit: 1_000_000, windowSeconds: 0.1, windowsPerPhase: 10 },
      }),
    ).toThrow(/load × limit × 3 × windowsPerPhase/);
    expect(() =>
      runScenario(distributedRateLimit, { seed: 1, params: { limit: 3 }, variants: ['local'] }),
    ).toThrow(/the local design needs limit >= instances/);
  });
});
